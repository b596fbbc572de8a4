-- The standard outbox table, and a table the heartbeat action query writes to (not in table.include.list).
CREATE TABLE public.outbox (
  id uuid PRIMARY KEY,
  aggregatetype varchar(255) NOT NULL,
  aggregateid varchar(255),
  type varchar(255) NOT NULL,
  payload jsonb
);
CREATE TABLE public.heartbeat (id serial PRIMARY KEY, ts timestamptz NOT NULL);
