-- Every statement is its own transaction, except the BEGIN ... COMMIT block of three rows.
-- 1. a simple JSON object, written with irregular spacing (jsonb stores its own canonical form)
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated',
   '{"orderId":1,"status":"NEW",  "items" : [ ]}');
-- 2. nested object: unicode (é, emoji, CJK), quotes, backslashes, newline/tab escapes, </script>,
--    \u escapes, an escaped slash, numbers with decimals and exponents, a big integer, true/null
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000002', 'Order', 'order-2', 'OrderCreated',
   $json${"customer": {"name": "Zoë \"Zed\" O'Brien 😀 日本語", "path": "C:\\temp\\new", "note": "line1\nline2\ttab </script>", "esc": "\u00e9\u0041\/\u2028"}, "amount": 12.50, "rate": 1.5e3, "tiny": -2.5E-7, "big": 12345678901234567890123, "flags": {"ok": true, "none": null}}$json$);
-- 3. a JSON array
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000003', 'Order', 'order-3', 'OrderItemsAdded',
   '[1, "two", {"three": 3.0}, [4], null, false]');
-- 4. a JSON string scalar
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000004', 'Order', 'order-4', 'OrderNoted', '"just a \"string\""');
-- 5. a JSON number scalar (exponent form)
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000005', 'Order', 'order-5', 'OrderTotalled', '1.250e1');
-- 6. a NULL payload
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000006', 'Order', 'order-6', 'OrderCancelled', NULL);
-- 7. a NULL aggregateid (the record key is null)
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000007', 'Order', NULL, 'OrderOrphaned', '{"orphan": true}');
-- 8-10. one transaction of three rows, second aggregate type (second topic)
BEGIN;
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000008', 'Customer', 'customer-a', 'CustomerCreated', '{"name": "A"}');
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-000000000009', 'Customer', 'customer-b', 'CustomerCreated', '{"name": "B"}');
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-00000000000a', 'Customer', 'customer-c', 'CustomerCreated', '{"name": "C"}');
COMMIT;
-- An UPDATE and a DELETE: the EventRouter publishes nothing for them.
UPDATE public.outbox SET payload = '{"orderId": 1, "status": "PAID"}' WHERE id = '00000000-0000-4000-8000-000000000001';
DELETE FROM public.outbox WHERE id = '00000000-0000-4000-8000-000000000002';
-- 11. a last insert, so that the capture knows the UPDATE and DELETE were processed before it
INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES
  ('00000000-0000-4000-8000-00000000000b', 'Customer', 'customer-d', 'CustomerCreated', '{"last": true}');
