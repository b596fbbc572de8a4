public import PostgresNames

/// A row of an outbox table whose record Kafka has acknowledged, by its primary key's text: what
/// `--mark-published` marks as the old relay would have.
public struct PublishedRow: Sendable, Hashable {
    public var table: QualifiedTableName
    public var primaryKey: String

    public init(table: QualifiedTableName, primaryKey: String) {
        self.table = table
        self.primaryKey = primaryKey
    }
}

/// The rows of the transactions in flight, kept until their transaction is confirmed (then they are
/// published, to be marked) or abandoned (a reconnect reads them again under a new ticket).
///
/// A value type on the reading thread, beside the checkpoint tracker whose tickets it uses: it learns a
/// row's transaction was acknowledged exactly when the tracker retires its ticket, never earlier.
struct PublishedRowLedger: Sendable {
    private var rows: [(ticket: CheckpointTracker.Ticket, row: PublishedRow)] = []
    private var head = 0

    var isEmpty: Bool { head == rows.count }

    /// A row of transaction `ticket` was handed to Kafka.
    mutating func note(_ row: PublishedRow, in ticket: CheckpointTracker.Ticket) {
        rows.append((ticket, row))
    }

    /// The rows of transactions the tracker has retired since the last take, without those of abandoned
    /// transactions: each row of a confirmed transaction once, in the order they were read.
    mutating func takeConfirmed(from tracker: inout CheckpointTracker) -> [PublishedRow] {
        let abandoned = Set(tracker.takeAbandonedAndRetired())
        let retiredBefore = tracker.firstUnretiredTicket
        var confirmed: [PublishedRow] = []
        while head < rows.count, rows[head].ticket < retiredBefore {
            if !abandoned.contains(rows[head].ticket) { confirmed.append(rows[head].row) }
            head += 1
        }
        if head == rows.count {
            rows.removeAll(keepingCapacity: rows.capacity <= 4096)
            head = 0
        } else if head >= 1024, head * 2 >= rows.count {
            rows.removeFirst(head)
            head = 0
        }
        return confirmed
    }
}
