import WALReader

/// What ends a session other than a stop: a fatal `ConnectorError`, a transient condition worth a reconnect,
/// or a slot another process holds.
struct StreamingError: Error {
    enum Reason {
        case fatal(ConnectorError)
        case transient(String)
        /// The slot is active in another process (a hot standby waits for it).
        case slotBusy(String)
    }
    var reason: Reason

    init(reason: Reason) { self.reason = reason }

    init(_ error: ConnectorError) { self.reason = .fatal(error) }

    init(_ error: PostgresError) {
        if error.sqlState == SQLState.objectInUse {
            // START_REPLICATION lost the race for a slot another process just took.
            reason = .slotBusy(error.message)
        } else {
            reason = error.isTransient ? .transient(error.description) : .fatal(.postgres(error))
        }
    }

    init(_ error: ReplicationSetupError) {
        if case .slotActive = error {
            reason = .slotBusy(error.description)
        } else {
            reason = .fatal(.setup(error))
        }
    }
}
