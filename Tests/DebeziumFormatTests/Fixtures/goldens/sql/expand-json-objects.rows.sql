-- Only JSON objects: a top-level array or scalar, or an integer beyond 64 bits, kills the task under
-- expand.json.payload (see the case expand-json-fatal and README.md).
-- Every statement is its own transaction, except the BEGIN ... COMMIT block of three rows.
-- 1. nested objects and arrays, numbers of several kinds, unicode
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated',
  '{"id": 1, "name": "Zoë 😀 \"q\"", "price": 12.50, "rate": 1.5e3, "long": 3000000000, "ok": true, "none": null, "nested": {"a": [1, 2, 3], "b": {"c": "d"}}, "tags": ["x", "y"]}');
-- 2. a NULL payload
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000002', 'Order', 'order-2', 'OrderCancelled', NULL);
-- 3. an empty object, an empty array and a null inside
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000003', 'Order', 'order-3', 'OrderNoted',
  '{"empty": {}, "list": [], "n": null, "s": "x"}');
-- 4-6. one transaction of three rows: an empty object; integers, decimals and exponents; an array of objects
--      with differing fields
BEGIN;
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000004', 'Customer', 'customer-a', 'CustomerCreated', '{}');
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000005', 'Customer', 'customer-b', 'CustomerCreated',
  '{"i": 1, "d": 1.0, "neg": -7, "e": 1e-3, "f": 0.1}');
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000006', 'Customer', 'customer-c', 'CustomerCreated',
  '{"items": [{"a": 1}, {"b": "x"}, {"a": 2, "c": null}]}');
COMMIT;
-- 7. an array of mixed element types (schema inference fails: published unexpanded?)
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000007', 'Customer', 'customer-d', 'CustomerNoted',
  '{"mixed": [1, "two", null]}');
-- 8. an array of int and double
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000008', 'Customer', 'customer-e', 'CustomerNoted',
  '{"nums": [1, 2.5]}');
-- 9. keys that are not valid Avro/Connect field names, and an array of arrays
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000009', 'Customer', 'customer-f', 'CustomerNoted',
  '{"a-b": 1, "1x": 2, "é": 3, "": 4, "m": [[1, 2], [3]]}');
-- 10. last
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-00000000000a', 'Customer', 'customer-g', 'CustomerCreated',
  '{"last": true}');
