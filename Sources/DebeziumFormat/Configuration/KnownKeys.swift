/// The connector keys that outbox-cdc accepts silently although it does not read them: settings of Kafka
/// Connect, of Debezium, and of the Debezium Server engine that either have no counterpart in outbox-cdc
/// (topic creation, schema history, signalling, snapshots, error tolerance) or only shape change events
/// that the EventRouter discards (decimal, time and binary handling of non-outbox columns).
///
/// Every key that is neither read by `DebeziumSettings` nor listed here is reported in
/// `DebeziumSettings.unknownKeys`, so that a typo or an unsupported feature is seen in one warning. This is
/// the single place to change what counts as known.
enum KnownKeys {
    static let exact: Set<String> = [
        // Kafka Connect, connector level.
        "name", "tasks.max", "tasks.max.enforce", "config.action.reload", "exactly.once.support",
        "transaction.boundary", "transaction.boundary.interval.ms", "offsets.storage.topic",
        "connector.plugin.version", "predicates",
        // Debezium, all connectors.
        "topic.delimiter", "topic.naming.strategy", "topic.cache.size", "topic.heartbeat.prefix",
        "topic.transaction", "heartbeat.topics.prefix", "max.batch.size", "max.queue.size",
        "max.queue.size.in.bytes", "poll.interval.ms", "tombstones.on.delete", "include.unknown.datatypes",
        "decimal.handling.mode", "time.precision.mode", "binary.handling.mode", "schema.name.adjustment.mode",
        "field.name.adjustment.mode", "event.processing.failure.handling.mode",
        "event.converting.failure.handling.mode", "provide.transaction.metadata",
        "retriable.restart.connector.wait.ms", "sourceinfo.struct.maker", "converters", "post.processors",
        "custom.metric.tags", "query.fetch.size", "skip.messages.without.change", "column.include.list",
        "column.exclude.list", "column.propagate.source.type", "datatype.propagate.source.type",
        "message.key.columns", "streaming.delay.ms", "executor.shutdown.timeout.ms",
        "connection.validation.timeout.ms", "custom.sanitize.pattern", "include.schema.changes",
        "include.schema.comments", "table.ignore.builtin",
        // Debezium 1.x's name for topic.prefix; still seen in migrated files.
        "database.server.name",
        // Debezium PostgreSQL connector.
        "hstore.handling.mode", "interval.handling.mode", "money.fraction.digits", "schema.refresh.mode",
        "replica.identity.autoset.values", "publish.via.partition.root", "slot.max.retries",
        "slot.retry.delay.ms", "slot.failover", "offset.mismatch.strategy", "lsn.flush.mode",
        "lsn.flush.timeout.ms", "lsn.flush.timeout.action", "flush.lsn.source", "xmin.fetch.interval.ms",
        "read.only", "unavailable.value.placeholder", "database.query.timeout.ms", "database.sslfactory",
        "create.slot.command.timeout", "schema.history.internal",
        // The Debezium engine under Debezium Server (`debezium.source.offset.*`).
        "offset.storage", "offset.flush.interval.ms", "offset.flush.timeout.ms", "offset.commit.policy",
    ]

    static let prefixes: [String] = [
        "errors.", "topic.creation.", "schema.history.internal.", "signal.", "notification.", "snapshot.",
        "incremental.snapshot.", "column.mask.", "column.truncate.to.", "offset.storage.", "consumer.override.",
        "admin.override.", "internal.", "predicates.", "record.processing.",
    ]

    /// Whether `key` is known but not read. `dynamicPrefixes` are the `<name>.` prefixes of the custom
    /// converters and post processors the config declares (`converters=isbn` makes `isbn.type` known).
    static func isKnown(_ key: String, dynamicPrefixes: [String]) -> Bool {
        exact.contains(key) || prefixes.contains(where: key.hasPrefix) || dynamicPrefixes.contains(where: key.hasPrefix)
    }
}
