-- Protocol 4 with streaming = parallel, every change streamed at once: Stream Abort with abort LSN and time for a rolled-back transaction and for a rolled-back savepoint whose transaction then commits (Stream Commit).
-- Captured by scripts/capture-pgoutput-fixtures into proto4_stream_abort.hex.
-- Slot: pgoutput, twophase => false; options: proto_version '4', publication_names 'pub', 'streaming', 'parallel', 'messages', 'true'
-- Decoding session: SET debug_logical_replication_streaming = immediate;

-- setup (before the slot exists)
CREATE TABLE public.bulk (id integer PRIMARY KEY, filler text);

-- captured changes
-- Small and committed: streamed as well in this mode, then Stream Commit. Decoding it fills the decoding
-- session's caches, so that streaming the rolled-back transaction below needs no catalog lookup; one would
-- notice the abort and cut its blocks short.
INSERT INTO bulk VALUES (1, 'committed');
-- Rolled back: streamed, then Stream Abort for the top-level transaction (subtransaction xid = xid).
BEGIN;
SELECT pg_logical_emit_message(true, 'abort', 'in a rolled-back transaction');
INSERT INTO bulk VALUES (11, 'rolled back'), (12, 'rolled back'), (13, 'rolled back');
ROLLBACK;
-- A subtransaction rolled back after its changes were streamed, then the top level commits: Stream Abort
-- with the subtransaction's xid, then Stream Commit. The savepoint survives ROLLBACK TO, so the last
-- Insert runs in another new subtransaction.
BEGIN;
INSERT INTO bulk VALUES (21, 'kept');
SAVEPOINT sp;
INSERT INTO bulk VALUES (31, 'rolled back to savepoint'), (32, 'rolled back to savepoint'), (33, 'rolled back to savepoint');
ROLLBACK TO SAVEPOINT sp;
INSERT INTO bulk VALUES (22, 'kept');
COMMIT;
