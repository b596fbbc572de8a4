-- Protocol 3 with two_phase and streaming: Begin Prepare/Prepare/Commit Prepared, Rollback Prepared, and a streamed prepared transaction (Stream Prepare).
-- Captured by scripts/capture-pgoutput-fixtures into proto3_two_phase.hex.
-- Slot: pgoutput, twophase => true; options: proto_version '3', publication_names 'pub', 'two_phase', 'on', 'streaming', 'on'

-- setup (before the slot exists)
CREATE TABLE public.orders (id integer PRIMARY KEY, filler text);

-- captured changes
BEGIN;
INSERT INTO orders VALUES (1, 'committed later');
PREPARE TRANSACTION 'fixture-gid-commit';
COMMIT PREPARED 'fixture-gid-commit';
BEGIN;
INSERT INTO orders VALUES (2, 'rolled back later');
PREPARE TRANSACTION 'fixture-gid-rollback';
ROLLBACK PREPARED 'fixture-gid-rollback';
-- Large and prepared: streamed, then Stream Prepare, then Commit Prepared.
BEGIN;
INSERT INTO orders SELECT g, repeat('p', 290) || g FROM generate_series(100, 399) AS g;
PREPARE TRANSACTION 'fixture-gid-streamed';
COMMIT PREPARED 'fixture-gid-streamed';
