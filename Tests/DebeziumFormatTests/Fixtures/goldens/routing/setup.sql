-- The standard outbox columns plus tenant, used as the record key (table.field.event.key).
CREATE TABLE public.outbox (
  id uuid PRIMARY KEY,
  aggregatetype varchar(255) NOT NULL,
  aggregateid varchar(255),
  type varchar(255) NOT NULL,
  payload jsonb,
  tenant varchar(64)
);
