-- Protocol 1: Begin, Relation, two Inserts (text, nulls, jsonb, bytea, uuid, numeric, varchar, bool, timestamptz), Commit.
-- Captured by scripts/capture-pgoutput-fixtures into proto1_basic.hex.
-- Slot: pgoutput, twophase => false; options: proto_version '1', publication_names 'pub'

-- setup (before the slot exists)
CREATE TABLE public.basic (
  id integer PRIMARY KEY,
  name text NOT NULL,
  note text,
  payload jsonb,
  blob bytea,
  uid uuid,
  price numeric(10,2),
  code varchar(20),
  flag boolean,
  created_at timestamptz
);

-- captured changes
BEGIN;
INSERT INTO basic VALUES
  (1, 'first', 'héllo wörld', '{"a": 1, "b": [true, null]}', '\xdeadbeef00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   1234.50, 'CODE-1', true, '2024-01-02 03:04:05.678901+00');
INSERT INTO basic (id, name) VALUES (2, 'second');
COMMIT;
