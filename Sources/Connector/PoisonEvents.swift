import DebeziumFormat
import KafkaClient
import PgOutputDecoder
import PostgresLSN
import WALReader

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

extension OutboxConnector {
    /// A row the mapper refused: fail (rethrow), skip, or dead-letter the row itself, as a JSON object of
    /// its columns' text (`{"id": "…", "payload": "…", "other": null}`), under `ticket`.
    func poisonedRow(
        _ error: StreamingError, insert: PgOutputMessage.Insert, table: QualifiedTableName?, columnNames: [String]?, lsn: LSN,
        ticket: CheckpointTracker.Ticket, producer: KafkaProducer, whileWaiting: () throws(StreamingError) -> Void
    ) throws(StreamingError) {
        guard case .fatal(let fatal) = error.reason, fatal.isAboutOneRow else { throw error }
        let values = insert.newTuple.columns
        let names = columnNames ?? values.indices.map { "column\($0 + 1)" }
        let row = zip(names, values).map { name, value in
            (name: name, value: value.bytes.map { String(decoding: $0, as: UTF8.self) })
        }
        let eventID = row.first { $0.name == configuration.tableFormat.eventID }?.value ?? "(unknown)"
        try handlePoison(fatal, reason: fatal.rowProblem, eventID: eventID, lsn: lsn, table: table, ticket: ticket, producer: producer, whileWaiting: whileWaiting) {
            KafkaMessageContent(key: nil, value: CompactJSON.object(row), headers: [])
        }
    }

    /// A logical decoding message that could not be mapped: its content is the dead letter's value.
    func poisonedMessage(
        _ error: StreamingError, message: PgOutputMessage.LogicalMessage, ticket: CheckpointTracker.Ticket,
        producer: KafkaProducer, whileWaiting: () throws(StreamingError) -> Void
    ) throws(StreamingError) {
        guard case .fatal(let fatal) = error.reason, fatal.isAboutOneRow else { throw error }
        try handlePoison(fatal, reason: fatal.rowProblem, eventID: "message \(message.prefix)", lsn: message.lsn, ticket: ticket, producer: producer, whileWaiting: whileWaiting) {
            KafkaMessageContent(key: Array(message.prefix.utf8), value: Array(message.content), headers: [])
        }
    }

    /// A record librdkafka refused when it was handed over (`produce` failed at once).
    func refusedRecord(
        _ event: OutboxEvent, error: KafkaError, lsn: LSN, ticket: CheckpointTracker.Ticket, producer: KafkaProducer,
        whileWaiting: () throws(StreamingError) -> Void
    ) throws(StreamingError) {
        let fatal = ConnectorError.deliveryFailed(eventID: event.eventIDText, topic: event.topic, error: error, confirmed: confirmedPosition)
        guard error.refusesThisRecord, configuration.onError != .fail else { throw StreamingError(fatal) }
        try handlePoison(fatal, reason: "\(error)", eventID: event.eventIDText, lsn: lsn, originalTopic: event.topic, ticket: ticket, producer: producer, whileWaiting: whileWaiting) {
            Self.deadLetterContent(KafkaMessageContent(key: event.key.map(Array.init), value: event.value.map(Array.init), headers: event.headers), refusedFor: error)
        }
    }

    /// Applies the error policy to one event whose ticket already counts it as produced.
    private func handlePoison(
        _ error: ConnectorError, reason: String, eventID: String, lsn: LSN, originalTopic: String? = nil,
        table: QualifiedTableName? = nil, ticket: CheckpointTracker.Ticket,
        producer: KafkaProducer, whileWaiting: () throws(StreamingError) -> Void, deadLetter: () -> KafkaMessageContent
    ) throws(StreamingError) {
        switch configuration.onError {
        case .fail:
            throw StreamingError(error)
        case .skip:
            logger.error("skipped an event that cannot be published", metadata: [
                "event.id": "\(eventID)", "cdc.lsn": "\(lsn)", "error": "\(error)", "cdc.on_error": "skip",
            ])
            metrics.rowIgnored(table: table?.description ?? "unknown", reason: .onErrorSkip)
            state.withLock { shared in
                shared.skippedEvents += 1
                _ = shared.tracker.eventAcknowledged(in: ticket)
            }
        case .deadLetter(let topic):
            var content = deadLetter()
            content.headers += DeadLetterHeaders.make(
                reason: reason, eventID: eventID, lsn: lsn, topic: originalTopic, table: table.map(\.description)
            )
            logger.error("sent an event that cannot be published to the dead-letter topic", metadata: [
                "event.id": "\(eventID)", "cdc.lsn": "\(lsn)", "error": "\(error)", "kafka.topic": "\(topic)",
            ])
            try produceDeadLetter(content, to: topic, eventID: eventID, ticket: ticket, producer: producer, whileWaiting: whileWaiting)
        }
    }

