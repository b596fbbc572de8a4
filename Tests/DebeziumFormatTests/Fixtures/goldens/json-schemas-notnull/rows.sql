INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated', '{"n": 1}');
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000002', 'Order', 'order-2', 'OrderCreated', '[]');
