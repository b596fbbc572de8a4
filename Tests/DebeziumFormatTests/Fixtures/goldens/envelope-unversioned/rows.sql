-- Envelope placement without table.field.event.schema.version, two aggregate types (Order first);
-- int, timestamp and boolean columns placed as headers.
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated',
  '{"n": 1}', 'acme', 42, '2024-05-06 07:08:09.123456', true);
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000002', 'Customer', 'customer-a', 'CustomerCreated',
  '{"n": 2}', 'globex', -1, '1970-01-01 00:00:00', false);
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000003', 'Order', 'order-2', 'OrderCreated',
  NULL, NULL, NULL, NULL, NULL);