    /// What a refused record's dead letter carries: all of it, except a value refused for its size, which
    /// could not be sent to any topic either; its size is said instead.
    static func deadLetterContent(_ content: KafkaMessageContent, refusedFor error: KafkaError) -> KafkaMessageContent {
        guard error.refusesForSize else { return content }
        var trimmed = content
        trimmed.value = nil
        trimmed.headers.append(KafkaHeader(name: DeadLetterHeaders.valueSize, value: Array("\(content.value?.count ?? 0)".utf8)))
        return trimmed
    }

    /// Sends what the delivery-report thread queued: records Kafka refused, to the dead-letter topic.
    func sendPendingDeadLetters(producer: KafkaProducer, whileWaiting: () throws(StreamingError) -> Void) throws(StreamingError) {
        guard case .deadLetter(let topic) = configuration.onError else { return }
        // The report names no row: the position a dead letter says is the end of the event's transaction, so
        // a letter waits until that transaction's Commit has been read (until then it is not confirmed anyway).
        let ready = state.withLock { shared in
            var ready: [(PendingDeadLetter, LSN)] = []
            shared.deadLetters.removeAll { letter in
                guard let lsn = shared.tracker.endLSN(of: letter.ticket) else { return false }
                ready.append((letter, lsn))
                return true
            }
            return ready
        }
        for (letter, lsn) in ready {
            var content = letter.content
            content.headers += DeadLetterHeaders.make(
                reason: letter.reason, eventID: letter.eventID, lsn: lsn, topic: letter.originalTopic, table: nil
            )
            logger.error("Kafka refused an event; sent it to the dead-letter topic", metadata: [
                "event.id": "\(letter.eventID)", "error": "\(letter.reason)", "kafka.topic": "\(topic)",
            ])
            try produceDeadLetter(content, to: topic, eventID: letter.eventID, ticket: letter.ticket, producer: producer, whileWaiting: whileWaiting)
        }
    }

    private func produceDeadLetter(
        _ content: KafkaMessageContent, to topic: String, eventID: String, ticket: CheckpointTracker.Ticket,
        producer: KafkaProducer, whileWaiting: () throws(StreamingError) -> Void
    ) throws(StreamingError) {
        state.withLock { $0.deadLetteredEvents += 1 }
        var event = OutboxEvent(topic: topic, key: content.key?[...], value: content.value?[...], eventID: Array(eventID.utf8)[...])
        event.headers = content.headers
        event.idHeader = false
        // A dead letter the broker refuses too is fatal: there is nowhere left to put it.
        try produce(event, ticket: ticket, producer: producer, refusal: .fail, whileWaiting: whileWaiting)
    }

    /// On the delivery-report thread: a record Kafka refused for what it is. Returns whether the error
    /// policy took it (skip: acknowledged as done; dead letter: queued for the reading thread).
    func takeRefusedDelivery(_ report: DeliveryReport, error: KafkaError) -> Bool {
        guard error.refusesThisRecord, let content = report.undelivered else { return false }
        let eventID = report.idHeaderString ?? "(no id)"
        switch configuration.onError {
        case .fail:
            return false
        case .deadLetter(let topic):
            // The dead letter itself refused: fatal.
            guard report.topic != topic else { return false }
            state.withLock { shared in
                shared.deadLetters.append(PendingDeadLetter(
                    ticket: report.correlation, originalTopic: report.topic, content: Self.deadLetterContent(content, refusedFor: error),
                    reason: "\(error)", eventID: eventID
                ))
            }
            wakeup.signal()
        case .skip:
            let lsn = state.withLock { shared in
                shared.skippedEvents += 1
                let lsn = shared.tracker.endLSN(of: report.correlation)
                _ = shared.tracker.eventAcknowledged(in: report.correlation)
                return lsn
            }
            metrics.rowIgnored(table: "unknown", reason: .onErrorSkip)
            logger.error("skipped an event Kafka refuses", metadata: [
                "event.id": "\(eventID)", "kafka.topic": "\(report.topic)", "error": "\(error)", "cdc.on_error": "skip",
                "cdc.lsn": "\(lsn.map { "\($0)" } ?? "in a transaction still arriving")",
            ])
        }
        return true
    }
}
