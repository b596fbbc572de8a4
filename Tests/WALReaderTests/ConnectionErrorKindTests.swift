@testable import WALReader
import Testing

/// libpq's connection failures, sorted into what to retry and what to fix (messages as libpq 15 words them).
@Suite("Connection error kinds")
struct ConnectionErrorKindTests {
    @Test(arguments: [
        ("connection to server at \"127.0.0.1\", port 5432 failed: SSL error: certificate verify failed", PostgresError.Kind.tlsFailed),
        ("connection to server at \"db.invalid\" (127.0.0.1), port 5432 failed: server certificate for \"localhost\" (and 1 other name) does not match host name \"db.invalid\"", .tlsFailed),
        ("connection to server at \"localhost\", port 5432 failed: FATAL:  connection requires a valid client certificate", .tlsFailed),
        ("root certificate file \"/nonexistent/ca.pem\" does not exist\nEither provide the file or change sslmode to disable server certificate verification.", .tlsFailed),
        ("connection to server at \"localhost\", port 5432 failed: server does not support SSL, but SSL was required", .tlsFailed),
        ("connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication failed for user \"app\"", .authenticationFailed),
        ("connection to server at \"127.0.0.1\", port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?", .connectionFailed),
        ("connection to server at \"127.0.0.1\", port 5432 failed: SSL SYSCALL error: EOF detected", .connectionFailed),
        ("connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"shop\" does not exist", .databaseMissing),
        ("connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  role \"app\" does not exist", .roleMissing),
        ("invalid integer value \"notaport\" for connection option \"port\"", .invalidConnectionOption),
        ("invalid sslmode value: \"bogus\"", .invalidConnectionOption),
    ])
    func sortsLibpqMessages(message: String, kind: PostgresError.Kind) {
        let error = PostgresError.connectionError(message: message)
        #expect(error.kind == kind)
        #expect(error.isTransient == (kind == .connectionFailed))
    }
}
