public import PostgresLSN

/// Decides how far the slot may be confirmed: the end of the newest transaction that, together with
/// every transaction before it, Kafka has fully acknowledged.
///
/// Transactions arrive in commit order; their events are acknowledged in any order (partitions are
/// independent). The watermark moves only over a contiguous prefix of finished transactions, so a
/// restart from it can never skip an unacknowledged event. While nothing is in flight, a keepalive's
/// WAL end is confirmed too, so an idle outbox does not pin WAL that other tables write.
///
/// A value type with no I/O: callers hold it under a lock and act on what it returns.
public struct CheckpointTracker: Sendable {
    /// Names a transaction for as long as its events are in flight; never reused.
    public typealias Ticket = UInt64

    private struct PendingTransaction: Sendable {
        /// Set when the Commit message is seen; nil while the transaction is still arriving.
        var endLSN: LSN?
        var outstandingEvents: Int
        /// When the transaction committed on the server, in Unix microseconds (0 when unknown).
        var commitTime: Int64
        /// The stream broke before its commit: the server will send it again, so it confirms nothing.
        var abandoned: Bool
    }

    /// Transactions not yet confirmed, oldest first, from `pending[head]`; tickets are contiguous.
    private var pending: [PendingTransaction] = []
    private var head = 0
    /// The ticket of `pending[head]`.
    private var headTicket: Ticket = 1
    private var openTicket: Ticket?

    /// The position to report to PostgreSQL as written, flushed and applied.
    public private(set) var confirmed: LSN
    /// Events handed to Kafka and not yet acknowledged, across all transactions.
    public private(set) var eventsInFlight = 0
    /// Transactions confirmed so far (abandoned ones not counted), for the metrics.
    public private(set) var transactionsConfirmed: UInt64 = 0
    /// The end of the newest transaction whose Commit was read and not abandoned since: every event up to it
    /// was handed to Kafka (acknowledged or still in flight), so a reconnect to the same server history may
    /// resume there and repeat none of them. Never behind `confirmed`.
    public var committedThrough: LSN { max(confirmed, lastCommitEnd) }
    private var lastCommitEnd = LSN.zero

    public init(confirmed: LSN) {
        self.confirmed = confirmed
    }

    /// Nothing is arriving or awaiting acknowledgement.
    public var isIdle: Bool { head == pending.count }

    private var nextTicket: Ticket { headTicket + Ticket(pending.count - head) }

    /// Every ticket before this one is retired: confirmed, or abandoned (`takeAbandonedAndRetired`).
    public var firstUnretiredTicket: Ticket { headTicket }
    /// Abandoned transactions retired since the last take (a reconnect's, rare): they confirmed nothing.
    private var abandonedAndRetired: [Ticket] = []

    /// The retired tickets that were abandoned, not confirmed, since the last call.
    public mutating func takeAbandonedAndRetired() -> [Ticket] {
        defer { abandonedAndRetired.removeAll() }
        return abandonedAndRetired
    }

    /// A Begin message: opens a transaction and returns the ticket its events carry.
    ///
    /// - Parameter commitTime: the server's commit time in Unix microseconds, kept for
    ///   `commitTime(of:)` so that acknowledgements can be timed from the commit.
    public mutating func beginTransaction(commitTime: Int64 = 0) -> Ticket {
        // A Begin while another is open means the stream restarted without telling us.
        abandonOpenTransaction()
        let ticket = nextTicket
        pending.append(PendingTransaction(endLSN: nil, outstandingEvents: 0, commitTime: commitTime, abandoned: false))
        openTicket = ticket
        return ticket
    }

    /// An event of the open transaction is about to be handed to Kafka. Call it before producing, so
    /// that its acknowledgement can never come first.
    public mutating func eventProduced(in ticket: Ticket) {
        guard let index = index(of: ticket) else { return }
        pending[index].outstandingEvents += 1
        eventsInFlight += 1
    }

    /// A Commit message: the transaction is complete and confirms up to `endLSN` once acknowledged.
    /// Returns the new confirmed position when it moved.
    public mutating func commitTransaction(_ ticket: Ticket, endLSN: LSN) -> LSN? {
        guard let index = index(of: ticket) else { return nil }
        pending[index].endLSN = endLSN
        if openTicket == ticket { openTicket = nil }
        if !pending[index].abandoned { lastCommitEnd = max(lastCommitEnd, endLSN) }
        return advance()
    }

