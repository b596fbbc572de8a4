-- Protocol 1 with messages: a transactional logical message inside a transaction, then a non-transactional one.
-- Captured by scripts/capture-pgoutput-fixtures into proto1_messages.hex.
-- Slot: pgoutput, twophase => false; options: proto_version '1', publication_names 'pub', 'messages', 'true'

-- setup (before the slot exists)
CREATE TABLE public.events (id integer PRIMARY KEY);

-- captured changes
BEGIN;
INSERT INTO events VALUES (1);
SELECT pg_logical_emit_message(true, 'outbox', 'transactional content');
COMMIT;
SELECT pg_logical_emit_message(false, 'heartbeat', '\x00ff10'::bytea);
-- A later commit flushes the WAL holding the non-transactional message, so decoding reaches it.
INSERT INTO events VALUES (2);
