-- Binary mode: column values in each type's binary send format ('b'); NULL is still 'n'.
-- Captured by scripts/capture-pgoutput-fixtures into proto1_binary.hex.
-- Slot: pgoutput, twophase => false; options: proto_version '1', publication_names 'pub', 'binary', 'true'

-- setup (before the slot exists)
CREATE TABLE public.binary_values (id integer PRIMARY KEY, amount bigint, label text, uid uuid, flag boolean, missing text);

-- captured changes
INSERT INTO binary_values VALUES (7, -2, 'bin', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true, NULL);
