-- Logical decoding messages next to outbox inserts; message.prefix.include.list is unset.
-- 1. an insert
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated', '{"n": 1}');
-- 2. a transactional message on its own (autocommit)
SELECT pg_logical_emit_message(true, 'outbox', '{"a":1}');
-- 3. a non-transactional message
SELECT pg_logical_emit_message(false, 'outbox', 'non-transactional');
-- 4. a transaction with an insert, a transactional message with another prefix, and a binary message
BEGIN;
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000002', 'Order', 'order-2', 'OrderCreated', '{"n": 2}');
SELECT pg_logical_emit_message(true, 'other', 'in a transaction');
SELECT pg_logical_emit_message(true, 'outbox', '\x00ff'::bytea);
COMMIT;
-- 5. last
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000003', 'Order', 'order-3', 'OrderCreated', '{"n": 3}');
