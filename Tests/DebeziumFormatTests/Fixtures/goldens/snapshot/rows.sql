-- A row inserted after streaming started.
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000003', 'Order', 'order-3', 'OrderCreated', '{"streamed": 3}');
