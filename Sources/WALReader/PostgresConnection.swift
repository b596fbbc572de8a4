import CLibPQ
import Glibc
public import PostgresNames

/// One libpq connection: the only owner of its `PGconn`, which it closes exactly once.
///
/// Every call blocks on the network, so a connection lives on a dedicated thread (see
/// `DedicatedThread`) and is never used from Swift's cooperative pool; it is deliberately not
/// `Sendable`. A connection opened with `replication: true` speaks the replication protocol
/// (`replication=database`) and also accepts simple SQL queries, but not parameterised ones.
public final class PostgresConnection {
    private var connection: OpaquePointer?
    public let isReplication: Bool

    private init(connection: OpaquePointer, isReplication: Bool) {
        self.connection = connection
        self.isReplication = isReplication
    }

    deinit {
        close()
    }

    /// Opens a connection. `connect_timeout` defaults to 10 seconds unless the connection string sets it.
    public static func connect(
        _ settings: ConnectionSettings, replication: Bool = false
    ) throws(PostgresError) -> PostgresConnection {
        // The user's string goes in as `dbname` with expand_dbname set, so libpq parses it and the
        // keywords after it override: replication mode, our application name, and UTF-8, in which the
        // server then sends all text (pgoutput's columns and names included) whatever the database's encoding.
        var keywords = ["dbname", "application_name", "client_encoding"]
        var values = [settings.connectionString, settings.applicationName, "UTF8"]
        if replication {
            keywords.append("replication")
            values.append("database")
        }
        if let password = settings.password {
            keywords.append("password")
            values.append(password)
        }
        if !settings.connectionString.contains("connect_timeout") {
            keywords.append("connect_timeout")
            values.append("10")
        }
        let connection = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw PostgresError(kind: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection)).trimmedTrailingWhitespace
            PQfinish(connection)
            var error = PostgresError.connectionError(message: message)
            if error.kind == .authenticationFailed, let origin = settings.passwordOrigin {
                error.hint = "the password was read from \(origin)"
            }
            throw error
        }
        return PostgresConnection(connection: connection, isReplication: replication)
    }

    /// Closes the connection; safe to call more than once.
    public func close() {
        if let connection {
            PQfinish(connection)
            self.connection = nil
        }
    }

    /// `server_version_num`, e.g. 150018.
    public var serverVersionNumber: Int {
        guard let connection else { return 0 }
        return Int(PQserverVersion(connection))
    }

    /// The libpq this process runs with, e.g. "15.18".
    public static var libpqVersion: String {
        let number = Int(PQlibVersion())
        return "\(number / 10000).\(number % 10000)"
    }

    /// The socket's file descriptor, for waiting on with poll().
    var socket: Int32 {
        guard let connection else { return -1 }
        return PQsocket(connection)
    }

    func requireConnection() throws(PostgresError) -> OpaquePointer {
        guard let connection else {
            throw PostgresError(kind: .connectionFailed, message: "the connection is closed")
        }
        return connection
    }

    /// Runs one statement through the simple query protocol and returns its rows as text.
    @discardableResult
    public func query(_ sql: String) throws(PostgresError) -> QueryResult {
        let connection = try requireConnection()
        let result = PQexec(connection, sql)
        return try consume(result, connection: connection)
    }

    /// Runs one statement with text parameters (`$1`, `$2`, …) through the extended protocol. Not
    /// available on a replication connection, which speaks the simple protocol only.
    @discardableResult
    public func query(_ sql: String, parameters: [String?]) throws(PostgresError) -> QueryResult {
        let connection = try requireConnection()
        let duplicated: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer { duplicated.forEach { free($0) } }
        let result = duplicated.map { UnsafePointer($0) }.withUnsafeBufferPointer { pointers in
            PQexecParams(connection, sql, Int32(parameters.count), nil, pointers.baseAddress, nil, nil, 0)
        }
        return try consume(result, connection: connection)
    }

    /// Quotes a string as an SQL literal for statements that cannot take parameters.
    public func literal(_ text: String) throws(PostgresError) -> String {
        let connection = try requireConnection()
        guard let escaped = PQescapeLiteral(connection, text, text.utf8.count) else {
            throw lastError(connection, kind: .protocolViolation)
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// A table's name as SQL writes it, schema and name each quoted: `"sales"."Outbox"`.
    public func identifier(_ table: QualifiedTableName) throws(PostgresError) -> String {
        "\(try identifier(table.schema)).\(try identifier(table.name))"
    }

    /// Quotes a name as an SQL identifier.
    public func identifier(_ name: String) throws(PostgresError) -> String {
        let connection = try requireConnection()
        guard let escaped = PQescapeIdentifier(connection, name, name.utf8.count) else {
            throw lastError(connection, kind: .protocolViolation)
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// Turns a `PGresult` into rows or an error, and frees it.
    func consume(_ result: OpaquePointer?, connection: OpaquePointer) throws(PostgresError) -> QueryResult {
        guard let result else {
            throw lastError(connection, kind: .connectionFailed)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            var done = QueryResult(columns: [], rows: [])
            // "" for a command that reports no count.
            done.affectedRows = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
            return done
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            return QueryResult(result)
        case PGRES_COPY_BOTH:
            return QueryResult(columns: [], rows: [])
        default:
            throw PostgresError(result: result, connection: connection)
        }
    }

    func lastError(_ connection: OpaquePointer, kind: PostgresError.Kind) -> PostgresError {
        let message = String(cString: PQerrorMessage(connection)).trimmedTrailingWhitespace
        if PQstatus(connection) != CONNECTION_OK {
            return PostgresError(kind: .connectionFailed, message: message.isEmpty ? "connection lost" : message)
        }
        return PostgresError(kind: kind, message: message.isEmpty ? "unknown libpq error" : message)
    }
}

/// The rows of one query, every value in PostgreSQL's text format (`nil` for SQL NULL).
public struct QueryResult: Sendable {
    public var columns: [String]
    public var rows: [[String?]]
    /// The rows an INSERT, UPDATE or DELETE without RETURNING touched; 0 for other commands.
    public var affectedRows = 0

    init(columns: [String], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }

    init(_ result: OpaquePointer) {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        rows = (0..<rowCount).map { row in
            (0..<columnCount).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }
        }
    }

    /// The value at `row`, in the column named `column`; nil for NULL or a missing row or column.
    public subscript(row: Int, column: String) -> String? {
        guard rows.indices.contains(row), let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }
}

extension PostgresError {
    init(result: OpaquePointer, connection: OpaquePointer) {
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let value = PQresultErrorField(result, Int32(ascii)) else { return nil }
            return String(cString: value)
        }
        let primary = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmedTrailingWhitespace
        let connectionLost = PQstatus(connection) != CONNECTION_OK
        self.init(
            kind: connectionLost ? .connectionFailed : .serverError,
            message: primary.isEmpty ? String(cString: PQerrorMessage(connection)).trimmedTrailingWhitespace : primary,
            sqlState: field("C"),
            detail: field("D"),
            hint: field("H")
        )
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the duration of the call.
private func withCStringArray<Result>(
    _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> Result
) -> Result {
    let duplicated = strings.map { strdup($0) }
    defer { duplicated.forEach { free($0) } }
    var pointers = duplicated.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
