import Logging
import WALReader

/// Asks, at an interval while streaming, whether the outbox tables still exist and the publication still
/// publishes them. pgoutput's stream carries no DDL: a dropped table, or one removed from the publication,
/// would otherwise just fall silent while outbox-cdc looked healthy.
struct PublishedTablesWatch {
    let source: ReplicationSource
    let database: ConnectionSettings
    let interval: Duration
    private var connection: PostgresConnection?
    private var lastCheck = ContinuousClock.now

    init(source: ReplicationSource, database: ConnectionSettings, interval: Duration) {
        self.source = source
        self.database = database
        self.interval = interval
    }

    /// Throws what was found gone. Not being able to ask is only logged: the replication connection's own
    /// errors decide about reconnecting.
    mutating func checkIfDue(logger: Logger) throws(ReplicationSetupError) {
        guard source.readsTable, lastCheck.duration(to: .now) >= interval else { return }
        lastCheck = .now
        do {
            let open = try connection ?? PostgresConnection.connect(database)
            connection = open
            try open.checkStillPublished(source)
        } catch {
            if case .setup(let found) = ReplicationStartError(error) {
                throw found
            }
            connection?.close()
            connection = nil
            logger.debug("could not check that the outbox table is still published", metadata: ["error": "\(error)"])
        }
    }

    /// Closes its connection (the session's end).
    mutating func close() {
        connection?.close()
        connection = nil
    }
}
