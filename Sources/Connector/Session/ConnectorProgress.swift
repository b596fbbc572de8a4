import KafkaClient
import PostgresLSN
import PostgresNames

/// What one run of the connector knows across its replication sessions: how far Kafka has acknowledged
/// (the checkpoint tracker), what still waits, the counts it reports at stop, and the server history it last
/// streamed from. Owned by the reading thread alone: delivery reports reach it through `DeliveryInbox`.
struct ConnectorProgress: Sendable {
    var tracker = CheckpointTracker(confirmed: .zero)
    /// A fatal error reported by Kafka (the producer failed, or a record was refused under `--on-error fail`).
    var fatalError: ConnectorError?
    /// Records Kafka refused, waiting to be sent to the dead-letter topic (`ErrorPolicy.deadLetter`).
    var deadLetters: [PendingDeadLetter] = []
    var skippedEvents = 0
    var deadLetteredEvents = 0
    /// The last moment Kafka made progress: an acknowledgement, or events starting to wait after none did.
    var lastProgress = ContinuousClock.now
    /// The confirmed transactions the metrics counter has been told of.
    var transactionsCounted: UInt64 = 0
    /// Kept across sessions, so that a stall that outlives a reconnect is reported as one.
    var stallWatch = AcknowledgementStallWatch()
    /// Relations whose role was logged: each is logged once a run, not once a session.
    var announcedRelations: Set<QualifiedTableName> = []
    /// The transaction a broken session was reading, for the next session to continue rather than repeat.
    var interrupted: InterruptedTransaction?
    /// The server history of the last session: resuming past the slot is safe only on the same one.
    var history: ServerHistory?
    /// A session of this run prepared the slot: if it is missing later, it was lost.
    var slotSeen = false
    /// Streamed transactions passed the memory bound once: later sessions do not ask for streaming.
    var streamingTurnedOff = false
    /// The old relay's dead letters were counted and logged this run.
    var deadLettersCounted = false
    /// The rows of transactions in flight, for `--mark-published` (empty when it is off).
    var publishedRows = PublishedRowLedger()

    /// The rows whose transactions are now confirmed, to be marked as the old relay would have.
    mutating func takeConfirmedRows() -> [PublishedRow] {
        guard !publishedRows.isEmpty else {
            // Nothing to mark: what the tracker kept of abandoned transactions is of no use.
            _ = tracker.takeAbandonedAndRetired()
            return []
        }
        return publishedRows.takeConfirmed(from: &tracker)
    }

    /// An event is about to be handed to Kafka. The first of a busy spell starts the acknowledgement wait.
    mutating func eventProduced(in ticket: CheckpointTracker.Ticket, now: ContinuousClock.Instant) {
        if tracker.eventsInFlight == 0 { lastProgress = now }
        tracker.eventProduced(in: ticket)
    }

    /// The first fatal error stands: it is the one the run ends with.
    private mutating func failOnce(_ error: ConnectorError) {
        if fatalError == nil { fatalError = error }
    }

    /// Applies one delivery outcome under the error policy; returns what is worth saying about it.
    mutating func apply(_ outcome: DeliveryOutcome, policy: ErrorPolicy, now: ContinuousClock.Instant) -> SessionNotice? {
        switch outcome {
        case .acknowledged(let ticket, let at, let sinceProduce):
            let commitTime = tracker.commitTime(of: ticket)
            _ = tracker.eventAcknowledged(in: ticket)
            lastProgress = now
            guard let commitTime, commitTime != 0 else { return nil }
            return .acknowledged(AcknowledgementTiming(commitTime: commitTime, acknowledgedAt: at, sinceProduce: sinceProduce))
        case .producerFailed(let error):
            failOnce(.kafka(error))
            return nil
        case .heartbeatReported(let error):
            return error.map { .heartbeatNotDelivered("\($0)") }
        case .failed(let ticket, let topic, let eventID, let error, let undelivered):
            return refused(ticket, topic: topic, eventID: eventID, error: error, undelivered: undelivered, policy: policy)
        }
    }

    /// A record Kafka did not take. One it refuses for what it is goes to the error policy; any other
    /// failure (and any refusal under `fail`, or of a dead letter) is fatal, the slot staying before it.
    private mutating func refused(
        _ ticket: CheckpointTracker.Ticket, topic: String, eventID: String, error: KafkaError,
        undelivered: KafkaMessageContent?, policy: ErrorPolicy
    ) -> SessionNotice? {
        let fatal = ConnectorError.deliveryFailed(eventID: eventID, topic: topic, error: error, confirmed: tracker.confirmed)
        guard error.refusesThisRecord, let undelivered else {
            failOnce(fatal)
            return nil
        }
        switch policy {
        case .fail:
            failOnce(fatal)
            return nil
        case .deadLetter(let deadLetterTopic):
            // The dead letter itself refused: there is nowhere left to put it.
            guard topic != deadLetterTopic else {
                failOnce(fatal)
                return nil
            }
            deadLetters.append(PendingDeadLetter(
                ticket: ticket, originalTopic: topic, content: DeadLetterContent.of(undelivered, refusedFor: error),
                reason: "\(error)", eventID: eventID
            ))
            return nil
        case .skip:
            skippedEvents += 1
            let lsn = tracker.endLSN(of: ticket)
            _ = tracker.eventAcknowledged(in: ticket)
            return .skippedRefusedRecord(eventID: eventID, topic: topic, error: "\(error)", lsn: lsn)
        }
    }
}

/// The server a session streamed from: its system identifier and timeline.
struct ServerHistory: Sendable, Equatable {
    var systemIdentifier: String
    var timeline: Int
}

/// A transaction whose reading a broken session cut short. Its events handed to Kafka stay in flight under
/// its ticket; when the next session reads the same transaction again (same xid and commit position), the
/// changes already handled are passed over, so that none is published twice.
struct InterruptedTransaction: Sendable, Equatable {
    var ticket: CheckpointTracker.Ticket
    var transactionID: UInt32?
    /// The Begin's final LSN: the commit's position, the same however often the transaction is sent.
    var commitLSN: LSN
    /// The data changes handled before the break, and the position of the last: the server sends the same
    /// changes in the same order again, which the positions check.
    var changesHandled: Int
    var lastChangePosition: LSN
}
