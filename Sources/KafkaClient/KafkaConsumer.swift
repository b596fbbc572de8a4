import CLibRdKafka
import Foundation
public import Logging

/// A librdkafka consumer reading explicitly assigned partitions (no consumer-group membership, no offset
/// commits), for tests and benchmarks.
///
/// Every method blocks the calling thread (`poll` and `consume` for up to their timeout, `assign` and
/// `partitionCount` for a metadata round trip): use it from a synchronous test, a thread you own, or
/// a blocking-friendly executor — never directly on Swift's cooperative thread pool.
///
/// `@unchecked Sendable`: every use of the librdkafka handle happens with `lock` held, and `close` takes the
/// handle out under the lock, so calls from several threads serialize and none can use a destroyed handle.
public final class KafkaConsumer: @unchecked Sendable {
    /// Where reading an assigned partition starts.
    public enum StartOffset: Sendable, Hashable {
        case beginning
        /// Only records produced after the assignment.
        case end
        case offset(Int64)
    }

    /// Settings applied before the caller's `configuration` (which overrides them).
    ///
    /// `group.id` is required by librdkafka's assign API but no group is ever joined; `fetch.wait.max.ms`
    /// is low because Tansu holds every fetch for the whole wait.
    public static let defaultConfiguration: [String: String] = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "enable.partition.eof": "false",
        "auto.offset.reset": "earliest",
        "allow.auto.create.topics": "true",
        "fetch.wait.max.ms": "5",
    ]

    private let logger: Logger
    private let context: ClientCallbackContext
    private let lock = NSLock()
    /// `nil` once closed. Guarded by `lock`.
    private var handle: OpaquePointer?
    /// Every partition assigned so far with its start offset. librdkafka's `assign` replaces the whole
    /// assignment, so adding a topic re-assigns these (at their current positions). Guarded by `lock`.
    private var assignment: [(topic: String, partition: Int32, start: Int64)] = []

    public init(brokers: String, configuration: [String: String] = [:], logger: Logger) throws(KafkaError) {
        var properties = Self.defaultConfiguration
        properties["bootstrap.servers"] = brokers
        properties["group.id"] = "outbox-cdc-assign-\(UInt64.random(in: 1 ... .max))"
        properties.merge(configuration) { _, caller in caller }

        let context = ClientCallbackContext(configuration: properties, logger: logger, fatalErrorHandler: nil)
        let conf = try LibrdkafkaConfiguration.makeConf(properties)
        context.install(on: conf)
        let handle = try LibrdkafkaConfiguration.makeClient(type: RD_KAFKA_CONSUMER, conf: conf, configuration: properties)
        // Serve error and log events from rd_kafka_consumer_poll, the only poll this consumer makes.
        rd_kafka_poll_set_consumer(handle)
        self.logger = logger
        self.context = context
        self.handle = handle
    }

    deinit {
        close()
    }

    /// Adds the partitions of `topic` to the assignment, reading from `start`.
    ///
    /// - Parameter partitions: `nil` for every partition (counted from metadata, which creates the topic on
    ///   brokers that auto-create topics).
    public func assign(
        topic: String, partitions: [Int32]? = nil, from start: StartOffset = .beginning,
        metadataTimeout: Duration = .seconds(10)
    ) throws(KafkaError) {
        let chosen: [Int32]
        if let partitions {
            chosen = partitions
        } else {
            chosen = Array(0 ..< Int32(try partitionCount(topic: topic, timeout: metadataTimeout)))
        }
        let startOffset: Int64 = switch start {
        case .beginning: Int64(RD_KAFKA_OFFSET_BEGINNING)
        case .end: Int64(RD_KAFKA_OFFSET_END)
        case .offset(let offset): offset
        }
        try lock.withCriticalSection { () throws(KafkaError) in
            guard let handle else { throw KafkaError.consumerClosed }
            let current = currentPositions(handle)
            assignment.removeAll { $0.topic == topic && chosen.contains($0.partition) }
            assignment += chosen.map { (topic: topic, partition: $0, start: startOffset) }

            guard let list = rd_kafka_topic_partition_list_new(Int32(assignment.count)) else {
                throw KafkaError(code: RD_KAFKA_RESP_ERR__FAIL.rawValue, message: "cannot allocate a partition list")
            }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for entry in assignment {
                guard let element = rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition) else {
                    throw KafkaError(code: RD_KAFKA_RESP_ERR__FAIL.rawValue, message: "cannot allocate a partition list")
                }
                let key = "\(entry.topic)/\(entry.partition)"
                // Partitions already being read continue where they are.
                element.pointee.offset = current[key].flatMap { $0 >= 0 ? $0 : nil } ?? entry.start
            }
            let result = rd_kafka_assign(handle, list)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: result) }
        }
        logger.debug(
            "assigned partitions", metadata: ["kafka.topic": "\(topic)", "kafka.partitions": "\(chosen)"]
        )
    }

    /// The next record, or `nil` when none arrives within `timeout`. Blocks the calling thread.
    ///
    /// - Throws: a `KafkaError` for a consumer error librdkafka reports for a partition or topic.
    public func poll(timeout: Duration) throws(KafkaError) -> KafkaRecord? {
        let deadline = ContinuousClock.now + timeout
        return try lock.withCriticalSection { () throws(KafkaError) -> KafkaRecord? in
            guard let handle else { throw KafkaError.consumerClosed }
            while true {
                let remaining = deadline - .now
                guard let message = rd_kafka_consumer_poll(handle, remaining.librdkafkaMilliseconds) else {
                    if remaining <= .zero { return nil }
                    continue
                }
                defer { rd_kafka_message_destroy(message) }
                let code = message.pointee.err
                if code == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
                guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    // For consumer errors, the payload is librdkafka's error text.
                    throw KafkaError(code: code.rawValue, message: String(cString: rd_kafka_message_errstr(message)))
                }
                return Self.record(from: message)
            }
        }
    }

    /// Polls until `count` records arrived or `timeout` passed; returns what arrived (check its count).
    public func consume(count: Int, timeout: Duration) throws(KafkaError) -> [KafkaRecord] {
        try consume(timeout: timeout) { $0.count >= count }
    }

    /// Polls until `isComplete(records so far)` or `timeout` passed; returns what arrived.
    public func consume(timeout: Duration, until isComplete: ([KafkaRecord]) -> Bool) throws(KafkaError) -> [KafkaRecord] {
        let deadline = ContinuousClock.now + timeout
        var records: [KafkaRecord] = []
        while !isComplete(records) {
            let remaining = deadline - .now
            guard remaining > .zero else { break }
            if let record = try poll(timeout: min(remaining, .milliseconds(100))) {
                records.append(record)
            }
        }
        return records
    }

    /// The number of partitions of `topic`, from broker metadata. Asking creates the topic on brokers that
    /// auto-create topics (Tansu does, with 4 partitions); retries until the topic has a leader or `timeout`.
    public func partitionCount(topic: String, timeout: Duration = .seconds(10)) throws(KafkaError) -> Int {
        let deadline = ContinuousClock.now + timeout
        return try lock.withCriticalSection { () throws(KafkaError) -> Int in
            guard let handle else { throw KafkaError.consumerClosed }
            let topicHandle: OpaquePointer? = rd_kafka_topic_new(handle, topic, nil)
            guard let topicHandle else { throw KafkaError(code: rd_kafka_last_error()) }
            defer { rd_kafka_topic_destroy(topicHandle) }
            var lastError = KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT)
            repeat {
                var metadata: UnsafePointer<rd_kafka_metadata_t>?
                let result = rd_kafka_metadata(
                    handle, 0, topicHandle, &metadata, max(1, (deadline - .now).librdkafkaMilliseconds)
                )
                if result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
                    defer { rd_kafka_metadata_destroy(metadata) }
                    if metadata.pointee.topic_cnt > 0, let topics = metadata.pointee.topics {
                        let described = topics[0]
                        if described.err == RD_KAFKA_RESP_ERR_NO_ERROR, described.partition_cnt > 0 {
                            return Int(described.partition_cnt)
                        }
                        lastError = KafkaError(code: described.err)
                    }
                } else {
                    lastError = KafkaError(code: result)
                }
                // A topic being created has no leader yet: ask again shortly.
                Thread.sleep(forTimeInterval: 0.05)
            } while ContinuousClock.now < deadline
            throw lastError
        }
    }

    /// Whether the brokers know `topic`. Asks for the metadata of every topic rather than of this one,
    /// because a request naming a topic creates it on brokers that auto-create topics, and then it would
    /// always exist. Brokers list only the topics the client may describe, so with ACLs a topic it may not
    /// describe reads as missing.
    public func topicExists(_ topic: String, timeout: Duration = .seconds(10)) throws(KafkaError) -> Bool {
        try lock.withCriticalSection { () throws(KafkaError) -> Bool in
            guard let handle else { throw KafkaError.consumerClosed }
            var metadata: UnsafePointer<rd_kafka_metadata_t>?
            let result = rd_kafka_metadata(handle, 1, nil, &metadata, max(1, timeout.librdkafkaMilliseconds))
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(code: result) }
            defer { rd_kafka_metadata_destroy(metadata) }
            guard let topics = metadata.pointee.topics else { return false }
            for index in 0 ..< Int(metadata.pointee.topic_cnt) {
                let described = topics[index]
                if let name = described.topic, String(cString: name) == topic {
                    return described.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                }
            }
            return false
        }
    }

    /// Leaves the assignment and destroys the consumer. Idempotent; `deinit` calls it.
    public func close() {
        let taken: UncheckedHandle? = lock.withLock {
            guard let current = self.handle else { return nil }
            self.handle = nil
            return UncheckedHandle(pointer: current)
        }
        guard let taken else { return }
        // No group was joined, so this only stops fetching; then destroy frees the instance.
        let result = rd_kafka_consumer_close(taken.pointer)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.debug("closing the consumer reported an error", metadata: ["kafka.error.name": "\(KafkaError(code: result).name)"])
        }
        rd_kafka_destroy(taken.pointer)
    }

    // MARK: - Private

    /// Current read positions of assigned partitions ("topic/partition" → offset). Call with `lock` held.
    private func currentPositions(_ handle: OpaquePointer) -> [String: Int64] {
        guard !assignment.isEmpty, let list = rd_kafka_topic_partition_list_new(Int32(assignment.count)) else {
            return [:]
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for entry in assignment {
            _ = rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition)
        }
        guard rd_kafka_position(handle, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return [:] }
        var positions: [String: Int64] = [:]
        for index in 0 ..< Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            positions["\(String(cString: element.topic))/\(element.partition)"] = element.offset
        }
        return positions
    }

    /// Copies a consumed message out of librdkafka's buffers.
    private static func record(from message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaRecord {
        let fields = message.pointee
        let content = KafkaMessageContent(copying: message)
        var rawTimestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &rawTimestampType)
        let timestampType: KafkaTimestampType = switch rawTimestampType {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: .createTime
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: .logAppendTime
        default: .notAvailable
        }
        return KafkaRecord(
            topic: fields.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "",
            partition: fields.partition,
            offset: fields.offset,
            key: content.key,
            value: content.value,
            headers: content.headers,
            timestamp: timestamp,
            timestampType: timestampType
        )
    }
}
