import CLibRdKafka
import Foundation
public import Logging

/// A librdkafka producer with at-least-once delivery reports.
///
/// `produce` enqueues without blocking; every enqueued message gets exactly one `DeliveryReport`, served on
/// one dedicated poll thread owned by the producer. `flush`, `waitForQueueSpace` and `shutdown` block the
/// calling thread: call them from a thread you own (or accept blocking), never from the delivery handler.
///
/// `@unchecked Sendable`: the librdkafka handle and the topic handle table are only read or changed with
/// `lock` held, and `shutdown` takes them out under the lock, so no call can use a handle being destroyed;
/// everything else is immutable or thread-safe (the callback context, the poll thread).
public final class KafkaProducer: @unchecked Sendable {
    /// The settings the connector starts from (user settings override them):
    ///
    /// - `enable.idempotence=true`, `acks=all`: no duplicates or reordering from librdkafka's own retries.
    /// - `partitioner=murmur2_random`: the Java client's key → partition mapping (null keys go to a random
    ///   partition), so Java and Swift producers agree on where a key lives.
    /// - `linger.ms=0`: measured against Tansu on this project's 2-core machine (release build, median of 5
    ///   runs of 200,000 × 200-byte idempotent records with a header): 0 ms → ~470,000 msgs/s, 1 ms →
    ///   ~500,000, 5 ms → ~530,000 (batches still fill from the queue while a request is in flight), but
    ///   produce → delivery report p50 is 0.48 ms with 0, 1.9 ms with 1 and 6.4 ms with 5 (librdkafka's
    ///   default). Latency wins; raise it only for bulk loads.
    /// - `max.in.flight.requests.per.connection=1`: with idempotence and `linger.ms=0`, librdkafka's broker
    ///   thread busy-polls while a partition has messages waiting and a request of five or more messages is
    ///   unacknowledged (it may only send when fewer than five messages are in flight, yet asks to be woken
    ///   at once because linger has expired). In `bench drain` that thread then took 2.2 to 2.4 s of CPU in a
    ///   4-second drain, in poll(), clock_gettime and rd_kafka_toppar_producer_serve, starving the walsender
    ///   and the broker on two cores; some drains fell to 40,000 events/s. With one request in flight the
    ///   next one waits built in librdkafka's output queue, the thread sleeps (0.2 to 0.5 s per drain) and
    ///   batches grow while the broker answers. It costs little parallelism: by the rule above an idempotent
    ///   partition never had a second request in flight behind one of five or more messages.
    /// - `queue.buffering.max.messages=20000`, `queue.buffering.max.kbytes=16384`: bound the producer's memory
    ///   (librdkafka's default allows 1 GiB); a full queue is backpressure (`ProduceResult.queueFull`). A queued
    ///   event costs about 2.5 times its size in librdkafka; with 100,000 queued, `bench drain` peaked at 89 MiB
    ///   resident, with 20,000 at 52 MiB and the same drain rate (the walsender, not the queue, sets the pace).
    /// - `message.timeout.ms=0`: never give up on a message, so a broker outage delays events instead of
    ///   failing them. librdkafka 2.x accepts this together with idempotence (it is infinite, so it is not
    ///   bounded by `transaction.timeout.ms` or `linger.ms`).
    public static let defaultConfiguration: [String: String] = [
        "enable.idempotence": "true",
        "acks": "all",
        "partitioner": "murmur2_random",
        "linger.ms": "0",
        "max.in.flight.requests.per.connection": "1",
        "queue.buffering.max.messages": "20000",
        "queue.buffering.max.kbytes": "16384",
        "message.timeout.ms": "0",
    ]

    /// `defaultConfiguration`, then the brokers and client id, then `overrides` (which win).
    public static func configuration(brokers: String, clientID: String, overrides: [String: String] = [:]) -> [String: String] {
        var properties = defaultConfiguration
        properties["bootstrap.servers"] = brokers
        properties["client.id"] = clientID
        properties.merge(overrides) { _, override in override }
        return properties
    }

    /// The version of the librdkafka library loaded at run time (not the headers built against).
    public static var librdkafkaVersion: String {
        String(cString: rd_kafka_version_str())
    }

