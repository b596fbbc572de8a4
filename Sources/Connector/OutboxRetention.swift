import Clocks
import Glibc
public import Logging
public import PostgresNames
import Synchronization
import Threads
public import WALReader

/// `--retention`: how old an outbox row may grow before it is deleted.
public struct RetentionSettings: Sendable, Equatable {
    /// Rows whose `column` is older than this are deleted.
    public var age: Duration
    /// A timestamp column (with or without time zone; without, read in the server's time zone).
    public var column: String
    /// The column rows are deleted by, in batches: the primary key.
    public var primaryKey: String
    /// Rows never deleted: the old relay's dead letters (kafka-outbox-relay's `errored = 1`).
    public var keepCondition: String?
    /// Rows per DELETE statement.
    public var batchSize = 1000
    /// The pause between two batches, so that cleaning up never competes with the writers.
    public var pauseBetweenBatches: Duration = .milliseconds(100)

    public init(age: Duration, column: String, primaryKey: String, keepCondition: String?) {
        self.age = age
        self.column = column
        self.primaryKey = primaryKey
        self.keepCondition = keepCondition
    }

    /// How often a pass runs: a tenth of the age, at least every second and at most every minute.
    public var passInterval: Duration {
        min(max(age / 10, .seconds(1)), .seconds(60))
    }
}

/// A retention that cannot work as configured: it stays off for the run (publishing goes on).
public struct RetentionSetupError: Error, CustomStringConvertible {
    public var description: String
}

/// What one retention pass did.
public struct RetentionPassReport: Sendable, Equatable {
    public var rowsDeleted = 0
    public var partitionsDropped: [QualifiedTableName] = []
    /// Partitions old enough to drop that hold rows to keep (dead letters): cleaned row by row instead.
    public var partitionsKept: [QualifiedTableName] = []
}

/// Deletes the outbox rows older than the retention age, in bounded batches at a quiet pace; for a table
/// partitioned by range on the retention column, detaches and drops the partitions whose upper bound is
/// older. Once the poller is gone nobody else cleans its table.
///
/// Deleting a row after its commit never loses its event: the slot's WAL holds the insert, and decoding
/// reads the row from there, not from the table. Rows committed before the slot existed are another matter,
/// so a pass runs only once the slot exists (after any handover).
public final class OutboxRetention: Sendable {
    private let database: ConnectionSettings
    private let tables: [QualifiedTableName]
    public let settings: RetentionSettings
    private let logger: Logger
    private let wakeup = Wakeup()
    private let stopped = Atomic<Bool>(false)
    private let thread = Mutex<JoinableThread?>(nil)
    private let metrics = RetentionMetrics()

    public init(database: ConnectionSettings, tables: [QualifiedTableName], settings: RetentionSettings, logger: Logger) {
        self.database = database
        self.tables = tables
        self.settings = settings
        self.logger = logger
    }

    /// Starts passes every `passInterval` on a thread of its own; later calls do nothing.
    public func start() {
        thread.withLock { thread in
            guard thread == nil, !stopped.load(ordering: .relaxed) else { return }
            thread = DedicatedThread.joinable(name: "cdc-retention") { [self] in work() }
        }
    }

