import KafkaClient
import Synchronization
import WALReader

/// What librdkafka's delivery-report thread tells the reading thread: the one thing the two threads share
/// besides the stop request. The reporting thread only appends; the reading thread takes everything at once
/// and hands it to its `SessionMachine`, which alone owns the checkpoint tracker.
enum DeliveryOutcome: Sendable {
    /// Kafka acknowledged an event; `at` is when, in Unix microseconds, and `sinceProduce` the microseconds
    /// since librdkafka took it (librdkafka's own measure; for the timings).
    case acknowledged(CheckpointTracker.Ticket, at: Int64, sinceProduce: Int64)
    /// Kafka did not take an event. `undelivered` is the record (librdkafka gives it back), for a dead letter.
    case failed(CheckpointTracker.Ticket, topic: String, eventID: String, error: KafkaError, undelivered: KafkaMessageContent?)
    /// The idempotent producer lost its guarantees: nothing more may be produced.
    case producerFailed(KafkaError)
    /// The report of a heartbeat record (Debezium's format): nil when delivered. It confirms nothing.
    case heartbeatReported(KafkaError?)

    /// A failure the reading thread must see at once.
    var isFailure: Bool {
        switch self {
        case .failed, .producerFailed: true
        case .acknowledged, .heartbeatReported: false
        }
    }
}

/// The typed boundary between the delivery-report thread and the reading thread.
final class DeliveryInbox: Sendable {
    private struct Posted {
        var outcomes: [DeliveryOutcome] = []
        /// Every outcome posted since the start, taken or not.
        var count = 0
        /// The reading thread wants to be woken by the next acknowledgement.
        var acknowledgementWakeWanted = false
    }
    private let posted = Mutex(Posted())
    /// Interrupts the reading thread's wait on the socket for an outcome that cannot wait.
    private let wakeup: Wakeup

    init(wakeup: Wakeup) {
        self.wakeup = wakeup
    }

    /// On the delivery-report thread. A failure wakes the reading thread (once a batch): it may stop the run
    /// or need a dead letter. An acknowledgement wakes it only when it asked to be (`wakeOnAcknowledgement`),
    /// and then once: while a confirmed position waits for the spacing of status updates, the reading thread
    /// has a timer of its own and more wake-ups would cost context switches for nothing.
    func post(_ outcome: DeliveryOutcome) {
        let wake = posted.withLock { posted in
            posted.outcomes.append(outcome)
            posted.count += 1
            switch outcome {
            case .acknowledged:
                guard posted.acknowledgementWakeWanted else { return false }
                posted.acknowledgementWakeWanted = false
                return true
            case .heartbeatReported:
                return false
            case .failed, .producerFailed:
                // Once a batch: an earlier failure not yet taken has woken the reader already.
                return !posted.outcomes.dropLast().contains(where: \.isFailure)
            }
        }
        if wake { wakeup.signal() }
    }

    /// On the reading thread, before it waits: whether the next acknowledgement should wake it (when it
    /// could send what that acknowledgement confirms at once). Returns false when outcomes are already
    /// waiting, to be taken before any wait.
    func wakeOnAcknowledgement(_ wanted: Bool) -> Bool {
        posted.withLock { posted in
            posted.acknowledgementWakeWanted = wanted && posted.outcomes.isEmpty
            return posted.outcomes.isEmpty
        }
    }

    /// Waits (bounded) until `reports` outcomes in all have been posted. librdkafka's flush returns once its
    /// queue is empty, a moment before the poll thread has run the last delivery report callbacks: a stop's
    /// final status update must count them.
    func waitUntilPosted(_ reports: Int, timeout: Duration) {
        let deadline = ContinuousClock.now + timeout
        while posted.withLock({ $0.count }) < reports, ContinuousClock.now < deadline {
            _ = wakeup.wait(timeout: .milliseconds(1))
        }
    }

    /// On the reading thread: everything posted since the last take, in the order it was posted.
    func takeAll() -> [DeliveryOutcome] {
        posted.withLock { posted in
            guard !posted.outcomes.isEmpty else { return [] }
            defer { posted.outcomes.removeAll(keepingCapacity: true) }
            return posted.outcomes
        }
    }
}
