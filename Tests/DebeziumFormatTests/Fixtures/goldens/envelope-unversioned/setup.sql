-- The standard outbox columns plus columns placed into the value envelope and into headers.
CREATE TABLE public.outbox (
  id uuid PRIMARY KEY,
  aggregatetype varchar(255) NOT NULL,
  aggregateid varchar(255),
  type varchar(255) NOT NULL,
  payload jsonb,
  tenant varchar(64),
  seq int,
  created_at timestamp,
  flag boolean
);
