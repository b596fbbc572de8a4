-- The outbox table range-partitioned by created_at (two partitions). The primary key of a partitioned table
-- must contain the partition key, hence (id, created_at); created_at is timestamptz with a default, as a
-- time-partitioned outbox would have it. No publication: the connector config decides it (see the cases).
CREATE TABLE public.outbox (
  id uuid NOT NULL,
  aggregatetype varchar(255) NOT NULL,
  aggregateid varchar(255) NOT NULL,
  type varchar(255) NOT NULL,
  payload jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE public.outbox_d1 PARTITION OF public.outbox FOR VALUES FROM ('2026-01-01') TO ('2026-06-01');
CREATE TABLE public.outbox_d2 PARTITION OF public.outbox FOR VALUES FROM ('2026-06-01') TO ('2027-01-01');
