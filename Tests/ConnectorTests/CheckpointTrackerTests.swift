import Connector
import PostgresLSN
import Testing

@Suite("CheckpointTracker")
struct CheckpointTrackerTests {
    /// Begins a transaction, produces `events` events in it and commits it at `end`.
    static func committed(_ tracker: inout CheckpointTracker, events: Int, end: UInt64) -> (CheckpointTracker.Ticket, LSN?) {
        let ticket = tracker.beginTransaction()
        for _ in 0..<events { tracker.eventProduced(in: ticket) }
        return (ticket, tracker.commitTransaction(ticket, endLSN: LSN(end)))
    }

    @Test func startsIdleAtTheGivenPosition() {
        let tracker = CheckpointTracker(confirmed: LSN(0x16_B374_D848))
        #expect(tracker.confirmed == LSN(0x16_B374_D848))
        #expect(tracker.isIdle)
        #expect(tracker.eventsInFlight == 0)
    }

    @Test func inOrderAcksConfirmEachTransactionWhenItsLastEventIsAcknowledged() {
        var tracker = CheckpointTracker(confirmed: LSN(10))
        let (t1, c1) = Self.committed(&tracker, events: 2, end: 100)
        let (t2, c2) = Self.committed(&tracker, events: 1, end: 200)
        #expect(c1 == nil && c2 == nil)
        #expect(tracker.confirmed == LSN(10))
        #expect(tracker.eventsInFlight == 3)
        #expect(!tracker.isIdle)

        #expect(tracker.eventAcknowledged(in: t1) == nil, "one of two events of t1 is still in flight")
        #expect(tracker.confirmed == LSN(10))
        #expect(tracker.eventAcknowledged(in: t1) == LSN(100))
        #expect(tracker.confirmed == LSN(100))
        #expect(!tracker.isIdle)
        #expect(tracker.eventAcknowledged(in: t2) == LSN(200))
        #expect(tracker.confirmed == LSN(200))
        #expect(tracker.isIdle)
        #expect(tracker.eventsInFlight == 0)
    }

    @Test func laterTransactionsAcknowledgedFirstWaitForTheEarliest() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let (t1, _) = Self.committed(&tracker, events: 2, end: 100)
        let (t2, _) = Self.committed(&tracker, events: 1, end: 200)
        let (t3, _) = Self.committed(&tracker, events: 3, end: 300)
        let (t4, _) = Self.committed(&tracker, events: 1, end: 400)

        for _ in 0..<3 { #expect(tracker.eventAcknowledged(in: t3) == nil) }
        #expect(tracker.eventAcknowledged(in: t2) == nil)
        #expect(tracker.eventAcknowledged(in: t1) == nil)
        #expect(tracker.confirmed == .zero, "t1 still has an event in flight")
        #expect(tracker.eventsInFlight == 2)

        // The last event of t1 releases t1, t2 and t3 at once; t4 still holds the watermark back.
        #expect(tracker.eventAcknowledged(in: t1) == LSN(300))
        #expect(tracker.confirmed == LSN(300))
        #expect(!tracker.isIdle)
        #expect(tracker.eventAcknowledged(in: t4) == LSN(400))
        #expect(tracker.isIdle)
    }

