import Clocks
import DebeziumFormat
import KafkaClient
import PgOutputDecoder
import PostgresLSN

/// What Debezium's records say about the transaction around a change or a logical decoding message.
struct DebeziumTransactionContext: Sendable {
    var transactionID: UInt32?
    /// The commit time of the transaction being received, or of the last one (Unix microseconds).
    var commitTime: Int64
    /// The commit LSN of the last transaction received in full (or of the last non-transactional message):
    /// the first half of a message record's `sequence`.
    var lastCommitLSN: LSN?
    /// The end LSN of the last transaction received in full: the first half of a change event's `sequence`
    /// (CHANGE-EVENTS-FINDINGS.md); nil before the session's first commit.
    var lastCommitEndLSN: LSN?
}

/// Logical decoding messages as Debezium publishes them, whatever else the connector publishes: on
/// `<topic.prefix>.message`, no headers, unless `message.prefix.include/exclude.list` leaves them out.
/// Transforms pass them on unchanged (they are no outbox rows and no change envelopes).
struct DebeziumMessageWriter: Sendable {
    private let settings: DebeziumRecordSettings
    private let filter: MessagePrefixFilter

    init(settings: DebeziumRecordSettings) throws(DebeziumRecordError) {
        self.settings = settings
        filter = try MessagePrefixFilter(include: settings.messagePrefixIncludeList, exclude: settings.messagePrefixExcludeList)
    }

    /// The message's record, or nil when the prefix lists leave it out.
    func event(for message: PgOutputMessage.LogicalMessage, transaction: DebeziumTransactionContext, databaseName: String) throws(DebeziumRecordError) -> OutboxEvent? {
        guard filter.includes(message.prefix) else { return nil }
        let record = LogicalDecodingMessageRecord(
            prefix: message.prefix, content: Array(message.content),
            transactionID: message.isTransactional ? transaction.transactionID.map(Int64.init) : nil,
            lsn: message.lsn.rawValue,
            // A non-transactional message stands for its own commit in Debezium's position.
            lastCommitLSN: message.isTransactional ? transaction.lastCommitLSN?.rawValue : message.lsn.rawValue,
            commitTimeMicroseconds: transaction.commitTime,
            processingTimeMilliseconds: WallClock.nowMilliseconds()
        )
        do {
            let key = try record.key(converter: settings.keyConverter)
            let value = try record.value(converter: settings.valueConverter, topicPrefix: settings.topicPrefix, databaseName: databaseName)
            var event = OutboxEvent(
                topic: LogicalDecodingMessageRecord.topic(topicPrefix: settings.topicPrefix), key: key?[...], value: value[...],
                eventID: Array("\(message.lsn)".utf8)[...]
            )
            event.idHeader = false
            return event
        } catch let error as ConnectSerializationError {
            throw .serialization(error, eventID: "message at \(message.lsn)")
        } catch let error as LogicalDecodingMessageRecord.ValueError {
            throw .message(error, prefix: message.prefix)
        } catch {
            throw .message(.unsupportedConverter(settings.valueConverter.kind, schemasEnabled: nil), prefix: message.prefix)
        }
    }
}
