import DebeziumFormat
import Logging
import PostgresLSN
import PostgresNames
import WALReader

/// What the replication stream cannot say, asked at an interval on an ordinary connection of its own: the
/// server's WAL position (for the slot lag), and whether the outbox tables still exist and are published.
/// pgoutput's stream carries no DDL: a dropped or unpublished table would otherwise just fall silent.
///
/// A table found gone stops streaming only once the stream has reached the WAL position at which it was
/// found gone: what was written before that (a backlog being caught up) is still published.
struct ServerWatch {
    let source: ReplicationSource
    let database: ConnectionSettings
    let interval: Duration
    private var connection: PostgresConnection?
    private var lastCheck: ContinuousClock.Instant?
    /// A table found gone, and the server's WAL position when it was.
    private var gone: (problem: ReplicationSetupError, at: LSN)?
    /// The server's WAL position as last asked.
    private(set) var serverWAL: LSN?
    /// The tables whose partitions and children are recorded in `family` at each check.
    let familyRoots: [QualifiedTableName]
    private let family: OutboxFamily

    init(source: ReplicationSource, database: ConnectionSettings, interval: Duration, family: OutboxFamily, familyRoots: [QualifiedTableName]) {
        self.source = source
        self.database = database
        self.interval = interval
        self.family = family
        self.familyRoots = familyRoots
    }

    /// How a table is built now; nil when it does not exist.
    mutating func shape(of table: QualifiedTableName) throws(StreamingError) -> OutboxTableShape? {
        try asking("what \(table) is") { connection throws(PostgresError) in try connection.tableShape(of: table) }
    }

    /// One question the stream cannot go on without. A failed one closes the connection, so the next opens a
    /// fresh one, and ends the session as transient: a relation whose role is unknown must not have its rows
    /// passed over, so the session starts again and the server describes it anew.
    private mutating func asking<Answer>(
        _ what: String, _ question: (PostgresConnection) throws(PostgresError) -> Answer
    ) throws(StreamingError) -> Answer {
        do {
            return try question(try openConnection())
        } catch {
            connection?.close()
            connection = nil
            throw StreamingError(reason: .transient("could not ask the catalog \(what): \(error)"))
        }
    }

    /// Asks the server when the interval has passed; throws what was found gone once the stream, which
    /// has reached `streamedUpTo`, has passed the moment it was found. Not being able to ask is only
    /// logged: the replication connection's own errors decide about reconnecting.
    mutating func checkIfDue(streamedUpTo: LSN, logger: Logger) throws(ReplicationSetupError) {
        if lastCheck.map({ $0.duration(to: .now) >= interval }) ?? true {
            lastCheck = .now
            ask(logger: logger)
        }
        if let gone, streamedUpTo >= gone.at { throw gone.problem }
    }

    /// The connection, opened when first needed.
    private mutating func openConnection() throws(PostgresError) -> PostgresConnection {
        if let connection { return connection }
        let open = try PostgresConnection.connect(database)
        do {
            // The reading thread waits for this: never long, never behind a lock.
            try open.query("SET statement_timeout = '2s'")
            try open.query("SET lock_timeout = '1s'")
        } catch {
            open.close()
            throw error
        }
        connection = open
        return open
    }

    /// What the catalog says now of a relation the stream named `name`: its name and ancestors (partitioned
    /// and inheritance parents); nil when it no longer exists.
    mutating func lineage(ofRelation relationID: UInt32, named name: QualifiedTableName) throws(StreamingError) -> RelationLineage? {
        try asking("what relation \(name) (id \(relationID)) is") { connection throws(PostgresError) in
            try connection.relationLineage(of: relationID)
        }
    }

    /// The columns of a table declared NOT NULL (Debezium's record schemas need them).
    mutating func notNullColumns(of table: QualifiedTableName) throws(StreamingError) -> Set<String> {
        try asking("for the columns of \(table)") { connection throws(PostgresError) in
            Set(try connection.columns(of: table).filter(\.notNull).map(\.name))
        }
    }

    /// A captured table as Debezium's change events describe it now; nil when it no longer exists.
    mutating func capturedTable(_ table: QualifiedTableName, modes: ColumnValueModes) throws(StreamingError) -> CapturedTable? {
        let outcome: Result<CapturedTable, CapturedTableError> = try asking("for the columns of \(table)") { connection throws(PostgresError) in
            do throws(CapturedTableError) {
                return .success(try connection.capturedTable(table, modes: modes))
            } catch {
                if case .catalog(let postgres) = error { throw postgres }
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let captured): return captured
        case .failure(.notFound): return nil
        case .failure(let error): throw StreamingError(.capturedTable(error))
        }
    }

    private mutating func ask(logger: Logger) {
        do {
            let open = try openConnection()
            let check = try open.streamingCheck(source)
            // Before any row is read (the first check comes first) and every interval after: a partition or child
            // detached or dropped later is still known for what it was.
            for root in familyRoots { family.record(try open.descendantIDs(of: root), of: root) }
            if let wal = check.serverWAL { serverWAL = max(serverWAL ?? wal, wal) }
            switch (check.problem, gone) {
            case (let problem?, nil):
                let at = check.serverWAL ?? .zero
                gone = (problem, at)
                logger.warning("the outbox table is gone or no longer published; outbox-cdc stops once it has streamed what was written before", metadata: [
                    "error": "\(problem)", "cdc.lsn": "\(at)",
                ])
            case (nil, .some):
                // Put back before the stream got there.
                gone = nil
            default:
                break
            }
        } catch {
            connection?.close()
            connection = nil
            logger.debug("could not ask the server while streaming", metadata: ["error": "\(error)"])
        }
    }

    /// Closes its connection (the session's end).
    mutating func close() {
        connection?.close()
        connection = nil
    }
}