    @Test func aGapInTheMiddleStopsTheWatermark() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let (t1, _) = Self.committed(&tracker, events: 1, end: 100)
        let (t2, _) = Self.committed(&tracker, events: 1, end: 200)
        let (t3, _) = Self.committed(&tracker, events: 1, end: 300)
        #expect(tracker.eventAcknowledged(in: t3) == nil)
        #expect(tracker.eventAcknowledged(in: t1) == LSN(100), "t2 is unacknowledged: stop at t1's end")
        #expect(tracker.confirmed == LSN(100))
        #expect(tracker.eventAcknowledged(in: t2) == LSN(300))
    }

    @Test func transactionWithoutEventsConfirmsAtCommitWhenNothingIsAhead() {
        var tracker = CheckpointTracker(confirmed: LSN(5))
        let ticket = tracker.beginTransaction()
        #expect(!tracker.isIdle, "an open transaction is in progress, even without events")
        #expect(tracker.commitTransaction(ticket, endLSN: LSN(50)) == LSN(50))
        #expect(tracker.confirmed == LSN(50))
        #expect(tracker.isIdle)
    }

    @Test func transactionWithoutEventsWaitsForEarlierOnes() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let (t1, _) = Self.committed(&tracker, events: 1, end: 100)
        let (_, c2) = Self.committed(&tracker, events: 0, end: 200)
        #expect(c2 == nil, "t1 is not acknowledged yet")
        #expect(tracker.confirmed == .zero)
        #expect(tracker.eventAcknowledged(in: t1) == LSN(200), "t2 had nothing to wait for")
        #expect(tracker.isIdle)
    }

    @Test func transactionWithoutEventsWaitsForAnEarlierOpenTransaction() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let t1 = tracker.beginTransaction()
        tracker.eventProduced(in: t1)
        #expect(tracker.eventAcknowledged(in: t1) == nil, "not committed yet")
        #expect(tracker.confirmed == .zero)
        #expect(tracker.eventsInFlight == 0)
        #expect(!tracker.isIdle)
        #expect(tracker.commitTransaction(t1, endLSN: LSN(100)) == LSN(100))
    }

    @Test func acknowledgementsBeforeTheCommitConfirmNothingUntilTheCommit() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let ticket = tracker.beginTransaction()
        for _ in 0..<5 { tracker.eventProduced(in: ticket) }
        for _ in 0..<5 { #expect(tracker.eventAcknowledged(in: ticket) == nil) }
        #expect(tracker.confirmed == .zero)
        #expect(tracker.eventsInFlight == 0)
        #expect(!tracker.isIdle)
        #expect(tracker.commitTransaction(ticket, endLSN: LSN(77)) == LSN(77))
        #expect(tracker.isIdle)
    }

    @Test func commitBehindTheWatermarkNeverMovesItBack() {
        // After a reconnect the server may replay transactions the tracker already confirmed past.
        var tracker = CheckpointTracker(confirmed: LSN(500))
        let (t1, c1) = Self.committed(&tracker, events: 1, end: 300)
        #expect(c1 == nil)
        #expect(tracker.eventAcknowledged(in: t1) == nil, "300 < 500: nothing moves")
        #expect(tracker.confirmed == LSN(500))
        #expect(tracker.isIdle)
        let (_, c2) = Self.committed(&tracker, events: 0, end: 500)
        #expect(c2 == nil, "equal is not a move")
        let (_, c3) = Self.committed(&tracker, events: 0, end: 501)
        #expect(c3 == LSN(501))
    }

    // MARK: - Keepalives

    @Test func keepaliveConfirmsOnlyWhenIdleAndOnlyForward() {
        var tracker = CheckpointTracker(confirmed: LSN(100))
        #expect(tracker.serverSent(upTo: LSN(150)) == LSN(150))
        #expect(tracker.confirmed == LSN(150))
        #expect(tracker.serverSent(upTo: LSN(150)) == nil, "not forward")
        #expect(tracker.serverSent(upTo: LSN(120)) == nil, "never backwards")
        #expect(tracker.confirmed == LSN(150))
        #expect(tracker.serverSent(upTo: .zero) == nil)
        #expect(tracker.confirmed == LSN(150))
    }

    @Test func keepaliveIsIgnoredWhileATransactionIsOpen() {
        var tracker = CheckpointTracker(confirmed: LSN(100))
        let ticket = tracker.beginTransaction()
        #expect(tracker.serverSent(upTo: LSN(900)) == nil, "open transaction without events")
        tracker.eventProduced(in: ticket)
        #expect(tracker.serverSent(upTo: LSN(900)) == nil)
        #expect(tracker.commitTransaction(ticket, endLSN: LSN(1_000)) == nil)
        #expect(tracker.serverSent(upTo: LSN(1_100)) == nil, "committed but unacknowledged")
        #expect(tracker.confirmed == LSN(100))
        #expect(tracker.eventAcknowledged(in: ticket) == LSN(1_000))
        #expect(tracker.serverSent(upTo: LSN(1_100)) == LSN(1_100))
        #expect(tracker.confirmed == LSN(1_100))
    }

    // MARK: - Abandoning

    @Test func abandonedTransactionConfirmsNothingAndIgnoresLateAcks() {
        var tracker = CheckpointTracker(confirmed: LSN(100))
        let t1 = tracker.beginTransaction()
        tracker.eventProduced(in: t1)
        tracker.eventProduced(in: t1)
        #expect(tracker.eventsInFlight == 2)

        tracker.abandonOpenTransaction()
        #expect(tracker.confirmed == LSN(100))
        #expect(tracker.isIdle, "the abandoned transaction no longer holds anything back")
        #expect(tracker.eventsInFlight == 0)

        // Its deliveries still arrive later: ignored, and no negative in-flight count.
        #expect(tracker.eventAcknowledged(in: t1) == nil)
        #expect(tracker.eventAcknowledged(in: t1) == nil)
        #expect(tracker.eventsInFlight == 0)
        #expect(tracker.commitTransaction(t1, endLSN: LSN(200)) == nil, "a stale commit for it is ignored too")
        #expect(tracker.confirmed == LSN(100))

        // The server sends it again under a new ticket.
        let t2 = tracker.beginTransaction()
        #expect(t2 > t1)
        tracker.eventProduced(in: t2)
        tracker.eventProduced(in: t2)
        #expect(tracker.commitTransaction(t2, endLSN: LSN(200)) == nil)
        #expect(tracker.eventAcknowledged(in: t1) == nil, "a late ack of t1 must not count for t2")
        #expect(tracker.eventsInFlight == 2)
        #expect(tracker.eventAcknowledged(in: t2) == nil)
        #expect(tracker.eventAcknowledged(in: t2) == LSN(200))
        #expect(tracker.isIdle)
    }

    @Test func abandonWithNothingOpenChangesNothing() {
        var tracker = CheckpointTracker(confirmed: LSN(10))
        tracker.abandonOpenTransaction()
        #expect(tracker.isIdle && tracker.confirmed == LSN(10))
        let (t1, _) = Self.committed(&tracker, events: 1, end: 100)
        tracker.abandonOpenTransaction()
        #expect(!tracker.isIdle, "a committed transaction is not abandoned")
        #expect(tracker.eventsInFlight == 1)
        #expect(tracker.eventAcknowledged(in: t1) == LSN(100))
    }

    /// The abandoned transaction sits behind an unacknowledged one: it must neither block the watermark
    /// nor be confirmed itself, and its late acks must only touch its own count.
    @Test func abandonedTransactionBehindAPendingOne() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let (t1, _) = Self.committed(&tracker, events: 1, end: 100)
        let t2 = tracker.beginTransaction()
        tracker.eventProduced(in: t2)
        tracker.eventProduced(in: t2)
        tracker.abandonOpenTransaction()
        #expect(tracker.eventsInFlight == 3, "t2 is not retired while t1 is ahead of it")

        let t3 = tracker.beginTransaction()
        #expect(t3 > t2)
        tracker.eventProduced(in: t3)
        #expect(tracker.commitTransaction(t3, endLSN: LSN(300)) == nil)

        #expect(tracker.eventAcknowledged(in: t2) == nil, "late ack of the abandoned transaction")
        #expect(tracker.eventsInFlight == 3)
        #expect(tracker.eventAcknowledged(in: t1) == LSN(100), "t2 is skipped, t3 is still in flight")
        #expect(tracker.eventsInFlight == 1, "t2's remaining event stops counting when it is retired")
        #expect(tracker.eventAcknowledged(in: t2) == nil)
        #expect(tracker.eventsInFlight == 1)
        #expect(tracker.eventAcknowledged(in: t3) == LSN(300))
        #expect(tracker.isIdle && tracker.eventsInFlight == 0)
    }

    /// A Begin while a transaction is open (the stream restarted without an error) abandons it.
    @Test func beginWhileOpenAbandonsThePreviousTransaction() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let (t0, _) = Self.committed(&tracker, events: 1, end: 100)
        let t1 = tracker.beginTransaction()
        tracker.eventProduced(in: t1)
        let t2 = tracker.beginTransaction()
        #expect(t2 > t1)
        // A stale commit for t1 must not make its end confirmable.
        #expect(tracker.commitTransaction(t1, endLSN: LSN(150)) == nil)
        tracker.eventProduced(in: t2)
        #expect(tracker.commitTransaction(t2, endLSN: LSN(200)) == nil)

        #expect(tracker.eventAcknowledged(in: t0) == LSN(100), "not 150: t1 was abandoned, t2 is in flight")
        #expect(tracker.eventAcknowledged(in: t2) == LSN(200))
        #expect(tracker.isIdle)
        #expect(tracker.eventsInFlight == 0)
    }

    // MARK: - Tickets and bookkeeping

    @Test func ticketsStrictlyIncreaseAndAreNeverReused() {
        var tracker = CheckpointTracker(confirmed: .zero)
        var seen = Set<CheckpointTracker.Ticket>()
        var last: CheckpointTracker.Ticket?
        var end: UInt64 = 0
        for round in 0..<3_000 {
            let ticket = tracker.beginTransaction()
            #expect(seen.insert(ticket).inserted, "ticket \(ticket) reused")
            if let last { #expect(ticket > last) }
            last = ticket
            switch round % 3 {
            case 0:
                tracker.abandonOpenTransaction()
            case 1:
                end += 10
                _ = tracker.commitTransaction(ticket, endLSN: LSN(end))
            default:
                break // left open: the next Begin abandons it
            }
            #expect(tracker.isIdle || round % 3 == 2)
        }
        #expect(tracker.confirmed == LSN(end))
    }

    @Test func unknownTicketsAreIgnored() {
        var tracker = CheckpointTracker(confirmed: LSN(1))
        tracker.eventProduced(in: 12_345)
        #expect(tracker.eventsInFlight == 0)
        #expect(tracker.isIdle)
        #expect(tracker.eventAcknowledged(in: 12_345) == nil)
        #expect(tracker.commitTransaction(12_345, endLSN: LSN(99)) == nil)
        #expect(tracker.confirmed == LSN(1))

        let (ticket, _) = Self.committed(&tracker, events: 1, end: 100)
        #expect(tracker.commitTransaction(ticket + 1, endLSN: LSN(999)) == nil, "a ticket not yet issued")
        #expect(tracker.eventAcknowledged(in: ticket + 1) == nil)
        #expect(tracker.eventAcknowledged(in: 0) == nil)
        #expect(tracker.eventsInFlight == 1)
        #expect(tracker.eventAcknowledged(in: ticket) == LSN(100))
        #expect(tracker.eventAcknowledged(in: ticket) == nil, "retired: a duplicate ack is ignored")
        #expect(tracker.eventsInFlight == 0)
    }

    @Test func eventsInFlightCountsEveryProducedAndUnacknowledgedEvent() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let t1 = tracker.beginTransaction()
        for _ in 0..<3 { tracker.eventProduced(in: t1) }
        _ = tracker.commitTransaction(t1, endLSN: LSN(10))
        let t2 = tracker.beginTransaction()
        for _ in 0..<4 { tracker.eventProduced(in: t2) }
        #expect(tracker.eventsInFlight == 7)

        _ = tracker.eventAcknowledged(in: t2)
        #expect(tracker.eventsInFlight == 6)
        // More acks than produced events of t2 (a duplicate delivery report) never go below its count.
        for _ in 0..<10 { _ = tracker.eventAcknowledged(in: t2) }
        #expect(tracker.eventsInFlight == 3)
        for _ in 0..<3 { _ = tracker.eventAcknowledged(in: t1) }
        #expect(tracker.eventsInFlight == 0)
        #expect(tracker.confirmed == LSN(10))
        #expect(!tracker.isIdle, "t2 is still open")
        #expect(tracker.commitTransaction(t2, endLSN: LSN(20)) == LSN(20))
    }

    /// Far more than 1,024 transactions pending and retired, so both compaction paths run (the full
    /// reset when idle and the partial one while a long tail is pending); tickets must keep pointing at
    /// the right transactions throughout.
    @Test func tenThousandTransactionsAcrossCompactions() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let count = 10_000
        var tickets: [CheckpointTracker.Ticket] = []
        for index in 0..<count {
            let ticket = tracker.beginTransaction()
            tickets.append(ticket)
            tracker.eventProduced(in: ticket)
            tracker.eventProduced(in: ticket)
            #expect(tracker.commitTransaction(ticket, endLSN: LSN(UInt64(index + 1) * 100)) == nil)
        }
        #expect(tracker.eventsInFlight == 2 * count)

        // First events of every transaction, newest first: nothing can move.
        for ticket in tickets.reversed() {
            #expect(tracker.eventAcknowledged(in: ticket) == nil)
        }
        #expect(tracker.confirmed == .zero)
        #expect(tracker.eventsInFlight == count)

        // Second events of the first 6,000 in order: each one moves the watermark by exactly one.
        for index in 0..<6_000 {
            #expect(tracker.eventAcknowledged(in: tickets[index]) == LSN(UInt64(index + 1) * 100))
        }
        #expect(tracker.eventsInFlight == count - 6_000)

        // New transactions arrive while 4,000 old ones are still pending.
        var newTickets: [CheckpointTracker.Ticket] = []
        for index in count..<(count + 3_000) {
            let ticket = tracker.beginTransaction()
            #expect(ticket > tickets.last!)
            newTickets.append(ticket)
            tracker.eventProduced(in: ticket)
            #expect(tracker.commitTransaction(ticket, endLSN: LSN(UInt64(index + 1) * 100)) == nil)
        }
        // Acknowledge the new ones first (out of order): still held back by the old tail.
        for ticket in newTickets.reversed() {
            #expect(tracker.eventAcknowledged(in: ticket) == nil)
        }
        #expect(tracker.confirmed == LSN(6_000 * 100))

        // The old tail newest first: only the very last (oldest) acknowledgement moves anything, and
        // it releases everything.
        for index in (6_001..<count).reversed() {
            #expect(tracker.eventAcknowledged(in: tickets[index]) == nil)
        }
        #expect(tracker.confirmed == LSN(6_000 * 100))
        #expect(tracker.eventAcknowledged(in: tickets[6_000]) == LSN(UInt64(count + 3_000) * 100))
        #expect(tracker.isIdle)
        #expect(tracker.eventsInFlight == 0)

        // And the tracker keeps working after the compactions.
        let after = tracker.beginTransaction()
        #expect(after > newTickets.last!)
        tracker.eventProduced(in: after)
        _ = tracker.commitTransaction(after, endLSN: LSN(2_000_000))
        #expect(tracker.eventAcknowledged(in: tickets[0]) == nil, "long-retired ticket")
        #expect(tracker.eventAcknowledged(in: after) == LSN(2_000_000))
    }

    /// A failover onto a history that forked before the confirmed position: in-flight transactions never
    /// confirm, and the watermark goes back to the fork.
    @Test func rewindAbandonsEverythingInFlightAndMovesTheWatermarkBack() {
        var tracker = CheckpointTracker(confirmed: LSN(100))
        _ = Self.committed(&tracker, events: 0, end: 200)
        let (inFlight, _) = Self.committed(&tracker, events: 2, end: 300)
        #expect(tracker.confirmed == LSN(200))
        tracker.rewind(to: LSN(150))
        #expect(tracker.confirmed == LSN(150))
        #expect(tracker.isIdle)
        // Late acknowledgements of the abandoned transaction confirm nothing.
        #expect(tracker.eventAcknowledged(in: inFlight) == nil)
        #expect(tracker.eventAcknowledged(in: inFlight) == nil)
        #expect(tracker.confirmed == LSN(150))
        // The new primary's transactions after the fork confirm as usual.
        let (_, moved) = Self.committed(&tracker, events: 0, end: 180)
        #expect(moved == LSN(180))
    }
}

