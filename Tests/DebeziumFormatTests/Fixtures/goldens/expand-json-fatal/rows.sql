-- With expand.json.payload=true a payload that is not a JSON object kills the Connect task.
-- 1. an object: published
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated', '{"ok": 1}');
-- 2. a top-level array: the task dies here
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000002', 'Order', 'order-2', 'OrderItems', '[1, 2]');
-- 3. an object after it: never published
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000003', 'Order', 'order-3', 'OrderCreated', '{"ok": 3}');
