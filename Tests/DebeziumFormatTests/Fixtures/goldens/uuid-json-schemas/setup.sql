-- aggregateid and payload as uuid: the key's and the value's Connect schema for a uuid column.
CREATE TABLE public.outbox (
  id uuid PRIMARY KEY,
  aggregatetype varchar(255) NOT NULL,
  aggregateid uuid,
  type varchar(255) NOT NULL,
  payload uuid
);
