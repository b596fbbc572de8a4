-- One outbox row; then the connector runs for the settle period, running the heartbeat action query.
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated', '{"n": 1}');
