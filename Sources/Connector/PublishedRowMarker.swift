import Glibc
public import Logging
import PostgresNames
import Synchronization
import Threads
public import WALReader

/// `--mark-published`: sets the old relay's own completion marks on the rows whose transactions Kafka has
/// acknowledged, so that a team can go back to that relay without it sending everything again.
///
/// Runs on a thread and an ordinary connection of its own, in batches by primary key: the reading thread
/// only appends to a bounded queue and never waits for it, so marking never delays confirming the slot. A
/// failed batch is counted, logged and tried again after a pause. The marks are updates and deletes, which
/// the publication (inserts only) does not carry: they are never published.
public final class PublishedRowMarker: Sendable {
    /// Rows marked per statement.
    static let batchSize = 500
    /// Rows waiting at most; past it a row is not marked (counted and logged: the old relay would send it again).
    static let queueCapacity = 1_000_000

    private struct State {
        var queue: [PublishedRow] = []
        var head = 0
        var finishBy: ContinuousClock.Instant?
        var dropped = 0
        var lastDropWarning: ContinuousClock.Instant?
        var marked = 0
        var failedBatches = 0
    }

    private let database: ConnectionSettings
    private let mark: OutboxTableFormat.PublishedMark
    private let primaryKeyColumn: String
    private let logger: Logger
    private let state = Mutex(State())
    private let wakeup = Wakeup()
    private let thread = Mutex<JoinableThread?>(nil)
    private let metrics = MarkerMetrics()

    public init(database: ConnectionSettings, mark: OutboxTableFormat.PublishedMark, primaryKeyColumn: String, logger: Logger) {
        self.database = database
        self.mark = mark
        self.primaryKeyColumn = primaryKeyColumn
        self.logger = logger
    }

    /// Starts the marking thread; later calls do nothing.
    public func start() {
        thread.withLock { thread in
            guard thread == nil else { return }
            thread = DedicatedThread.joinable(name: "cdc-row-marks") { [self] in work() }
            if thread == nil {
                logger.error("no thread for marking published rows: the old relay's marks are not set this run")
            }
        }
    }

    /// From the reading thread: rows to mark. Never blocks.
    public func submit(_ rows: [PublishedRow]) {
        guard !rows.isEmpty else { return }
        logger.debug("rows confirmed, to be marked", metadata: ["cdc.rows": .stringConvertible(rows.count)])
        let warnDropped: Int? = state.withLock { state in
            let room = Self.queueCapacity - (state.queue.count - state.head)
            let taken = min(room, rows.count)
            state.queue.append(contentsOf: rows.prefix(taken))
            guard taken < rows.count else { return nil }
            state.dropped += rows.count - taken
            let now = ContinuousClock.now
            if let last = state.lastDropWarning, last.duration(to: now) < .seconds(10) { return nil }
            state.lastDropWarning = now
            return state.dropped
        }
        if let warnDropped {
            metrics.dropped.increment(by: warnDropped)
            logger.warning("marking published rows falls behind: rows past the queue's bound are not marked, and the old relay would send them again", metadata: [
                "cdc.rows_not_marked": .stringConvertible(warnDropped), "cdc.mark_queue_capacity": .stringConvertible(Self.queueCapacity),
            ])
        }
        wakeup.signal()
    }

    /// Marks what is queued until `deadline`, then ends the thread; what is left is logged.
    public func finish(by deadline: ContinuousClock.Instant) {
        state.withLock { $0.finishBy = deadline }
        wakeup.signal()
        let running = thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        running?.join()
    }

    /// A row the mark did not find, tried again later.
    private struct Retry {
        var row: PublishedRow
        var tries: Int
        var due: ContinuousClock.Instant
    }

    /// How often a row the mark did not find is tried again (after 1, 2, 4 and 8 s) before it counts as gone.
    static let triesForUnseenRows = 5

