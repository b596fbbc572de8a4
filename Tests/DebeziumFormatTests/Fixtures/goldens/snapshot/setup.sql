-- The standard outbox table (payload jsonb).
CREATE TABLE public.outbox (
  id uuid PRIMARY KEY,
  aggregatetype varchar(255) NOT NULL,
  aggregateid varchar(255),
  type varchar(255) NOT NULL,
  payload jsonb
);

-- Rows that exist before Debezium starts: the initial snapshot (snapshot.mode=initial, the default) reads them.
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated', '{"snapshot": 1}');
INSERT INTO public.outbox VALUES ('00000000-0000-4000-8000-000000000002', 'Order', 'order-2', 'OrderCreated', '{"snapshot": 2}');
