import DebeziumFormat
import KafkaClient
import PgOutputDecoder
import PostgresLSN

/// What to do with an event that can never be published as it is: a row that cannot be mapped (no topic,
/// malformed headers, a bytea that is not hex…), or a record Kafka refuses for what it is (too large, an
/// invalid or forbidden topic). Nothing is dropped silently: each is logged with its event id and LSN, and
/// counted.
public enum ErrorPolicy: Sendable, Equatable, CustomStringConvertible {
    /// Stop without confirming past the event (the default): a restart meets it again.
    case fail
    /// Publish it to a dead-letter topic with headers saying why, and go on.
    case deadLetter(topic: String)
    /// Log it, count it and go on.
    case skip

    public var description: String {
        switch self {
        case .fail: return "fail"
        case .deadLetter(let topic): return "dlq (\(topic))"
        case .skip: return "skip"
        }
    }
}

/// A record Kafka refused, waiting for the reading thread to send it to the dead-letter topic under the
/// same checkpoint ticket (so that its transaction is confirmed only once the dead letter is acknowledged).
struct PendingDeadLetter: Sendable {
    var ticket: CheckpointTracker.Ticket
    var originalTopic: String
    var content: KafkaMessageContent
    var reason: String
    var eventID: String
}

/// The headers a dead letter carries after the original's, all UTF-8 text.
enum DeadLetterHeaders {
    static let reason = "outbox-cdc.error"
    static let topic = "outbox-cdc.error.topic"
    static let eventID = "outbox-cdc.error.event_id"
    static let lsn = "outbox-cdc.error.lsn"
    static let table = "outbox-cdc.error.table"
    /// The byte size of a value left out because it was too large for Kafka.
    static let valueSize = "outbox-cdc.error.value_bytes"

    static func make(reason: String, eventID: String, lsn: LSN?, topic: String?, table: String?) -> [KafkaHeader] {
        var headers = [KafkaHeader(name: Self.reason, value: Array(reason.utf8)), KafkaHeader(name: Self.eventID, value: Array(eventID.utf8))]
        if let lsn { headers.append(KafkaHeader(name: Self.lsn, value: Array("\(lsn)".utf8))) }
        if let topic { headers.append(KafkaHeader(name: Self.topic, value: Array(topic.utf8))) }
        if let table { headers.append(KafkaHeader(name: Self.table, value: Array(table.utf8))) }
        return headers
    }
}

/// A dead letter's record.
enum DeadLetterContent {
    /// What a refused record's dead letter carries: all of it, except a value refused for its size, which
    /// could not be sent to any topic either; its size is said instead.
    static func of(_ content: KafkaMessageContent, refusedFor error: KafkaError) -> KafkaMessageContent {
        guard error.refusesForSize else { return content }
        var trimmed = content
        trimmed.value = nil
        trimmed.headers.append(KafkaHeader(name: DeadLetterHeaders.valueSize, value: Array("\(content.value?.count ?? 0)".utf8)))
        return trimmed
    }

    /// The dead letter as a record for `topic`, its headers as they are (no `id` header of its own).
    static func event(_ content: KafkaMessageContent, topic: String, eventID: String) -> OutboxEvent {
        var event = OutboxEvent(topic: topic, key: content.key?[...], value: content.value?[...], eventID: Array(eventID.utf8)[...])
        event.headers = content.headers
        event.idHeader = false
        return event
    }
}