    private func work() {
        var connection: MarkingConnection?
        var pause = Duration.milliseconds(500)
        var retries: [Retry] = []
        defer { connection?.close() }
        while true {
            let now = ContinuousClock.now
            if state.withLock({ $0.finishBy }) != nil {
                // Stopping: rows not seen yet get one last try now, not their whole schedule.
                for index in retries.indices {
                    retries[index].due = now
                    retries[index].tries = max(retries[index].tries, Self.triesForUnseenRows - 1)
                }
            }
            let dueCount = min(retries.filter { $0.due <= now }.count, Self.batchSize)
            retries.sort { $0.due < $1.due }
            let due = Array(retries.prefix(dueCount))
            retries.removeFirst(dueCount)
            let (fromQueue, finishBy) = state.withLock { state -> ([PublishedRow], ContinuousClock.Instant?) in
                let end = min(state.head + Self.batchSize - due.count, state.queue.count)
                return (Array(state.queue[state.head..<max(state.head, end)]), state.finishBy)
            }
            let batch = fromQueue + due.map(\.row)
            if let finishBy, (batch.isEmpty && retries.isEmpty) || now >= finishBy {
                let (left, marked, failed) = state.withLock { ($0.queue.count - $0.head, $0.marked, $0.failedBatches) }
                logger.info("published rows marked this run", metadata: [
                    "cdc.rows_marked": .stringConvertible(marked), "cdc.failed_mark_batches": .stringConvertible(failed),
                ])
                if left + retries.count + due.count > 0 {
                    logger.warning("stopped before every published row was marked: the old relay would send these again", metadata: [
                        "cdc.rows_not_marked": .stringConvertible(left + retries.count + due.count),
                    ])
                }
                return
            }
            guard !batch.isEmpty else {
                let nextDue = retries.map(\.due).min().map { now.duration(to: $0) } ?? .seconds(1)
                _ = wakeup.wait(timeout: min(max(nextDue, .milliseconds(10)), .seconds(1)))
                continue
            }
            do {
                if connection == nil { connection = try MarkingConnection(database: database, mark: mark, primaryKeyColumn: primaryKeyColumn) }
                let unseen = Set(try connection?.mark(batch) ?? [])
                state.withLock { state in
                    state.head += fromQueue.count
                    state.marked += batch.count - unseen.count
                    if state.head == state.queue.count {
                        state.queue.removeAll(keepingCapacity: state.queue.capacity <= 65_536)
                        state.head = 0
                    } else if state.head >= 65_536, state.head * 2 >= state.queue.count {
                        state.queue.removeFirst(state.head)
                        state.head = 0
                    }
                }
                // A row the statement did not see may not be visible yet: logical decoding can send a transaction
                // a moment before its commit is visible to other sessions. It is tried again a few times.
                let triesSoFar = Dictionary(due.map { ($0.row, $0.tries) }) { first, _ in first }
                for row in batch where unseen.contains(row) {
                    let tries = (triesSoFar[row] ?? 0) + 1
                    if tries < Self.triesForUnseenRows {
                        retries.append(Retry(row: row, tries: tries, due: .now + .seconds(1 << (tries - 1))))
                    } else {
                        logger.debug("a published row to mark is not in its table (deleted since?)", metadata: [
                            "cdc.table": "\(row.table)", "cdc.primary_key": "\(row.primaryKey)",
                        ])
                    }
                }
                metrics.marked.increment(by: batch.count - unseen.count)
                logger.debug("marked published rows", metadata: [
                    "cdc.rows": .stringConvertible(batch.count - unseen.count), "cdc.rows_not_seen": .stringConvertible(unseen.count),
                ])
                pause = .milliseconds(500)
            } catch {
                connection?.close()
                connection = nil
                // The due retries keep their turn.
                retries += due
                let failed = state.withLock { state in
                    state.failedBatches += 1
                    return state.failedBatches
                }
                metrics.failedBatches.increment()
                logger.warning("marking published rows failed; trying the batch again", metadata: [
                    "error": "\(error)", "cdc.rows_in_batch": .stringConvertible(batch.count),
                    "cdc.failed_mark_batches": .stringConvertible(failed), "retry.in_ms": .stringConvertible(pause.milliseconds),
                ])
                _ = wakeup.wait(timeout: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
    }
}

/// The marker's connection: statements that never wait long on a lock, and each table's statement made once.
private final class MarkingConnection {
    private let connection: PostgresConnection
    private let mark: OutboxTableFormat.PublishedMark
    private let primaryKeyColumn: String
    private var statements: [QualifiedTableName: (mark: String, present: String?)] = [:]

    init(database: ConnectionSettings, mark: OutboxTableFormat.PublishedMark, primaryKeyColumn: String) throws(PostgresError) {
        connection = try PostgresConnection.connect(database)
        self.mark = mark
        self.primaryKeyColumn = primaryKeyColumn
        do {
            try connection.query("SET statement_timeout = '10s'")
            try connection.query("SET lock_timeout = '2s'")
        } catch {
            connection.close()
            throw error
        }
    }

    func close() { connection.close() }

    /// Marks the rows; returns those neither marked now nor found marked already (not visible, or gone).
    func mark(_ rows: [PublishedRow]) throws(PostgresError) -> [PublishedRow] {
        var byTable: [QualifiedTableName: [String]] = [:]
        var order: [QualifiedTableName] = []
        for row in rows {
            if byTable[row.table] == nil { order.append(row.table) }
            byTable[row.table, default: []].append(row.primaryKey)
        }
        var unseen: [PublishedRow] = []
        for table in order {
            let keys = byTable[table] ?? []
            let statements = try statements(for: table)
            let array = PostgresArrayText.of(keys)
            var handled = Set(try connection.query(statements.mark, parameters: [array]).rows.compactMap { $0.first ?? nil })
            if handled.count < Set(keys).count, let present = statements.present {
                // Rows already marked (published twice, or marked by the relay) need nothing more.
                handled.formUnion(try connection.query(present, parameters: [array]).rows.compactMap { $0.first ?? nil })
            }
            unseen += keys.filter { !handled.contains($0) }.map { PublishedRow(table: table, primaryKey: $0) }
        }
        return unseen
    }

    /// `UPDATE … WHERE key = ANY($1::type[]) RETURNING key` or `DELETE …`: the key's own type, so its index is
    /// used, and its text back for each row handled; for an update, the question of which keys are there at all.
    private func statements(for table: QualifiedTableName) throws(PostgresError) -> (mark: String, present: String?) {
        if let known = statements[table] { return known }
        let name = try connection.identifier(table)
        let type = try connection.query(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped",
            parameters: [name, primaryKeyColumn]
        ).rows.first?.first ?? nil
        guard let type else {
            throw PostgresError(kind: .serverError, message: "the table \(table) has no column \(primaryKeyColumn) to mark published rows by")
        }
        let key = try connection.identifier(primaryKeyColumn)
        let made: (mark: String, present: String?)
        switch mark {
        case .delete:
            made = ("DELETE FROM \(name) WHERE \(key) = ANY($1::\(type)[]) RETURNING \(key)::text", nil)
        case .update(let assignments, let onlyWhere):
            // Only rows not marked yet: a row published twice (at least once) is marked once.
            made = (
                "UPDATE \(name) SET \(assignments) WHERE \(key) = ANY($1::\(type)[])" + (onlyWhere.map { " AND (\($0))" } ?? "")
                    + " RETURNING \(key)::text",
                "SELECT \(key)::text FROM \(name) WHERE \(key) = ANY($1::\(type)[])"
            )
        }
        statements[table] = made
        return made
    }
}

/// PostgreSQL's text form of a one-dimensional array of strings: `{"a","b\"c"}`.
enum PostgresArrayText {
    static func of(_ elements: [String]) -> String {
        var text = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { text += "," }
            text += "\""
            for character in element.unicodeScalars {
                if character == "\"" || character == "\\" { text += "\\" }
                text.unicodeScalars.append(character)
            }
            text += "\""
        }
        return text + "}"
    }
}
