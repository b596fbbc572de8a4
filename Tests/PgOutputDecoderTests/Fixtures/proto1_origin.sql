-- Protocol 1: a transaction replayed under replication origin 'upstream_a' (origin LSN 0/ABCDEF12) carries an Origin message.
-- Captured by scripts/capture-pgoutput-fixtures into proto1_origin.hex.
-- Slot: pgoutput, twophase => false; options: proto_version '1', publication_names 'pub'

-- setup (before the slot exists)
CREATE TABLE public.replicated (id integer PRIMARY KEY);
SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE roname = 'upstream_a';
SELECT pg_replication_origin_create('upstream_a');

-- captured changes
SELECT pg_replication_origin_session_setup('upstream_a');
BEGIN;
SELECT pg_replication_origin_xact_setup('0/ABCDEF12', '2024-01-02 03:04:05+00');
INSERT INTO replicated VALUES (1);
COMMIT;
SELECT pg_replication_origin_session_reset();
