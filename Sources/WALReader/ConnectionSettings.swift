import CLibPQ

/// Where and how to connect to PostgreSQL: a libpq connection URL (`postgres://user:pw@host:5432/db`) or
/// key-value string (`host=… dbname=…`), validated up front so that a typo is reported before any I/O.
///
/// The connection string may hold a password: `description` never prints it.
public struct ConnectionSettings: Sendable, CustomStringConvertible {
    /// The string as the user gave it; passed to libpq untouched.
    public let connectionString: String
    public let host: String?
    public let port: String?
    public let database: String?
    public let user: String?
    public var applicationName: String
    /// A password given apart from the string (read from a file): passed to libpq as `password`, which
    /// wins over one in the string, and never printed.
    public var password: String?
    /// Whether the string itself holds a (non-empty) password, so that a caller can say which of two wins.
    public let connectionStringHasPassword: Bool

    public init(_ connectionString: String, applicationName: String = "outbox-cdc") throws(ConnectionSettingsError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            var reason = "it is neither a postgres:// URL nor a key=value connection string"
            if let errorMessage {
                reason = String(cString: errorMessage).trimmedTrailingWhitespace
                PQfreemem(errorMessage)
            }
            throw ConnectionSettingsError(reason: reason)
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                values[String(cString: keyword)] = String(cString: value)
            }
            option += 1
        }
        self.connectionString = connectionString
        self.host = values["host"] ?? values["hostaddr"]
        self.port = values["port"]
        self.database = values["dbname"]
        self.user = values["user"]
        self.connectionStringHasPassword = !(values["password"] ?? "").isEmpty
        self.applicationName = applicationName
    }

    /// `user@host:port/database`, with libpq's defaults where the string leaves a part out. No password.
    public var description: String {
        "\(user ?? "(default user)")@\(host ?? "(default host)"):\(port ?? "5432")/\(database ?? "(default database)")"
    }
}

public struct ConnectionSettingsError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "invalid database connection string: \(reason)" }
}

extension String {
    var trimmedTrailingWhitespace: String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