    /// Kafka acknowledged one event. Returns the new confirmed position when it moved.
    public mutating func eventAcknowledged(in ticket: Ticket) -> LSN? {
        guard let index = index(of: ticket) else { return nil }
        if pending[index].outstandingEvents > 0 {
            pending[index].outstandingEvents -= 1
            eventsInFlight -= 1
        }
        return advance()
    }

    /// The commit time given to `beginTransaction` for a transaction not yet confirmed.
    public func commitTime(of ticket: Ticket) -> Int64? {
        index(of: ticket).map { pending[$0].commitTime }
    }

    /// When the oldest transaction that still has events Kafka has not acknowledged committed on the
    /// server, in Unix microseconds; nil when no event waits. Transactions of unknown commit time (a
    /// non-transactional logical message has none) are passed over: the answer is then a lower bound.
    ///
    /// Transactions are kept in commit order, so the first one with an event outstanding holds the oldest
    /// event. Finished transactions leave the front as they complete, so the scan stops at the first or
    /// second entry (past an open transaction none of whose events wait).
    public var oldestUnacknowledgedCommitTime: Int64? {
        guard eventsInFlight > 0 else { return nil }
        for index in head..<pending.count where pending[index].outstandingEvents > 0 && pending[index].commitTime != 0 {
            return pending[index].commitTime
        }
        return nil
    }

    /// The end LSN of a ticket's transaction, once its Commit was seen.
    public func endLSN(of ticket: Ticket) -> LSN? {
        index(of: ticket).flatMap { pending[$0].endLSN }
    }

    /// A keepalive: the server has sent everything up to `walEnd`. With nothing in flight that is
    /// safe to confirm. Returns the new confirmed position when it moved.
    public mutating func serverSent(upTo walEnd: LSN) -> LSN? {
        guard isIdle, walEnd > confirmed else { return nil }
        confirmed = walEnd
        return walEnd
    }

    /// The ticket of the transaction whose Commit has not been read yet, if any.
    public var openTransaction: Ticket? { openTicket }

    /// The replication stream broke: the open transaction will never see its Commit; the server
    /// sends it again from the start once streaming resumes.
    public mutating func abandonOpenTransaction() {
        guard let ticket = openTicket, let index = index(of: ticket) else { return }
        pending[index].abandoned = true
        openTicket = nil
        _ = advance()
    }

    /// The server's history forked before `position` (a promoted standby that never had the end of the old
    /// primary's WAL): nothing in flight may confirm anything any more, and the watermark goes back to
    /// `position`, so that the new primary's transactions after it are read and confirmed.
    public mutating func rewind(to position: LSN) {
        for index in head..<pending.count { pending[index].abandoned = true }
        openTicket = nil
        _ = advance()
        confirmed = position
        lastCommitEnd = position
    }

    private func index(of ticket: Ticket) -> Int? {
        guard ticket >= headTicket else { return nil }
        let index = head + Int(ticket - headTicket)
        return index < pending.count ? index : nil
    }

    /// Retires finished transactions from the front and moves the watermark to the last one's end.
    private mutating func advance() -> LSN? {
        let before = confirmed
        while head < pending.count {
            let oldest = pending[head]
            if oldest.abandoned {
                // Its events (if still in flight) no longer count towards any confirmation.
                eventsInFlight -= oldest.outstandingEvents
                abandonedAndRetired.append(headTicket)
            } else {
                guard let endLSN = oldest.endLSN, oldest.outstandingEvents == 0 else { break }
                if endLSN > confirmed { confirmed = endLSN }
                transactionsConfirmed += 1
            }
            head += 1
            headTicket += 1
        }
        compactIfWorthIt()
        return confirmed > before ? confirmed : nil
    }

    private mutating func compactIfWorthIt() {
        if head == pending.count {
            pending.removeAll(keepingCapacity: pending.capacity <= 4096)
            head = 0
        } else if head >= 1024 && head * 2 >= pending.count {
            pending.removeFirst(head)
            head = 0
        }
    }
}