    private let logger: Logger
    private let context: ProducerCallbackContext
    private let pollThread: PollThread
    /// How many reports `waitForQueueSpace` waits for after the queue was full.
    private let queueRefill: Int
    private let lock = NSLock()
    /// `nil` once shut down. Guarded by `lock`.
    private var handle: OpaquePointer?
    /// One `rd_kafka_topic_t` per topic produced to, so producing does not look the topic up by name each
    /// time; destroyed at shutdown, before `rd_kafka_destroy`. Guarded by `lock`.
    private var topicHandles: [String: OpaquePointer] = [:]
    /// Partition counts by topic and when they were asked (`partitionCount`). Guarded by `lock`.
    private var partitionCounts: [String: (count: Int32, askedAt: ContinuousClock.Instant)] = [:]
    /// Topics whose partition count could not be had: since when, and when last asked. Guarded by `lock`.
    private var partitionCountFailures: [String: (since: ContinuousClock.Instant, lastAskedAt: ContinuousClock.Instant)] = [:]

    /// - Parameters:
    ///   - configuration: librdkafka properties, used as given (start from `defaultConfiguration`).
    ///   - fatalErrorHandler: called once, on the poll thread, if librdkafka raises a fatal error (for
    ///     example an idempotence sequence failure); the producer is then unusable and should be shut down.
    ///   - deliveryHandler: called on the poll thread exactly once per enqueued message. Keep it short: it
    ///     delays all later reports. It must not call `flush`, `waitForQueueSpace` or `shutdown`.
    /// - Throws: a `KafkaError` naming the property when a property is unknown or its value invalid.
    public init(
        configuration: [String: String],
        logger: Logger,
        fatalErrorHandler: (@Sendable (KafkaError) -> Void)? = nil,
        deliveryHandler: @escaping @Sendable (DeliveryReport) -> Void
    ) throws(KafkaError) {
        let context = ProducerCallbackContext(
            configuration: configuration, logger: logger, fatalErrorHandler: fatalErrorHandler, deliveryHandler: deliveryHandler
        )
        let conf = try LibrdkafkaConfiguration.makeConf(configuration)
        context.install(on: conf)
        let handle = try LibrdkafkaConfiguration.makeClient(
            type: RD_KAFKA_PRODUCER, conf: conf, configuration: configuration
        )
        self.logger = logger
        self.context = context
        self.handle = handle
        self.pollThread = PollThread(client: handle, name: "cdc-rdk-poll")
        // librdkafka's own default capacity is 100,000 messages.
        let capacity = configuration["queue.buffering.max.messages"].flatMap { Int($0) } ?? 100_000
        self.queueRefill = max(1, capacity / 4)
        logger.debug(
            "Kafka producer started",
            metadata: [
                "kafka.client": "\(String(cString: rd_kafka_name(handle)))",
                "kafka.librdkafka.version": "\(Self.librdkafkaVersion)",
            ]
        )
    }

    deinit {
        shutdown()
    }

