-- Protocol 4 with streaming = parallel: a small transaction, a large committed one (Stream Start/Stop/Commit, in-stream xids on Message, Relation, Update, Insert) with a non-transactional message between its blocks, and another small one.
-- Captured by scripts/capture-pgoutput-fixtures into proto4_parallel_streaming.hex.
-- Slot: pgoutput, twophase => false; options: proto_version '4', publication_names 'pub', 'streaming', 'parallel', 'messages', 'true'

-- setup (before the slot exists)
CREATE TABLE public.bulk (id integer PRIMARY KEY, filler text);
CREATE TABLE public.side (id integer PRIMARY KEY, label text);
INSERT INTO side VALUES (1, 'one');

-- captured changes
-- Small: sent as an ordinary Begin ... Commit block, no xid prefix.
INSERT INTO side VALUES (2, 'two');
-- Large (about 90kB > logical_decoding_work_mem): streamed, then Stream Commit. The non-transactional
-- message is sent when it is decoded, between two streamed blocks of the open transaction, without an xid.
BEGIN;
SELECT pg_logical_emit_message(true, 'stream', 'in a streamed transaction');
UPDATE side SET label = 'uno' WHERE id = 1;
INSERT INTO bulk SELECT g, repeat('x', 290) || g FROM generate_series(1, 200) AS g;
SELECT pg_logical_emit_message(false, 'progress', 'sent while the transaction is open');
INSERT INTO bulk SELECT g, repeat('x', 290) || g FROM generate_series(201, 300) AS g;
COMMIT;
-- Small again, after the streamed one.
INSERT INTO side VALUES (3, 'three');
