/// Which columns of the outbox table make which part of a Kafka record, which rows a polling relay would
/// still have to publish, how it marked what it published and how long it kept it. Built in for Debezium's
/// Outbox Event Router (the default) and the polling relays gox, goharvest, kafka-outbox-relay and
/// outbox-event-bus; `generic` names every column itself.
public struct OutboxTableFormat: Sendable, Equatable {
    /// Where the topic comes from.
    public enum TopicSource: Sendable, Equatable {
        /// `prefix` + the column's text: the Event Router's default `outbox.event.<aggregatetype>`.
        case prefixed(column: String, prefix: String)
        /// The column's text is the topic.
        case column(String)

        public var column: String {
            switch self {
            case .prefixed(let column, _), .column(let column): return column
            }
        }
    }

    /// Where the record's headers come from, beside the `id` header.
    public enum HeaderSource: Sendable, Equatable {
        case none
        /// A json or jsonb object, `{"name": "value", …}`, in the object's order.
        case jsonObject(column: String)
        /// A json or jsonb array of pairs, `[{"key": "name", "value": "value"}, …]` (gox).
        case jsonPairs(column: String)
        /// Two text arrays of equal length, names and values (goharvest).
        case textArrays(names: String, values: String)

        /// A json object whose string values become their bytes, numbers their literal text, and every
        /// other value (true, false, null, an object, an array) a header without a value (kafka-outbox-relay).
        case jsonObjectScalars(column: String)

        var columns: [String] {
            switch self {
            case .none: return []
            case .jsonObject(let column), .jsonPairs(let column), .jsonObjectScalars(let column): return [column]
            case .textArrays(let names, let values): return [names, values]
            }
        }
    }

    /// What the record value is made of.
    public enum ValueSource: Sendable, Equatable {
        /// The `value` column as it is.
        case column
        /// outbox-event-bus's envelope: Jackson's pretty-printed `{topic, uuid, timestamp, msgType, mimeType,
        /// payload}`, with the publication time and the `value` column (bytea) decoded as UTF-8.
        case outboxEventBusEnvelope(uuid: String, messageType: String, mimeType: String)

        var columns: [String] {
            switch self {
            case .column: return []
            case .outboxEventBusEnvelope(let uuid, let messageType, let mimeType): return [uuid, messageType, mimeType]
            }
        }
    }

    /// How the old relay marks a row it has published (`--mark-published`), by the format's event id column
    /// (its primary key).
    public enum PublishedMark: Sendable, Equatable {
        /// `UPDATE … SET assignments`, on the rows that meet `onlyWhere` (not marked yet).
        case update(set: String, onlyWhere: String?)
        /// `DELETE`: the relay deletes what it published.
        case delete
    }

    /// `eventrouter`, `gox`, `goharvest`, `kafka-outbox-relay`, `outbox-event-bus` or `generic`, for logs and errors.
    public var name: String
    public var topic: TopicSource
    /// The record key; nil for a null key.
    public var key: String?
    /// The record value: json and jsonb as their text, bytea as its bytes, other types as their text.
    public var value: String
    /// The event's identity, for logs and errors; also written as the `id` header when `idHeader`.
    public var eventID: String?
    public var idHeader: Bool
    /// A smallint or integer column choosing the partition; NULL leaves it to the key's hash.
    public var partition: String?
    /// A timestamp column (with or without time zone; without is read as UTC) for the record timestamp;
    /// NULL leaves it to the producer's clock.
    public var timestamp: String?
    public var headers: HeaderSource
    /// A column carrying the W3C trace context the row was written under: a `traceparent` value, or
    /// Debezium's `tracingspancontext` (Java properties text with `traceparent=` and `tracestate=`). It
    /// becomes the `traceparent` (and `tracestate`) header, so traces continue through the relay.
    public var traceContext: String?
    /// The SQL condition that picks the rows a polling relay has not published yet, for the handover
    /// snapshot; nil when every row in the table is pending (a relay that deletes what it publishes).
    public var pendingCondition: String?
    /// The SQL order in which that relay would have published them.
    public var pendingOrder: String?
    /// An empty key column gives a null key (kafka-outbox-relay sends no key for '').
    public var keyNullWhenEmpty = false
    /// Columns whose first non-empty value places the record as sarama's hash partitioner does (32-bit
    /// FNV-1a, as a signed number, modulo the partition count, made positive); none non-empty leaves the
    /// partition to the producer. Empty for the formats that place records by the key.
    public var partitionKeyColumns: [String] = []
    public var valueSource: ValueSource = .column
    /// The old relay's own completion mark, for `--mark-published`; nil when it has none.
    public var publishedMark: PublishedMark?
    /// The rows the old relay gave up on (its dead letters): counted at start, never published from the
    /// table by the handover, never deleted by retention.
    public var deadLetterCondition: String?
    /// The time column `--retention` measures a row's age by; nil when the format has none.
    public var retentionColumn: String?
    /// How long the old relay kept published rows; nil when it kept them (or deleted them at once).
    public var defaultRetention: Duration?

    public init(
        name: String, topic: TopicSource, key: String?, value: String, eventID: String?, idHeader: Bool,
        partition: String? = nil, timestamp: String? = nil, headers: HeaderSource = .none,
        pendingCondition: String? = nil, pendingOrder: String? = nil, publishedMark: PublishedMark? = nil,
        retentionColumn: String? = nil
    ) {
        self.publishedMark = publishedMark
        self.retentionColumn = retentionColumn
        self.name = name
        self.topic = topic
        self.key = key
        self.value = value
        self.eventID = eventID
        self.idHeader = idHeader
        self.partition = partition
        self.timestamp = timestamp
        self.headers = headers
        self.pendingCondition = pendingCondition
        self.pendingOrder = pendingOrder
    }

