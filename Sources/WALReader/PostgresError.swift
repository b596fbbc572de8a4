/// An error reported by libpq or by the PostgreSQL server, with the server's SQLSTATE when it sent one.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server could not be reached or the connection broke: worth retrying.
        case connectionFailed
        /// The server refused the credentials: retrying will not help.
        case authenticationFailed
        /// The database named in the connection string does not exist.
        case databaseMissing
        /// The role named in the connection string does not exist.
        case roleMissing
        /// libpq refused an option of the connection string (a value it cannot read): a typo, not an outage.
        case invalidConnectionOption
        /// The role lacks the REPLICATION attribute (or superuser) needed to open a replication connection.
        case replicationPermissionDenied
        /// The server answered a command with an error; `sqlState` says which.
        case serverError
        /// The replication stream ended or sent something that is not part of the protocol.
        case protocolViolation
        /// TLS could not be set up as the connection string asks: the server's certificate failed the check
        /// (`verify-ca`, `verify-full`), a certificate or key file is missing or unusable, or the server asks
        /// for a client certificate. A configuration to fix; retrying will not help.
        case tlsFailed
    }

    public var kind: Kind
    public var message: String
    /// The five-character SQLSTATE code, when the server sent one.
    public var sqlState: String?
    public var detail: String?
    public var hint: String?

    public init(kind: Kind, message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
    }

    public var description: String {
        var text = message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += ". \(detail)" }
        if let hint { text += " Hint: \(hint)" }
        return text
    }

    /// Whether the condition is expected to pass by itself (server restarting, network cut, slot busy).
    public var isTransient: Bool {
        switch kind {
        case .connectionFailed, .protocolViolation:
            return true
        case .authenticationFailed, .replicationPermissionDenied, .tlsFailed, .databaseMissing, .roleMissing, .invalidConnectionOption:
            return false
        case .serverError:
            guard let sqlState else { return false }
            // Class 08: connection exception; 57P: operator intervention (shutdown, terminated backend);
            // 53: insufficient resources; 55006: object in use (the slot is active elsewhere);
            // 40: transaction rollback (serialization, deadlock).
            return sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") || sqlState.hasPrefix("53")
                || sqlState == SQLState.objectInUse || sqlState.hasPrefix("40")
        }
    }
}

/// SQLSTATE codes the connector reacts to.
public enum SQLState {
    public static let objectInUse = "55006"
    public static let duplicateObject = "42710"
    public static let undefinedObject = "42704"
    public static let insufficientPrivilege = "42501"
}

extension PostgresError {
    /// Classifies a failed connection attempt from libpq's message: libpq reports no SQLSTATE for
    /// errors raised during start-up, so the message text is all there is.
    static func connectionError(message rawMessage: String) -> PostgresError {
        // libpq may quote the connection string it could not use.
        let message = ConnectionSettings.redactingSecrets(rawMessage)
        let lowered = message.lowercased()
        if lowered.contains("fatal:  database") && lowered.contains("does not exist") || lowered.contains("fatal: database") && lowered.contains("does not exist") {
            return PostgresError(kind: .databaseMissing, message: message)
        }
        if lowered.contains("fatal:  role") && lowered.contains("does not exist") || lowered.contains("fatal: role") && lowered.contains("does not exist") {
            return PostgresError(kind: .roleMissing, message: message)
        }
        if lowered.contains("password authentication failed") || lowered.contains("authentication failed")
            || lowered.contains("no pg_hba.conf entry") || lowered.contains("password is required")
            || lowered.contains("no password supplied") || lowered.contains("role") && lowered.contains("does not exist")
            || lowered.contains("database") && lowered.contains("does not exist")
        {
            return PostgresError(kind: .authenticationFailed, message: message)
        }
        if lowered.contains("invalid connection option") || lowered.contains("invalid integer value")
            || lowered.contains("invalid port number") || lowered.contains("invalid sslmode value")
            || lowered.contains("invalid gssencmode value") || lowered.contains("invalid channel_binding value")
            || lowered.contains("invalid target_session_attrs value") || lowered.contains("invalid value for parameter")
            || lowered.contains("invalid uri")
        {
            return PostgresError(kind: .invalidConnectionOption, message: message)
        }
        if ["certificate verify failed", "does not match host name", "requires a valid client certificate",
            "root certificate file", "could not open certificate file", "could not load private key file",
            "private key file", "certificate present, but not private key", "server does not support ssl",
            "ssl is not supported"].contains(where: lowered.contains)
        {
            return PostgresError(kind: .tlsFailed, message: message)
        }
        if lowered.contains("must be superuser or replication role")
            || lowered.contains("permission denied to start wal sender")
        {
            return PostgresError(kind: .replicationPermissionDenied, message: message)
        }
        return PostgresError(kind: .connectionFailed, message: message)
    }
}
