-- Every statement is its own transaction, except the BEGIN ... COMMIT block of three rows.
-- created_at (timestamp without time zone -> io.debezium.time.MicroTimestamp) carries microseconds on purpose;
-- part is the target partition (0..3).
-- 1. every placed field set
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated',
  '{"orderId": 1}', '2024-05-06 07:08:09.123456', 3, 'acme', 2);
-- 2. NULL payload and NULL schema_version
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000002', 'Order', 'order-2', 'OrderShipped',
  NULL, '2024-05-06 07:08:09', NULL, 'globex', 0);
-- 3. NULL aggregateid, created_at, tenant and part
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000003', 'Order', NULL, 'OrderOrphaned',
  '{"orphan": true}', NULL, 1, NULL, NULL);
-- 4. a second aggregate type, a millisecond timestamp
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000004', 'Customer', 'customer-a', 'CustomerCreated',
  '{"n": [1, 2]}', '1999-12-31 23:59:59.999', 2, 'acme', 3);
-- 5-7. one transaction of three rows
BEGIN;
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000005', 'Customer', 'customer-b', 'CustomerCreated',
  '{"name": "B"}', '2030-01-01 00:00:00', 1, 'acme', 1);
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000006', 'Customer', 'customer-c', 'CustomerCreated',
  '{"name": "C"}', '2030-01-01 00:00:00.000001', 1, 'initech', 1);
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000007', 'Customer', 'customer-d', 'CustomerCreated',
  '{"name": "D"}', '2030-01-01 00:00:00.0009', 1, 'globex', NULL);
COMMIT;
