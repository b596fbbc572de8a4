-- The task dies on the first row: no record is published.
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated',
  '{"orderId": 1}', '2024-05-06 07:08:09.123456+02');
