-- The partitioned outbox of ../sql/outbox-partitioned.setup.sql, plus the publication made by hand before Debezium
-- starts: FOR TABLE the partitioned parent, WITH (publish_via_partition_root = true), so pgoutput reports the
-- partitions' changes as changes of public.outbox. Its name is the one the capture script gives Debezium
-- (publication.name=dbz_golden_pub); dropping the database drops it.
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
CREATE PUBLICATION dbz_golden_pub FOR TABLE public.outbox WITH (publish_via_partition_root = true);
