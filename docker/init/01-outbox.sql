-- The demo database's outbox, and outbox-cdc's least-privilege role.
--
-- The postgres image runs this file once, when it initialises an empty data directory. It runs as the
-- superuser (POSTGRES_USER) in POSTGRES_DB, through psql, so psql's \set and \gexec work here. To run it
-- again, remove the data volume: docker compose -f docker/compose.yaml down -v
--
-- The superuser creates the table, so it owns it, and so it creates the publication too: creating a
-- publication FOR TABLE takes ownership of the table. outbox-cdc's role only reads.

-- The role's password comes from the compose secret that outbox-cdc reads too (OUTBOX_CDC_DB_PASSWORD_FILE
-- there). The environment variable OUTBOX_CDC_PASSWORD_FILE names the file. psql hands the backquoted
-- command to the shell and keeps its output without the trailing newline.
\set outbox_cdc_password `cat "$OUTBOX_CDC_PASSWORD_FILE"`

-- Logs in, may open replication connections (and so create and read logical slots), nothing more: no
-- superuser, no CREATEDB, no CREATEROLE.
CREATE ROLE outbox_cdc WITH LOGIN REPLICATION PASSWORD :'outbox_cdc_password';
\unset outbox_cdc_password

-- The outbox table, in the layout of Debezium's Outbox Event Router (outbox-cdc's default table format).
-- The topic is outbox.event.<aggregatetype>, the key is aggregateid, the value is payload.
CREATE TABLE public.outbox (
    id            uuid        PRIMARY KEY,
    aggregatetype text        NOT NULL,
    aggregateid   text        NOT NULL,
    type          text        NOT NULL,
    payload       jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Only INSERTs are decoded and sent; updates and deletes of outbox rows never leave the server.
CREATE PUBLICATION outbox_pub FOR TABLE public.outbox WITH (publish = 'insert');

-- Least grants. CONNECT on this database only: PUBLIC loses its default CONNECT here, so that roles have
-- to be let in by name (the superuser is not affected).
SELECT format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO outbox_cdc', current_database()) \gexec
-- PUBLIC keeps USAGE on schema public by default; granted by name so that it survives a REVOKE.
GRANT USAGE ON SCHEMA public TO outbox_cdc;
-- SELECT on the outbox table: the handover snapshot of a new slot reads it.
GRANT SELECT ON public.outbox TO outbox_cdc;
