-- The seed project's outbox table.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE TABLE public.outbox_events (
  id uuid DEFAULT uuid_generate_v4() PRIMARY KEY,
  aggregate_id text NOT NULL,
  aggregate_type text NOT NULL,
  event_type text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz DEFAULT now()
);