    /// Enqueues one message (key, value and headers are copied; the partitioner picks the partition).
    ///
    /// - Parameters:
    ///   - key: `nil` produces a null key (random partition); an empty slice an empty key.
    ///   - value: `nil` produces a null value (a tombstone); an empty slice an empty value.
    ///   - headers: in order; a `nil` header value produces a null header value.
    ///   - partition: the partition; `nil` lets the partitioner choose from the key.
    ///   - timestamp: the record's CreateTime, Unix milliseconds; `nil` takes the current time.
    ///   - correlation: a nonzero number returned in this message's `DeliveryReport`.
    public func produce(
        topic: String,
        key: ArraySlice<UInt8>?,
        value: ArraySlice<UInt8>?,
        headers: [KafkaHeader] = [],
        partition: Int32? = nil,
        timestamp: Int64? = nil,
        correlation: UInt64
    ) -> ProduceResult {
        precondition(correlation != 0, "the correlation must be nonzero")
        lock.lock()
        defer { lock.unlock() }
        guard let handle else { return .failed(.producerShutDown) }
        guard let topicHandle = topicHandle(for: topic, in: handle) else {
            return .failed(KafkaError(code: rd_kafka_last_error()))
        }

        // Built as a list we own and hand over with VTYPE_HEADERS: librdkafka takes it on success and leaves
        // it to us on every failure, whereas with VTYPE_HEADER some failure paths free its internal list twice.
        var headerList: OpaquePointer?
        if !headers.isEmpty {
            guard let list = Self.makeHeaderList(headers) else {
                return .failed(KafkaError(code: RD_KAFKA_RESP_ERR__FAIL.rawValue, message: "cannot allocate a header list"))
            }
            headerList = list
        }

        // Counted before librdkafka sees the message, so a report can never be served before its count.
        context.enqueuedCount.wrappingAdd(1, ordering: .sequentiallyConsistent)
        let failure = Self.withBytes(key) { keyAddress, keyCount in
            Self.withBytes(value) { valueAddress, valueCount in
                // At most 8 arguments: topic, partition, flags, opaque, key, value, headers, timestamp.
                // Stack-allocated.
                withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { arguments in
                    var count = 0
                    var argument = rd_kafka_vu_t()
                    argument.vtype = RD_KAFKA_VTYPE_RKT
                    argument.u.rkt = topicHandle
                    arguments[count] = argument
                    count += 1

                    argument = rd_kafka_vu_t()
                    argument.vtype = RD_KAFKA_VTYPE_PARTITION
                    argument.u.i32 = partition ?? Self.unassignedPartition
                    arguments[count] = argument
                    count += 1

                    argument = rd_kafka_vu_t()
                    argument.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    argument.u.i = RD_KAFKA_MSG_F_COPY
                    arguments[count] = argument
                    count += 1

                    // The correlation travels as the message's opaque pointer bits: no allocation per message.
                    argument = rd_kafka_vu_t()
                    argument.vtype = RD_KAFKA_VTYPE_OPAQUE
                    argument.u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(correlation))
                    arguments[count] = argument
                    count += 1

                    // An absent KEY / VALUE argument is what makes librdkafka send a null key / value.
                    if let keyAddress {
                        argument = rd_kafka_vu_t()
                        argument.vtype = RD_KAFKA_VTYPE_KEY
                        argument.u.mem.ptr = keyAddress
                        argument.u.mem.size = keyCount
                        arguments[count] = argument
                        count += 1
                    }
                    if let valueAddress {
                        argument = rd_kafka_vu_t()
                        argument.vtype = RD_KAFKA_VTYPE_VALUE
                        argument.u.mem.ptr = valueAddress
                        argument.u.mem.size = valueCount
                        arguments[count] = argument
                        count += 1
                    }
                    if let headerList {
                        argument = rd_kafka_vu_t()
                        argument.vtype = RD_KAFKA_VTYPE_HEADERS
                        argument.u.headers = headerList
                        arguments[count] = argument
                        count += 1
                    }
                    if let timestamp {
                        argument = rd_kafka_vu_t()
                        argument.vtype = RD_KAFKA_VTYPE_TIMESTAMP
                        argument.u.i64 = timestamp
                        arguments[count] = argument
                        count += 1
                    }
                    return rd_kafka_produceva(handle, arguments.baseAddress, count)
                }
            }
        }
        guard let failure else { return .enqueued }

