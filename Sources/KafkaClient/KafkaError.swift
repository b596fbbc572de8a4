import CLibRdKafka

/// An error from librdkafka or from configuring it.
///
/// `code` is librdkafka's `rd_kafka_resp_err_t`: negative values are client-side errors (`_QUEUE_FULL`,
/// `_MSG_TIMED_OUT`, ...), positive values are broker error codes from the Kafka protocol.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t` value.
    public let code: Int32
    /// What went wrong, in words. Never contains the value of a sensitive configuration property.
    public let message: String
    /// The configuration property at fault, for configuration errors.
    public let property: String?
    /// The client instance can no longer be used: the owner should stop and create a new one.
    public let isFatal: Bool
    /// Producing the same message again (after a delay, maybe with a new client) may succeed.
    public let isRetriable: Bool

    init(code: Int32, message: String, property: String? = nil, isFatal: Bool? = nil, isRetriable: Bool? = nil) {
        self.code = code
        self.message = message
        self.property = property
        self.isFatal = isFatal ?? (code == RD_KAFKA_RESP_ERR__FATAL.rawValue)
        self.isRetriable = isRetriable ?? Self.retriableCodes.contains(code)
    }

    /// An error whose message is librdkafka's own description of `code`.
    init(code: rd_kafka_resp_err_t) {
        self.init(code: code.rawValue, message: String(cString: rd_kafka_err2str(code)))
    }

    /// Takes the details of an `rd_kafka_error_t`; the caller still owns (and destroys) it.
    init(borrowing error: OpaquePointer) {
        self.init(
            code: rd_kafka_error_code(error).rawValue,
            message: String(cString: rd_kafka_error_string(error)),
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            isRetriable: rd_kafka_error_is_retriable(error) != 0
        )
    }

    /// librdkafka's symbolic name for `code`, e.g. `_QUEUE_FULL` or `NOT_LEADER_FOR_PARTITION`.
    /// Computed on demand so that building an error on a hot path stays cheap.
    public var name: String {
        String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code)))
    }

    public var description: String {
        var text = "KafkaError(\(name) [\(code)]"
        if let property { text += ", property \"\(property)\"" }
        if isFatal { text += ", fatal" }
        return text + "): \(message)"
    }

    /// The producer was shut down before the call.
    static var producerShutDown: KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__DESTROY.rawValue, message: "the producer has been shut down", isRetriable: true)
    }

    /// The consumer was closed before the call.
    static var consumerClosed: KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__DESTROY.rawValue, message: "the consumer has been closed")
    }

    /// The broker (or librdkafka before it) refuses this one record for what it is: too large, an invalid
    /// topic name, a topic this client may not write, a record the broker calls invalid. Other records can
    /// still be delivered, so a dead-letter or skip policy may apply; no retry helps this one.
    public var refusesThisRecord: Bool {
        Self.recordRefusalCodes.contains(code)
    }

    /// Refused for its size: the same bytes would be refused on any topic.
    public var refusesForSize: Bool {
        code == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue || code == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE.rawValue
    }

    /// `_UNKNOWN_TOPIC` is librdkafka's own word that the cluster has no such topic (and did not create it):
    /// whether it comes back from the broker's metadata in a delivery report or, once librdkafka has cached
    /// that answer, at once from produce, the record is refused for its topic, as with TOPIC_EXCEPTION.
    private static let recordRefusalCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
        RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_INVALID_RECORD, RD_KAFKA_RESP_ERR_POLICY_VIOLATION, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
    ].map(\.rawValue).reduce(into: []) { $0.insert($1) }

    /// Codes for which re-sending the same message can succeed: transient broker or network states, and
    /// messages that were dropped locally (purged, timed out) without a broker ever rejecting them.
    private static let retriableCodes: Set<Int32> = Set(retriableErrors.map(\.rawValue))

    private static let retriableErrors: [rd_kafka_resp_err_t] = [
        RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT,
        RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
        RD_KAFKA_RESP_ERR__PURGE_QUEUE, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, RD_KAFKA_RESP_ERR__DESTROY,
        RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__RESOLVE,
        RD_KAFKA_RESP_ERR__WAIT_COORD,
        RD_KAFKA_RESP_ERR_INVALID_MSG, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH, RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH,
        RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED,
    ]
}
