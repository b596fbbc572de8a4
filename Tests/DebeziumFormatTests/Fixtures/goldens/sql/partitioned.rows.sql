-- Six rows in three transactions, written to the partitioned parent public.outbox; PostgreSQL routes each row
-- to outbox_d1 (created_at before 2026-06-01) or outbox_d2. Explicit ids and created_at (psql runs with PGTZ=UTC).
-- 1. one row, its own transaction -> outbox_d1
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload, created_at) VALUES
  ('00000000-0000-4000-8000-000000000101', 'Order', 'order-1', 'OrderCreated', '{"orderId": 1, "part": "d1"}',
   '2026-02-01 10:00:00+00');
-- 2-4. one transaction spanning both partitions and three aggregate types: d2, d1, d2
BEGIN;
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload, created_at) VALUES
  ('00000000-0000-4000-8000-000000000102', 'Order', 'order-2', 'OrderCreated', '{"orderId": 2, "part": "d2"}',
   '2026-07-15 12:30:00+00');
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload, created_at) VALUES
  ('00000000-0000-4000-8000-000000000103', 'Customer', 'customer-a', 'CustomerCreated', '{"name": "A", "part": "d1"}',
   '2026-05-31 23:59:59.999999+00');
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload, created_at) VALUES
  ('00000000-0000-4000-8000-000000000104', 'Shipment', 'shipment-x', 'ShipmentDispatched', '{"carrier": "DHL", "part": "d2"}',
   '2026-06-01 00:00:00+00');
COMMIT;
-- 5-6. one multi-row INSERT (one statement, one transaction) whose rows go to different partitions: d2, d1
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload, created_at) VALUES
  ('00000000-0000-4000-8000-000000000105', 'Customer', 'customer-b', 'CustomerCreated', '{"name": "B", "part": "d2"}',
   '2026-12-31 23:59:59+00'),
  ('00000000-0000-4000-8000-000000000106', 'Order', 'order-3', 'OrderShipped', '{"orderId": 3, "part": "d1"}',
   '2026-01-01 00:00:00+00');