@Suite("CheckpointTracker: the oldest unacknowledged event")
struct OldestUnacknowledgedEventTests {
    @Test func noneWhileNothingWaits() {
        var tracker = CheckpointTracker(confirmed: .zero)
        #expect(tracker.oldestUnacknowledgedCommitTime == nil)
        let ticket = tracker.beginTransaction(commitTime: 1_000)
        #expect(tracker.oldestUnacknowledgedCommitTime == nil, "a transaction with no event produced has nothing waiting")
        tracker.eventProduced(in: ticket)
        _ = tracker.commitTransaction(ticket, endLSN: LSN(100))
        _ = tracker.eventAcknowledged(in: ticket)
        #expect(tracker.oldestUnacknowledgedCommitTime == nil)
    }

    @Test func theOldestTransactionWithAnEventWaitingGivesTheTime() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let first = tracker.beginTransaction(commitTime: 1_000)
        tracker.eventProduced(in: first)
        tracker.eventProduced(in: first)
        _ = tracker.commitTransaction(first, endLSN: LSN(100))
        let second = tracker.beginTransaction(commitTime: 2_000)
        tracker.eventProduced(in: second)
        _ = tracker.commitTransaction(second, endLSN: LSN(200))
        let third = tracker.beginTransaction(commitTime: 3_000)
        tracker.eventProduced(in: third)
        _ = tracker.commitTransaction(third, endLSN: LSN(300))
        #expect(tracker.oldestUnacknowledgedCommitTime == 1_000)

