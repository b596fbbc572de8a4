-- The standard outbox columns plus the fields placed by table.fields.additional.placement.
CREATE TABLE public.outbox (
  id uuid PRIMARY KEY,
  aggregatetype varchar(255) NOT NULL,
  aggregateid varchar(255),
  type varchar(255) NOT NULL,
  payload jsonb,
  created_at timestamp,  -- without time zone: see README.md (timestamptz kills the task)
  schema_version int,
  tenant varchar(64),
  part int
);
