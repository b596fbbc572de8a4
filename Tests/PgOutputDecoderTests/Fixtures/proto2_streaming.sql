-- Protocol 2 with streaming: a small transaction, a large committed one (Stream Start/Stop/Commit, in-stream xids on Relation, Type, Message, Update, Delete, Insert, Truncate), a large rolled-back one and a rolled-back large subtransaction (Stream Abort).
-- Captured by scripts/capture-pgoutput-fixtures into proto2_streaming.hex.
-- Slot: pgoutput, twophase => false; options: proto_version '2', publication_names 'pub', 'streaming', 'on', 'messages', 'true'

-- setup (before the slot exists)
CREATE TYPE public.status AS ENUM ('new', 'done');
CREATE TABLE public.bulk (id integer PRIMARY KEY, state public.status, filler text);
CREATE TABLE public.side (id integer PRIMARY KEY, label text);
INSERT INTO side VALUES (1, 'one'), (2, 'two');

-- captured changes
-- Small: sent as an ordinary Begin ... Commit block, no xid prefix.
INSERT INTO side VALUES (3, 'three');
-- Large (about 90kB > logical_decoding_work_mem): streamed, then Stream Commit.
BEGIN;
SELECT pg_logical_emit_message(true, 'stream', 'in a streamed transaction');
UPDATE side SET label = 'uno' WHERE id = 1;
DELETE FROM side WHERE id = 2;
INSERT INTO bulk SELECT g, 'new', repeat('x', 290) || g FROM generate_series(1, 300) AS g;
TRUNCATE side;
COMMIT;
-- Large and rolled back: streamed, then Stream Abort for the top-level transaction. Decoded after the
-- rollback, the walsender notices the abort at a catalog lookup while streaming (here the enum's output
-- function) and cuts the block short: it holds only the Type and Relation messages.
BEGIN;
INSERT INTO bulk SELECT g, 'done', repeat('y', 290) || g FROM generate_series(1001, 1300) AS g;
ROLLBACK;
-- A large subtransaction rolled back inside a committed one: Stream Abort with a subtransaction xid.
BEGIN;
INSERT INTO bulk SELECT g, 'new', repeat('z', 290) || g FROM generate_series(2001, 2300) AS g;
SAVEPOINT sp;
INSERT INTO bulk SELECT g, 'new', repeat('w', 290) || g FROM generate_series(3001, 3300) AS g;
ROLLBACK TO SAVEPOINT sp;
COMMIT;
