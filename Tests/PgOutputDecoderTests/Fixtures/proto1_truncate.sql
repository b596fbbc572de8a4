-- Protocol 1: a plain TRUNCATE, then TRUNCATE ... RESTART IDENTITY CASCADE reaching a referencing table.
-- Captured by scripts/capture-pgoutput-fixtures into proto1_truncate.hex.
-- Slot: pgoutput, twophase => false; options: proto_version '1', publication_names 'pub'

-- setup (before the slot exists)
CREATE TABLE public.parent (id serial PRIMARY KEY);
CREATE TABLE public.child (id serial PRIMARY KEY, parent_id integer REFERENCES parent (id));
CREATE TABLE public.standalone (id integer);
INSERT INTO parent DEFAULT VALUES;
INSERT INTO child (parent_id) VALUES (1);
INSERT INTO standalone VALUES (1);

-- captured changes
TRUNCATE standalone;
TRUNCATE parent RESTART IDENTITY CASCADE;