        context.enqueuedCount.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        if let headerList { rd_kafka_headers_destroy(headerList) }
        defer { rd_kafka_error_destroy(failure) }
        if rd_kafka_error_code(failure) == RD_KAFKA_RESP_ERR__QUEUE_FULL {
            context.queueFullMark.store(
                context.reportedCount.load(ordering: .sequentiallyConsistent), ordering: .sequentiallyConsistent
            )
            return .queueFull
        }
        let error = KafkaError(borrowing: failure)
        logger.trace("message rejected", metadata: ["kafka.topic": "\(topic)", "kafka.error.name": "\(error.name)"])
        return .failed(error)
    }

    /// Same as the `ArraySlice` variant, for whole arrays.
    @_disfavoredOverload
    public func produce(
        topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = [], partition: Int32? = nil,
        timestamp: Int64? = nil, correlation: UInt64
    ) -> ProduceResult {
        produce(topic: topic, key: key?[...], value: value?[...], headers: headers, partition: partition,
                timestamp: timestamp, correlation: correlation)
    }

    /// After `.queueFull`: blocks until a quarter of the queue's message capacity has been reported since
    /// that result, or nothing is outstanding, or `timeout` passes. Returns false on timeout. Sleeps on a
    /// condition; it does not spin.
    ///
    /// Why a quarter and not one slot: resuming at the first free slot turns a full queue into a ping-pong,
    /// one delivery report waking the producer for one message, which then reaches librdkafka alone. In
    /// `bench drain` that cost 4 s of reading-thread CPU instead of 1 s, and single-message batches kept
    /// librdkafka's broker thread spinning (see `defaultConfiguration`). Refilling a quarter at a time
    /// hands it bursts that become full batches, while three quarters stay queued for the broker.
    @discardableResult
    public func waitForQueueSpace(timeout: Duration) -> Bool {
        precondition(!pollThread.isCurrentThread, "waitForQueueSpace from a delivery handler would wait for itself")
        let mark = context.queueFullMark.load(ordering: .sequentiallyConsistent)
        let refill = queueRefill
        return context.waitUntilReported(
            atLeast: { min(mark + refill, context.enqueuedCount.load(ordering: .sequentiallyConsistent)) },
            until: .now + timeout
        )
    }

    /// Blocks until every enqueued message has had its delivery report handled (delivered or failed), or
    /// `timeout` passes. Returns true when nothing is left outstanding.
    @discardableResult
    public func flush(timeout: Duration) -> Bool {
        precondition(!pollThread.isCurrentThread, "flush from a delivery handler would wait for itself")
        return context.waitUntilReported(
            atLeast: { context.enqueuedCount.load(ordering: .sequentiallyConsistent) }, until: .now + timeout
        )
    }

    /// The number of partitions `topic` has, from the cluster's metadata: for a producer that places records
    /// itself, as another client's partitioner would (sarama's hash over a key of its own). Asked of a broker
    /// at most once per `partitionCountLifetime` per topic; blocks the calling (dedicated) thread up to
    /// `timeout` when it asks. Topics the broker creates on first use are created by the question.
    ///
    /// After a failure the topic is asked again a second later at the soonest (the call waits out the rest
    /// of that second), so that a caller retrying at once does not spin; `partitionCountFailing(topic:)` says
    /// since when it fails.
    public func partitionCount(topic: String, timeout: Duration = .seconds(5)) throws(KafkaError) -> Int32 {
        let pause = lock.withLock { () -> Duration? in
            guard let failing = partitionCountFailures[topic] else { return nil }
            let sinceLast = failing.lastAskedAt.duration(to: .now)
            return sinceLast < .seconds(1) ? .seconds(1) - sinceLast : nil
        }
        if let pause { usleep(UInt32(clamping: pause.milliseconds * 1000)) }
        let now = ContinuousClock.now
        lock.lock()
        defer { lock.unlock() }
        if let cached = partitionCounts[topic], cached.askedAt.duration(to: now) < Self.partitionCountLifetime {
            return cached.count
        }
        do {
            let count = try askPartitionCount(topic: topic, timeout: timeout)
            partitionCounts[topic] = (count, now)
            partitionCountFailures[topic] = nil
            return count
        } catch {
            partitionCountFailures[topic, default: (now, now)].lastAskedAt = .now
            throw error
        }
    }

    /// Since when asking `topic`'s partition count has failed without a success since; nil when it has not.
    public func partitionCountFailing(topic: String) -> ContinuousClock.Instant? {
        lock.withLock { partitionCountFailures[topic]?.since }
    }

    /// The metadata request. Call with `lock` held.
    private func askPartitionCount(topic: String, timeout: Duration) throws(KafkaError) -> Int32 {
        guard let handle else { throw .producerShutDown }
        guard let topicHandle = topicHandle(for: topic, in: handle) else {
            throw KafkaError(code: rd_kafka_last_error())
        }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let asked = rd_kafka_metadata(handle, 0, topicHandle, &metadata, Int32(clamping: timeout.milliseconds))
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        guard asked == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: asked) }
        guard let metadata, metadata.pointee.topic_cnt > 0, let topics = metadata.pointee.topics else {
            throw KafkaError(code: RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC.rawValue, message: "the broker described no topic \(topic)")
        }
        let described = topics[0]
        guard described.err == RD_KAFKA_RESP_ERR_NO_ERROR, described.partition_cnt > 0 else {
            let code = described.err == RD_KAFKA_RESP_ERR_NO_ERROR ? RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION : described.err
            throw KafkaError(code: code)
        }
        return described.partition_cnt
    }

    /// How long a topic's partition count is used before the cluster is asked again: librdkafka's own
    /// metadata refresh interval, so partitions added to a topic are used as soon as librdkafka would.
    public static let partitionCountLifetime: Duration = .seconds(300)

    /// librdkafka's count of messages (and requests) not yet fully handled: queued, in flight, or waiting for
    /// their delivery report to be served (`rd_kafka_outq_len`). 0 after shutdown. librdkafka stops counting
    /// a message just after its delivery handler returns, so right after `flush` this can still briefly
    /// count the last report.
    public var outstandingMessageCount: Int {
        lock.withLock { handle.map { Int(rd_kafka_outq_len($0)) } ?? 0 }
    }

    /// The fatal error librdkafka raised, if any; once set, the producer must be shut down and replaced.
    public var fatalError: KafkaError? { context.fatalError }

    /// Stops the producer. Idempotent; `deinit` calls it.
    ///
    /// It does not flush (call `flush` first). Messages still outstanding are purged and reported to the
    /// delivery handler as failed (`_PURGE_QUEUE`, or `_PURGE_INFLIGHT` when they may have reached the
    /// broker), so no message disappears without a report. Then it stops the poll thread, destroys the topic
    /// handles and destroys the librdkafka instance. Must not be called from the delivery handler.
    public func shutdown() {
        precondition(!pollThread.isCurrentThread, "KafkaProducer.shutdown() called from a delivery handler")
        let taken: (handle: UncheckedHandle, topics: [UncheckedHandle])? = lock.withLock {
            guard let current = self.handle else { return nil }
            let topics = self.topicHandles.values.map(UncheckedHandle.init(pointer:))
            self.handle = nil
            self.topicHandles = [:]
            return (UncheckedHandle(pointer: current), topics)
        }
        guard let taken else { return }
        let handle = taken.handle.pointer

        let undelivered = context.undeliveredCount
        if undelivered > 0 {
            logger.warning(
                "Kafka producer shutting down with undelivered messages; they are reported as failed",
                metadata: ["kafka.undelivered": .stringConvertible(undelivered)]
            )
            let purged = rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
            if purged != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.error("purging the producer queue failed", metadata: ["kafka.error.name": "\(KafkaError(code: purged).name)"])
            }
            // Purged messages' reports are served by the poll thread, still running.
            let allReported = context.waitUntilReported(
                atLeast: { context.enqueuedCount.load(ordering: .sequentiallyConsistent) }, until: .now + .seconds(10)
            )
            if !allReported {
                logger.error(
                    "delivery reports missing after purging; those messages have no report",
                    metadata: ["kafka.undelivered": .stringConvertible(context.undeliveredCount)]
                )
            }
        }
        pollThread.stop()
        for topic in taken.topics {
            rd_kafka_topic_destroy(topic.pointer)
        }
        rd_kafka_destroy(handle)
        logger.debug("Kafka producer stopped")
    }

    // MARK: - Private

    /// `RD_KAFKA_PARTITION_UA`, a cast macro Swift does not import: let the partitioner decide.
    private static let unassignedPartition: Int32 = -1

    /// The cached topic handle for `topic`, created on first use. Call with `lock` held.
    private func topicHandle(for topic: String, in handle: OpaquePointer) -> OpaquePointer? {
        if let cached = topicHandles[topic] { return cached }
        // No topic configuration: topic-level properties come from the producer configuration.
        let created: OpaquePointer? = rd_kafka_topic_new(handle, topic, nil)
        guard let created else { return nil }
        topicHandles[topic] = created
        return created
    }

    /// A new `rd_kafka_headers_t` holding copies of `headers`; the caller owns it.
    private static func makeHeaderList(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard let list = rd_kafka_headers_new(headers.count) else { return nil }
        for header in headers {
            // Native Swift strings are stored NUL-terminated, so withCString does not copy here.
            header.name.withCString { name in
                withBytes(header.value?[...]) { address, count in
                    // Only fails for the read-only header lists of consumed messages, never for a new list.
                    _ = rd_kafka_header_add(list, name, -1, address, count)
                }
            }
        }
        return list
    }

    /// Calls `body` with the address and count of `bytes`: `nil` for `nil` bytes, and a valid non-null
    /// address for empty bytes (librdkafka treats a null address as a null key or value).
    @inline(__always)
    private static func withBytes<Result>(
        _ bytes: ArraySlice<UInt8>?, _ body: (UnsafeMutableRawPointer?, Int) -> Result
    ) -> Result {
        guard let bytes else { return body(nil, 0) }
        return bytes.withUnsafeBytes { buffer in
            // librdkafka only reads from it (the COPY flag); `mutating` just matches the C signature.
            let address = buffer.baseAddress ?? UnsafeRawPointer(Self.emptyBytes.utf8Start)
            return body(UnsafeMutableRawPointer(mutating: address), buffer.count)
        }
    }

    /// A static, never-written byte: the non-null address given for empty keys, values and header values.
    private static let emptyBytes: StaticString = ""
}
