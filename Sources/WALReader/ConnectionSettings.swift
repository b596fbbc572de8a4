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
    /// Where `password` came from (`--db-password-file /run/secrets/pg`), for the hint when it is refused.
    public var passwordOrigin: String?
    /// Whether the string itself holds a (non-empty) password, so that a caller can say which of two wins.
    public let connectionStringHasPassword: Bool

    public init(_ connectionString: String, applicationName: String = "outbox-cdc") throws(ConnectionSettingsError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            var reason = "it is neither a postgres:// URL nor a key=value connection string"
            if let errorMessage {
                // libpq quotes the string it could not read, password and all.
                reason = Self.redactingSecrets(String(cString: errorMessage).trimmedTrailingWhitespace)
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
        try Self.validate(values)
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

extension ConnectionSettings {
    /// Option values libpq only rejects when it connects, so that a typo would look like an outage and be
    /// retried forever: checked here, naming the option, before any I/O.
    private static let choices: [String: [String]] = [
        "sslmode": ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
        "gssencmode": ["disable", "prefer", "require"],
        "channel_binding": ["disable", "prefer", "require"],
        "target_session_attrs": ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"],
        "load_balance_hosts": ["disable", "random"],
        "sslnegotiation": ["postgres", "direct"],
        "sslcompression": ["0", "1"],
        "sslsni": ["0", "1"],
        "keepalives": ["0", "1"],
    ]
    /// Options that take a whole number (seconds or a count).
    private static let wholeNumbers = ["connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout"]

    static func validate(_ values: [String: String]) throws(ConnectionSettingsError) {
        if let ports = values["port"] {
            // One port, or one per host of a multi-host string; an empty entry means the default.
            for port in ports.split(separator: ",", omittingEmptySubsequences: false) {
                let text = String(port.filter { $0 != " " })
                guard text.isEmpty || (UInt16(text).map { $0 > 0 } ?? false) else {
                    throw ConnectionSettingsError(reason: "the option 'port' is '\(text)', not a port number from 1 to 65535")
                }
            }
        }
        for (option, allowed) in choices.sorted(by: { $0.key < $1.key }) {
            if let value = values[option], !allowed.contains(value) {
                throw ConnectionSettingsError(reason: "the option '\(option)' is '\(value)', not one of \(allowed.joined(separator: ", "))")
            }
        }
        for option in wholeNumbers {
            if let value = values[option], !value.isEmpty, Int(value.filter { $0 != " " }) == nil {
                throw ConnectionSettingsError(reason: "the option '\(option)' is '\(value)', not a whole number")
            }
        }
    }

    /// A message about a connection string with its secrets hidden: the password of `user:password@` (in a
    /// URL, or a string that nearly is one) and the value of `password=` (bare or quoted).
    public static func redactingSecrets(_ text: String) -> String {
        var characters = Array(text)
        // user:password@ — from a ':' after the last separator before an '@', up to the '@'.
        var index = 0
        while index < characters.count {
            if characters[index] == "@" {
                var start = index
                while start > 0, !" \t\n\"'/=,".contains(characters[start - 1]) { start -= 1 }
                if let colon = characters[start ..< index].firstIndex(of: ":"), colon + 1 < index {
                    characters.replaceSubrange((colon + 1) ..< index, with: Array("***"))
                    index = colon + 4
                }
            }
            index += 1
        }
        // password=value, password = 'quoted value' (libpq's key-value syntax, backslash escapes)
        let lowered = characters.map { Character($0.lowercased()) }
        let keyword = Array("password")
        var ranges: [Range<Int>] = []
        var position = 0
        while position + keyword.count <= lowered.count {
            guard Array(lowered[position ..< position + keyword.count]) == keyword else {
                position += 1
                continue
            }
            var cursor = position + keyword.count
            while cursor < characters.count, characters[cursor] == " " { cursor += 1 }
            guard cursor < characters.count, characters[cursor] == "=" else {
                position += 1
                continue
            }
            cursor += 1
            while cursor < characters.count, characters[cursor] == " " { cursor += 1 }
            var end = cursor
            if end < characters.count, characters[end] == "'" {
                end += 1
                while end < characters.count, characters[end] != "'" { end += characters[end] == "\\" ? 2 : 1 }
                end = min(end + 1, characters.count)
            } else {
                while end < characters.count, !" \t\n\"&".contains(characters[end]) { end += 1 }
            }
            if cursor < end { ranges.append(cursor ..< end) }
            position = max(end, position + 1)
        }
        for range in ranges.reversed() { characters.replaceSubrange(range, with: Array("***")) }
        return String(characters)
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
