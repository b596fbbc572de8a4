-- The outbox-event-bus (waterdog-oss/ktor-event-bus 0.11) reference store's table, as Exposed 0.17.x's
-- SchemaUtils.create(EventTable) emits it on PostgreSQL: two statements, in this order, run only when the
-- table does not exist yet (Exposed sends them without the trailing semicolons). See README.md for the derivation.
CREATE TABLE IF NOT EXISTS recorded_events (id BIGSERIAL PRIMARY KEY, topic VARCHAR(255) NOT NULL, delivered BOOLEAN NOT NULL, uuid VARCHAR(36) NOT NULL, stored_timestamp TIMESTAMP NOT NULL, send_timestamp TIMESTAMP NULL, msg_type VARCHAR(255) NOT NULL, mime_type VARCHAR(255) NOT NULL, payload bytea NOT NULL);
ALTER TABLE recorded_events ADD CONSTRAINT recorded_events_uuid_unique UNIQUE (uuid);
