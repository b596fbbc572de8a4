-- Protocol 1: an Update of another column leaves the out-of-line TOASTed body unchanged ('u').
-- Captured by scripts/capture-pgoutput-fixtures into proto1_toast.hex.
-- Slot: pgoutput, twophase => false; options: proto_version '1', publication_names 'pub'

-- setup (before the slot exists)
CREATE TABLE public.documents (id integer PRIMARY KEY, title text, body text);
-- EXTERNAL: out of line and uncompressed, so 2,400 repeated characters are enough to leave the heap tuple.
ALTER TABLE public.documents ALTER COLUMN body SET STORAGE EXTERNAL;
INSERT INTO documents VALUES (1, 'draft', repeat('lorem ipsum ', 200));

-- captured changes
UPDATE documents SET title = 'final' WHERE id = 1;
