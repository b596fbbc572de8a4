/// Which columns of the outbox table make which part of a Kafka record, and which rows a polling relay
/// would still have to publish. Built in for Debezium's Outbox Event Router (the default), gox and
/// goharvest; `generic` names every column itself.
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

        var columns: [String] {
            switch self {
            case .none: return []
            case .jsonObject(let column), .jsonPairs(let column): return [column]
            case .textArrays(let names, let values): return [names, values]
            }
        }
    }

    /// `eventrouter`, `gox`, `goharvest` or `generic`, for logs and errors.
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

    public init(
        name: String, topic: TopicSource, key: String?, value: String, eventID: String?, idHeader: Bool,
        partition: String? = nil, timestamp: String? = nil, headers: HeaderSource = .none,
        pendingCondition: String? = nil, pendingOrder: String? = nil
    ) {
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
        pendingCondition: "status = 'PENDING'", pendingOrder: "created_timestamp, id"
    )

    /// goharvest (github.com/obsidiandynamics/goharvest): kafka_topic, kafka_key and kafka_value, headers
    /// as two text arrays. It deletes what it has published, so every row in the table is pending.
    public static let goharvest = OutboxTableFormat(
        name: "goharvest", topic: .column("kafka_topic"), key: "kafka_key", value: "kafka_value", eventID: "id",
        idHeader: false, headers: .textArrays(names: "kafka_header_keys", values: "kafka_header_values"),
        pendingOrder: "id"
    )

    /// The built-in formats by the name `--table-format` takes.
    public static let builtIn: [String: OutboxTableFormat] = [
        "eventrouter": .eventRouter, "gox": .gox, "goharvest": .goharvest,
    ]

    /// Every column the format reads, each once: the table must have them all.
    public var columns: [String] {
        var names: [String] = []
        let all = [eventID, topic.column, key, value, partition, timestamp, traceContext].compactMap { $0 } + headers.columns
        for name in all where !names.contains(name) { names.append(name) }
        return names
    }
}
