import KafkaClient
import Synchronization
import WALReader

/// What librdkafka's delivery-report thread tells the reading thread: the one thing the two threads share
/// besides the stop request. The reporting thread only appends; the reading thread takes everything at once
/// and hands it to its `SessionMachine`, which alone owns the checkpoint tracker.
enum DeliveryOutcome: Sendable {
    /// Kafka acknowledged an event; `at` is when, in Unix microseconds (for the commit-to-acknowledgement timing).
    case acknowledged(CheckpointTracker.Ticket, at: Int64)
    /// Kafka did not take an event. `undelivered` is the record (librdkafka gives it back), for a dead letter.
    case failed(CheckpointTracker.Ticket, topic: String, eventID: String, error: KafkaError, undelivered: KafkaMessageContent?)
    /// The idempotent producer lost its guarantees: nothing more may be produced.
    case producerFailed(KafkaError)
}

/// The typed boundary between the delivery-report thread and the reading thread.
final class DeliveryInbox: Sendable {
    private let outcomes = Mutex<[DeliveryOutcome]>([])
    /// Interrupts the reading thread's wait on the socket for an outcome that cannot wait.
    private let wakeup: Wakeup

    init(wakeup: Wakeup) {
        self.wakeup = wakeup
    }

    /// On the delivery-report thread. An acknowledgement does not wake the reader: while events wait for
    /// Kafka its reads last at most 10 ms (`SessionMachine.promptConfirmationSpacing`), so it is taken in
    /// within that anyway, and a wake-up per acknowledgement would cost two context switches per event on a
    /// busy machine. A failure wakes it (once a batch): it may stop the run or need a dead letter.
    func post(_ outcome: DeliveryOutcome) {
        let wake = outcomes.withLock { outcomes in
            outcomes.append(outcome)
            if case .acknowledged = outcome { return false }
            return !outcomes.dropLast().contains { if case .acknowledged = $0 { false } else { true } }
        }
        if wake { wakeup.signal() }
    }

    /// On the reading thread: everything posted since the last take, in the order it was posted.
    func takeAll() -> [DeliveryOutcome] {
        outcomes.withLock { outcomes in
            guard !outcomes.isEmpty else { return [] }
            defer { outcomes.removeAll(keepingCapacity: true) }
            return outcomes
        }
    }
}
