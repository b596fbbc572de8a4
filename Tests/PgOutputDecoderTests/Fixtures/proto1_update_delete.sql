-- Protocol 1: Updates and Deletes with the default replica identity (no old tuple, then 'K' on a key change) and REPLICA IDENTITY FULL ('O').
-- Captured by scripts/capture-pgoutput-fixtures into proto1_update_delete.hex.
-- Slot: pgoutput, twophase => false; options: proto_version '1', publication_names 'pub'

-- setup (before the slot exists)
CREATE TABLE public.keyed (id integer PRIMARY KEY, label text);
CREATE TABLE public.full_row (id integer, label text);
ALTER TABLE public.full_row REPLICA IDENTITY FULL;
INSERT INTO keyed VALUES (1, 'one'), (2, 'two');
INSERT INTO full_row VALUES (1, 'one'), (2, 'two');

-- captured changes
UPDATE keyed SET label = 'uno' WHERE id = 1;
UPDATE keyed SET id = 10 WHERE id = 2;
DELETE FROM keyed WHERE id = 1;
UPDATE full_row SET label = 'uno' WHERE id = 1;
DELETE FROM full_row WHERE id = 2;
