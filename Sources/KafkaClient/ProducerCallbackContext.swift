import CLibRdKafka
import Clocks
import Foundation
import Logging
import Synchronization

/// The producer's callback state: turns librdkafka delivery reports into `DeliveryReport`s, counts them,
/// and wakes threads waiting for reports (`flush`, `waitForQueueSpace`).
///
/// `@unchecked Sendable`: the base class's reasons, plus: counters are atomics; `topicNames` is only
/// touched by `deliveryReportReceived`, which librdkafka calls only from the thread serving the producer's
/// main queue, i.e. the one poll thread (nothing else polls, flushes or consumes that queue).
final class ProducerCallbackContext: ClientCallbackContext, @unchecked Sendable {
    private let deliveryHandler: @Sendable (DeliveryReport) -> Void

    /// Messages accepted by `produce` (counted just before handing them to librdkafka, and taken back if
    /// librdkafka refuses them), and delivery reports handed to `deliveryHandler`.
    let enqueuedCount = Atomic<Int>(0)
    let reportedCount = Atomic<Int>(0)
    /// `reportedCount` when `produce` last returned `.queueFull`: space appears once a report is served after it.
    let queueFullMark = Atomic<Int>(0)

    /// The lowest `reportedCount` any waiter needs (`Int.max` when nobody waits), so that a delivery report
    /// only takes the lock and broadcasts when it completes some waiter's wait (a flush of 200,000 messages
    /// wakes its waiter once, not 200,000 times); otherwise a report costs two atomic operations.
    private let wakeThreshold = Atomic<Int>(.max)
    private let reportServed = NSCondition()

    /// Topic names by topic handle, so a delivery report shares one `String` per topic instead of building
    /// one per message. Valid keys: the producer never destroys a topic handle before `rd_kafka_destroy`.
    private var topicNames: [OpaquePointer: String] = [:]

    init(
        configuration: [String: String], logger: Logger, fatalErrorHandler: (@Sendable (KafkaError) -> Void)?,
        deliveryHandler: @escaping @Sendable (DeliveryReport) -> Void
    ) {
        self.deliveryHandler = deliveryHandler
        super.init(configuration: configuration, logger: logger, fatalErrorHandler: fatalErrorHandler)
    }

    /// Messages enqueued whose report has not been handed to the delivery handler yet.
    var undeliveredCount: Int {
        enqueuedCount.load(ordering: .sequentiallyConsistent) - reportedCount.load(ordering: .sequentiallyConsistent)
    }

    override func install(on conf: OpaquePointer) {
        super.install(on: conf)
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            guard let message, let opaque else { return }
            let context = Unmanaged<ClientCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
            unsafeDowncast(context, to: ProducerCallbackContext.self).deliveryReportReceived(message)
        }
    }

    private func deliveryReportReceived(_ message: UnsafePointer<rd_kafka_message_t>) {
        let correlation = UInt64(UInt(bitPattern: message.pointee._private))
        let code = message.pointee.err
        var error: KafkaError?
        var idHeader: [UInt8]?
        var undelivered: KafkaMessageContent?
        if code != RD_KAFKA_RESP_ERR_NO_ERROR {
            // Not rd_kafka_message_errstr: for a produced message it returns the payload as if it were text.
            let failure = KafkaError(code: code)
            error = failure
            idHeader = Self.lastHeaderValue(named: "id", in: message)
            undelivered = KafkaMessageContent(copying: message)
            logger.trace(
                "message not delivered",
                metadata: ["kafka.correlation": .stringConvertible(correlation), "kafka.error.name": "\(failure.name)"]
            )
        }
        let report = DeliveryReport(
            correlation: correlation,
            topic: topicName(of: message.pointee.rkt),
            partition: message.pointee.partition,
            offset: message.pointee.offset,
            error: error,
            byteCount: message.pointee.len + message.pointee.key_len,
            microsecondsSinceProduce: rd_kafka_message_latency(message),
            idHeader: idHeader,
            undelivered: undelivered
        )
        deliveryHandler(report)
        let reported = reportedCount.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
        // Pairs with waitUntilReported: either the waiter reads the new count before sleeping, or this reads
        // the waiter's threshold and broadcasts under the lock the waiter holds until it sleeps.
        if reported >= wakeThreshold.load(ordering: .sequentiallyConsistent) {
            reportServed.lock()
            // Woken waiters that still need more lower it again.
            wakeThreshold.store(.max, ordering: .sequentiallyConsistent)
            reportServed.broadcast()
            reportServed.unlock()
        }
    }

    private func topicName(of topic: OpaquePointer?) -> String {
        guard let topic else { return "" }
        if let name = topicNames[topic] { return name }
        let name = String(cString: rd_kafka_topic_name(topic))
        topicNames[topic] = name
        return name
    }

    private static func lastHeaderValue(named name: String, in message: UnsafePointer<rd_kafka_message_t>) -> [UInt8]? {
        var headers: OpaquePointer?
        // The headers stay owned by the message.
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else {
            return nil
        }
        var value: UnsafeRawPointer?
        var size = 0
        guard rd_kafka_header_get_last(headers, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR,
              let value else { return nil }
        return Array(UnsafeRawBufferPointer(start: value, count: size))
    }

    /// Blocks the calling thread until `reportedCount` reaches `target()` (re-evaluated after each wake-up,
    /// since more messages may have been enqueued meanwhile) or `deadline`. Returns whether it was reached.
    /// Also wakes every 10 ms, for targets that move without a report (a refused message's count).
    func waitUntilReported(atLeast target: () -> Int, until deadline: ContinuousClock.Instant) -> Bool {
        reportServed.lock()
        defer { reportServed.unlock() }
        while true {
            let needed = target()
            let current = wakeThreshold.load(ordering: .sequentiallyConsistent)
            if needed < current {
                wakeThreshold.store(needed, ordering: .sequentiallyConsistent)
            }
            if reportedCount.load(ordering: .sequentiallyConsistent) >= needed { return true }
            let remaining = deadline - .now
            if remaining <= .zero { return false }
            let slice = min(remaining, .milliseconds(10))
            _ = reportServed.wait(until: Date(timeIntervalSinceNow: slice.seconds))
        }
    }
}
