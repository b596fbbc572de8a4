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

    /// Rows marked and batches failed so far.
    public var counts: (marked: Int, failedBatches: Int, waiting: Int) {
        state.withLock { ($0.marked, $0.failedBatches, $0.queue.count - $0.head) }
    }

    private func work() {
        var connection: MarkingConnection?
        var pause = Duration.milliseconds(500)
        defer { connection?.close() }
        while true {
            let (batch, finishBy) = state.withLock { state -> ([PublishedRow], ContinuousClock.Instant?) in
                let end = min(state.head + Self.batchSize, state.queue.count)
                return (Array(state.queue[state.head..<end]), state.finishBy)
            }
            if let finishBy, batch.isEmpty || ContinuousClock.now >= finishBy {
                let (left, marked, failed) = state.withLock { ($0.queue.count - $0.head, $0.marked, $0.failedBatches) }
                logger.info("published rows marked this run", metadata: [
                    "cdc.rows_marked": .stringConvertible(marked), "cdc.failed_mark_batches": .stringConvertible(failed),
                ])
                if left > 0 {
                    logger.warning("stopped before every published row was marked: the old relay would send these again", metadata: [
                        "cdc.rows_not_marked": .stringConvertible(left),
                    ])
                }
                return
            }
            guard !batch.isEmpty else {
                _ = wakeup.wait(timeout: .seconds(1))
                continue
            }
            do {
                if connection == nil { connection = try MarkingConnection(database: database, mark: mark, primaryKeyColumn: primaryKeyColumn) }
                try connection?.mark(batch)
                state.withLock { state in
                    state.head += batch.count
                    state.marked += batch.count
                    if state.head == state.queue.count {
                        state.queue.removeAll(keepingCapacity: state.queue.capacity <= 65_536)
                        state.head = 0
                    } else if state.head >= 65_536, state.head * 2 >= state.queue.count {
                        state.queue.removeFirst(state.head)
                        state.head = 0
                    }
                }
                metrics.marked.increment(by: batch.count)
                logger.debug("marked published rows", metadata: ["cdc.rows": .stringConvertible(batch.count)])
                pause = .milliseconds(500)
            } catch {
                connection?.close()
                connection = nil
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
    private var statements: [QualifiedTableName: String] = [:]

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

    func mark(_ rows: [PublishedRow]) throws(PostgresError) {
        var byTable: [QualifiedTableName: [String]] = [:]
        var order: [QualifiedTableName] = []
        for row in rows {
            if byTable[row.table] == nil { order.append(row.table) }
            byTable[row.table, default: []].append(row.primaryKey)
        }
        for table in order {
            let statement = try statement(for: table)
            try connection.query(statement, parameters: [PostgresArrayText.of(byTable[table] ?? [])])
        }
    }

    /// `UPDATE … WHERE key = ANY($1::type[])` or `DELETE …`: the key's own type, so its index is used.
    private func statement(for table: QualifiedTableName) throws(PostgresError) -> String {
        if let known = statements[table] { return known }
        let name = "\(try connection.identifier(table.schema)).\(try connection.identifier(table.name))"
        let type = try connection.query(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped",
            parameters: [name, primaryKeyColumn]
        ).rows.first?.first ?? nil
        guard let type else {
            throw PostgresError(kind: .serverError, message: "the table \(table) has no column \(primaryKeyColumn) to mark published rows by")
        }
        let key = try connection.identifier(primaryKeyColumn)
        let statement: String
        switch mark {
        case .delete:
            statement = "DELETE FROM \(name) WHERE \(key) = ANY($1::\(type)[])"
        case .update(let assignments, let onlyWhere):
            // Only rows not marked yet: a row published twice (at least once) is marked once.
            statement = "UPDATE \(name) SET \(assignments) WHERE \(key) = ANY($1::\(type)[])" + (onlyWhere.map { " AND (\($0))" } ?? "")
        }
        statements[table] = statement
        return statement
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