        _ = tracker.eventAcknowledged(in: first)
        #expect(tracker.oldestUnacknowledgedCommitTime == 1_000, "one of the first transaction's events still waits")
        // The second is acknowledged out of order: the first still holds the oldest event.
        _ = tracker.eventAcknowledged(in: second)
        #expect(tracker.oldestUnacknowledgedCommitTime == 1_000)
        _ = tracker.eventAcknowledged(in: first)
        #expect(tracker.oldestUnacknowledgedCommitTime == 3_000, "the second is done: the third's event is the oldest")
        _ = tracker.eventAcknowledged(in: third)
        #expect(tracker.oldestUnacknowledgedCommitTime == nil)
    }

    @Test func anOpenTransactionWhoseEventsWereAcknowledgedIsPassedOver() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let open = tracker.beginTransaction(commitTime: 1_000)
        tracker.eventProduced(in: open)
        _ = tracker.eventAcknowledged(in: open)
        #expect(tracker.oldestUnacknowledgedCommitTime == nil, "acknowledged before its commit: nothing waits")
        tracker.eventProduced(in: open)
        #expect(tracker.oldestUnacknowledgedCommitTime == 1_000)
    }

    @Test func aTransactionAbandonedBehindAWaitingOneStillHoldsItsEvents() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let first = tracker.beginTransaction(commitTime: 1_000)
        tracker.eventProduced(in: first)
        _ = tracker.commitTransaction(first, endLSN: LSN(100))
        let broken = tracker.beginTransaction(commitTime: 2_000)
        tracker.eventProduced(in: broken)
        tracker.abandonOpenTransaction()
        _ = tracker.eventAcknowledged(in: first)
        // Retired with the first: its event no longer counts, and nothing is said to wait.
        #expect(tracker.eventsInFlight == 0)
        #expect(tracker.oldestUnacknowledgedCommitTime == nil)
    }

    @Test func anUnknownCommitTimeIsPassedOver() {
        var tracker = CheckpointTracker(confirmed: .zero)
        let message = tracker.beginTransaction()
        tracker.eventProduced(in: message)
        _ = tracker.commitTransaction(message, endLSN: LSN(100))
        #expect(tracker.eventsInFlight == 1)
        #expect(tracker.oldestUnacknowledgedCommitTime == nil, "no time is known, and none is made up")
        let later = tracker.beginTransaction(commitTime: 5_000)
        tracker.eventProduced(in: later)
        #expect(tracker.oldestUnacknowledgedCommitTime == 5_000, "the oldest known time: a lower bound")
    }
}