    /// Ends the passes (the statement running finishes first) and waits for the thread.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        wakeup.signal()
        let running = thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        running?.join()
    }

    private func work() {
        var connection: PostgresConnection?
        defer { connection?.close() }
        while !stopped.load(ordering: .relaxed) {
            do {
                if connection == nil { connection = try Self.connect(database) }
                if let connection { _ = try pass(on: connection) }
            } catch let error as RetentionSetupError {
                // A configuration to fix, not a failure to retry: cleanup stops, publishing goes on.
                logger.error("retention is off for this run: \(error)")
                return
            } catch {
                metrics.failures.increment()
                connection?.close()
                connection = nil
                logger.warning("retention: cleaning up the outbox failed; trying again at the next pass", metadata: ["error": "\(error)"])
            }
            _ = wakeup.wait(timeout: settings.passInterval)
        }
    }

    static func connect(_ database: ConnectionSettings) throws(PostgresError) -> PostgresConnection {
        let connection = try PostgresConnection.connect(database)
        do {
            // Never behind the writers for long: a statement that would wait is given up and tried again.
            try connection.query("SET statement_timeout = '30s'")
            try connection.query("SET lock_timeout = '2s'")
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// One pass over every outbox table (the `cleanup` command runs exactly one).
    public func runOnce() throws -> RetentionPassReport {
        let connection = try Self.connect(database)
        defer { connection.close() }
        return try pass(on: connection)
    }

    private func pass(on connection: PostgresConnection) throws -> RetentionPassReport {
        var report = RetentionPassReport()
        for table in tables { try checkColumns(of: table, on: connection) }
        // One cutoff for the whole pass, from the server's clock.
        guard let cutoff = try connection.query(
            "SELECT (now() - $1::interval)::text", parameters: ["\(settings.age.milliseconds) milliseconds"]
        ).rows.first?.first ?? nil else { return report }
        for table in tables where !stopped.load(ordering: .relaxed) {
            try dropOldPartitions(of: table, cutoff: cutoff, on: connection, into: &report)
            try deleteOldRows(of: table, cutoff: cutoff, on: connection, into: &report)
        }
        if report.rowsDeleted > 0 || !report.partitionsDropped.isEmpty {
            logger.info("retention: deleted outbox rows older than the retention age", metadata: [
                "cdc.rows_deleted": .stringConvertible(report.rowsDeleted),
                "cdc.partitions_dropped": "\(report.partitionsDropped.map(\.description).joined(separator: ","))",
                "cdc.retention_column": "\(settings.column)", "cdc.retention_cutoff": "\(cutoff)",
            ])
        }
        return report
    }

    /// The retention column must be a time, the key must exist: said once, by name, rather than failing
    /// every pass.
    private func checkColumns(of table: QualifiedTableName, on connection: PostgresConnection) throws {
        let types = try connection.query(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = $1::regclass "
                + "AND a.attname IN ($2, $3) AND a.attnum > 0 AND NOT a.attisdropped",
            parameters: [try connection.identifier(table), settings.column, settings.primaryKey]
        ).rows
        let byName = Dictionary(types.compactMap { row in row[0].map { ($0, row[1] ?? "") } }) { first, _ in first }
        guard let type = byName[settings.column] else {
            throw RetentionSetupError(description: "the outbox table \(table) has no column \(settings.column) to measure a row's age by: name a timestamp column with --retention-column")
        }
        guard type.hasPrefix("timestamp") || type == "date" else {
            throw RetentionSetupError(description: "the retention column \(settings.column) of \(table) is \(type), not a timestamp: name a timestamp column with --retention-column")
        }
        guard byName[settings.primaryKey] != nil else {
            throw RetentionSetupError(description: "the outbox table \(table) has no column \(settings.primaryKey) to delete rows by: name its primary key with --id-column")
        }
    }

    /// `DELETE … WHERE key IN (SELECT key … LIMIT n)` until a batch comes back short. The age condition is
    /// repeated outside, so that a key shared by rows of two partitions deletes only the old one.
    private func deleteOldRows(of table: QualifiedTableName, cutoff: String, on connection: PostgresConnection, into report: inout RetentionPassReport) throws(PostgresError) {
        let name = try connection.identifier(table)
        let key = try connection.identifier(settings.primaryKey)
        let column = try connection.identifier(settings.column)
        var old = "\(column) < $1::timestamptz"
        if let keep = settings.keepCondition { old += " AND NOT (\(keep))" }
        let statement = "DELETE FROM \(name) WHERE \(key) IN (SELECT \(key) FROM \(name) WHERE \(old) LIMIT \(settings.batchSize)) AND \(old)"
        while !stopped.load(ordering: .relaxed) {
            let deleted = try connection.query(statement, parameters: [cutoff]).affectedRows
            report.rowsDeleted += deleted
            metrics.rowsDeleted.increment(by: deleted)
            guard deleted >= settings.batchSize else { return }
            _ = wakeup.wait(timeout: settings.pauseBetweenBatches)
        }
    }

    /// For a table partitioned by range on the retention column: detaches and drops each partition whose
    /// upper bound is at or before the cutoff (every row in it is older), unless it holds rows to keep.
    private func dropOldPartitions(of table: QualifiedTableName, cutoff: String, on connection: PostgresConnection, into report: inout RetentionPassReport) throws(PostgresError) {
        let name = try connection.identifier(table)
        let shape = try connection.query(
            "SELECT c.relkind::text, pg_get_partkeydef(c.oid), format_type(a.atttypid, a.atttypmod) FROM pg_class c "
                + "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $2 AND NOT a.attisdropped WHERE c.oid = $1::regclass",
            parameters: [name, settings.column]
        ).rows.first
        guard let shape, shape[0] == "p", let key = shape[1], let type = shape[2] else { return }
        // Only a range partitioning by the retention column itself says how old a whole partition is.
        guard key == "RANGE (\(try connection.identifier(settings.column)))" || key == "RANGE (\(settings.column))" else { return }
        let partitions = try connection.query(
            "SELECT n.nspname, c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.inhparent = $1::regclass ORDER BY c.relname",
            parameters: [name]
        ).rows
        for partition in partitions where !stopped.load(ordering: .relaxed) {
            guard let schema = partition[0], let relation = partition[1], let bound = partition[2],
                  let upper = Self.upperBound(bound) else { continue }
            let isOld = try connection.query("SELECT CAST($1 AS \(type)) <= $2::timestamptz", parameters: [upper, cutoff]).rows.first?.first == "t"
            guard isOld else { continue }
            let child = QualifiedTableName(schema: schema, name: relation)
            let childName = try connection.identifier(child)
            if let keep = settings.keepCondition,
               try connection.query("SELECT EXISTS (SELECT 1 FROM \(childName) WHERE \(keep))").rows.first?.first == "t" {
                report.partitionsKept.append(child)
                continue
            }
            try connection.query("BEGIN")
            do {
                try connection.query("ALTER TABLE \(name) DETACH PARTITION \(childName)")
                try connection.query("DROP TABLE \(childName)")
                try connection.query("COMMIT")
            } catch {
                _ = try? connection.query("ROLLBACK")
                throw error
            }
            report.partitionsDropped.append(child)
            metrics.partitionsDropped.increment()
            logger.info("retention: dropped an outbox partition older than the retention age", metadata: [
                "cdc.partition": "\(child)", "cdc.partition_bound": "\(bound)",
            ])
        }
    }

    /// The upper bound of a range partition's single-column bound, `FOR VALUES FROM (…) TO ('…')`; nil for
    /// MAXVALUE, a DEFAULT partition, or a bound of another shape.
    static func upperBound(_ bound: String) -> String? {
        guard let to = bound.range(of: ") TO ('") else { return nil }
        let rest = bound[to.upperBound...]
        guard rest.hasSuffix("')") else { return nil }
        let literal = rest.dropLast(2)
        // A quote inside would be doubled; a bound of one timestamp has none, so one means another shape.
        return literal.contains("'") ? nil : String(literal)
    }
}