    /// Debezium's Outbox Event Router with its defaults: topic `outbox.event.<aggregatetype>`, key
    /// `aggregateid`, value `payload`, header `id`.
    public static let eventRouter = eventRouter(id: "id", key: "aggregateid", payload: "payload", routeBy: "aggregatetype")

    /// The Event Router with other column names (`table.field.event.*`, `route.by.field`).
    public static func eventRouter(id: String, key: String, payload: String, routeBy: String) -> OutboxTableFormat {
        OutboxTableFormat(
            name: "eventrouter", topic: .prefixed(column: routeBy, prefix: "outbox.event."), key: key, value: payload,
            eventID: id, idHeader: true, pendingOrder: id
        )
    }

    /// gox (github.com/angusgyoung/gox): topic, partition, key and bytea message columns, json headers as
    /// key/value pairs, the row's creation time as the record timestamp. It publishes the rows whose
    /// status is PENDING, oldest first, then marks them SENT or deletes them.
    public static let gox = OutboxTableFormat(
        name: "gox", topic: .column("topic"), key: "key", value: "message", eventID: "id", idHeader: false,
        partition: "partition", timestamp: "created_timestamp", headers: .jsonPairs(column: "headers"),
        pendingCondition: "status = 'PENDING'", pendingOrder: "created_timestamp, id",
        publishedMark: .update(set: "status = 'SENT', updated_timestamp = (now() AT TIME ZONE 'utc')", onlyWhere: "status = 'PENDING'"),
        retentionColumn: "created_timestamp"
    )

    /// goharvest (github.com/obsidiandynamics/goharvest): kafka_topic, kafka_key and kafka_value, headers
    /// as two text arrays. It deletes what it has published, so every row in the table is pending.
    public static let goharvest = OutboxTableFormat(
        name: "goharvest", topic: .column("kafka_topic"), key: "kafka_key", value: "kafka_value", eventID: "id",
        idHeader: false, headers: .textArrays(names: "kafka_header_keys", values: "kafka_header_values"),
        pendingOrder: "id", publishedMark: .delete, retentionColumn: "create_time"
    )

    /// kafka-outbox-relay (github.com/inviqa/kafka-outbox-relay): its fixed `kafka_outbox` table. The value is
    /// `payload_json` as stored, the key `key` (null when empty), headers from the `payload_headers` object,
    /// the partition sarama's hash of `partition_key`, else of `key` (a keyless record at random). It publishes
    /// the rows not completed and not errored, oldest first, sets `push_completed_at`, and its cleanup
    /// deleted the rows completed over an hour ago.
    public static let kafkaOutboxRelay: OutboxTableFormat = {
        var format = OutboxTableFormat(
            name: "kafka-outbox-relay", topic: .column("topic"), key: "key", value: "payload_json", eventID: "id", idHeader: false,
            headers: .jsonObjectScalars(column: "payload_headers"),
            pendingCondition: "push_completed_at IS NULL AND errored = 0", pendingOrder: "created_at, id"
        )
        format.keyNullWhenEmpty = true
        format.partitionKeyColumns = ["partition_key", "key"]
        // Its claim query takes every row without a batch and a start time: both are set too, as its own
        // claim would have, or the relay would send the rows again after a rollback.
        format.publishedMark = .update(
            set: "batch_id = COALESCE(batch_id, md5(random()::text || clock_timestamp()::text)::uuid::text), "
                + "push_started_at = COALESCE(push_started_at, now()), push_completed_at = now(), error_reason = '', "
                + "push_attempts = push_attempts + 1",
            onlyWhere: "push_completed_at IS NULL"
        )
        format.deadLetterCondition = "errored = 1"
        // Its cleanup deleted the rows completed over an hour ago: dead letters are never completed.
        format.retentionColumn = "push_completed_at"
        format.defaultRetention = .seconds(3600)
        return format
    }()

    /// outbox-event-bus (github.com/waterdog-oss/outbox-event-bus, ktor-event-bus before): its reference
    /// store's `recorded_events` table. Topic `topic`, no key, no headers, the value its JSON envelope around
    /// the bytea `payload`. It publishes the rows not delivered, then sets `delivered` and `send_timestamp`,
    /// and deleted delivered rows after 7 days.
    public static let outboxEventBus: OutboxTableFormat = {
        var format = OutboxTableFormat(
            name: "outbox-event-bus", topic: .column("topic"), key: nil, value: "payload", eventID: "id", idHeader: false,
            pendingCondition: "delivered = false", pendingOrder: "id"
        )
        format.valueSource = .outboxEventBusEnvelope(uuid: "uuid", messageType: "msg_type", mimeType: "mime_type")
        format.publishedMark = .update(set: "delivered = true, send_timestamp = now()", onlyWhere: "delivered = false")
        format.retentionColumn = "stored_timestamp"
        format.defaultRetention = .seconds(7 * 24 * 3600)
        return format
    }()

    /// The built-in formats by the name `--table-format` takes.
    public static let builtIn: [String: OutboxTableFormat] = [
        "eventrouter": .eventRouter, "gox": .gox, "goharvest": .goharvest, "kafka-outbox-relay": .kafkaOutboxRelay,
        "outbox-event-bus": .outboxEventBus,
    ]

    /// Every column the format reads, each once: the table must have them all.
    public var columns: [String] {
        var names: [String] = []
        let all = [eventID, topic.column, key, value, partition, timestamp, traceContext].compactMap { $0 } + headers.columns
            + partitionKeyColumns + valueSource.columns
        for name in all where !names.contains(name) { names.append(name) }
        return names
    }
}
