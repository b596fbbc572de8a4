-- Routed by type through the regex (?<routedByValue>.*)Created -> events.${routedByValue}.
-- Every statement is its own transaction, except the BEGIN ... COMMIT block of three rows.
-- 1. matches: OrderCreated -> events.Order
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated',
  '{"orderId": 1}', 'acme');
-- 2. does not match the regex
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000002', 'Order', 'order-1', 'OrderShipped',
  '{"orderId": 1}', 'acme');
-- 3. NULL payload with route.tombstone.on.empty.payload=true
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000003', 'Order', 'order-2', 'OrderCreated',
  NULL, 'globex');
-- 4. NULL tenant (the key column)
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000004', 'Order', 'order-3', 'OrderCreated',
  '{"orderId": 3}', NULL);
-- 5-7. one transaction of three rows: another matching type, a non-matching one, an empty-prefix match
BEGIN;
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000005', 'Customer', 'customer-a', 'CustomerCreated',
  '{"name": "A"}', 'initech');
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000006', 'Customer', 'customer-b', 'CustomerDeleted',
  '{"name": "B"}', 'umbrella');
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000007', 'Customer', 'customer-c', 'Created',
  '{"name": "C"}', 'hooli');
COMMIT;
-- 8. last
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000008', 'Order', 'order-4', 'OrderCreated',
  '{"last": true}', 'acme');
