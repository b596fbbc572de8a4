import Foundation
import Testing

/// Secrets from files (--db-password-file, --kafka-secret-file): they work, and they never reach the log.
@Suite("Secrets from files")
struct SecretsTests {
    private func secretFile(_ content: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)").path
        guard FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw TestSetupError("cannot write \(path)")
        }
        return path
    }

    /// The database URL without its password.
    private func urlWithoutPassword(_ database: TestDatabase) throws -> (url: String, password: String) {
        var components = try #require(URLComponents(string: database.url))
        let password = try #require(components.password)
        components.password = nil
        return (try #require(components.string), password)
    }

    @Test func thePasswordAndAKafkaSecretComeFromFilesAndAreNeverLogged() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let (url, password) = try urlWithoutPassword(database)
        let passwordFile = try secretFile(password + "\n")
        let kafkaSecret = "kafka-secret-\(UUID().uuidString)"
        let kafkaSecretFile = try secretFile(kafkaSecret)
        defer { [passwordFile, kafkaSecretFile].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        let connector = try ConnectorProcess([
            "--db", url, "--db-password-file", passwordFile, "--brokers", try TestStack.brokers(),
            "--slot", "slot_\(database.suffix)", "--publication", "pub_\(database.suffix)",
            "--kafka-secret-file", "sasl.password=\(kafkaSecretFile)", "--log-level", "trace",
        ])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        var writer = try OutboxWriter(database: database)
        let events = try writer.commit([("Secret\(database.suffix)", "k")])
        let reader = try TopicReader(topics: ["outbox.event.Secret\(database.suffix)"])
        try reader.read(until: 1, log: connector)
        #expect(reader.eventIDs == Set(events.map(\.id)))
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0)
        #expect(!connector.log.contains(kafkaSecret), "the Kafka secret is in the log")
        #expect(!connector.log.contains(":\(password)@") && !connector.log.contains("password=\(password)"), "the password is in the log")
    }

    @Test func aWrongPasswordFromAFileIsRefusedWithoutPrintingIt() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let (url, _) = try urlWithoutPassword(database)
        let wrong = "wrong-\(UUID().uuidString)"
        let passwordFile = try secretFile(wrong)
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }
        let connector = try ConnectorProcess([
            "--db", url, "--db-password-file", passwordFile, "--brokers", try TestStack.brokers(), "--log-level", "trace",
        ])
        #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        #expect(connector.log.contains("password authentication failed"), "\(connector.log)")
        #expect(!connector.log.contains(wrong))
    }

    @Test func aSecretFileThatCannotBeReadIsAUsageErrorNamingIt() throws {
        let connector = try ConnectorProcess([
            "--db", "postgres://u@127.0.0.1:1/db", "--brokers", "127.0.0.1:1",
            "--kafka-secret-file", "sasl.password=/nonexistent/kafka-password",
        ])
        #expect(connector.waitForExit(timeout: .seconds(30)) == 64, "\(connector.log)")
        #expect(connector.log.contains("--kafka-secret-file sasl.password: cannot read /nonexistent/kafka-password: no such file"), "\(connector.log)")
    }

    /// A password file written on Windows ends in CRLF: the password is what precedes it. PGPASSWORD is set
    /// wrong so that only the file's password can let outbox-cdc in.
    @Test func aPasswordFileEndingInCRLFWorks() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let (url, password) = try urlWithoutPassword(database)
        let passwordFile = try secretFile(password + "\r\n")
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }
        let connector = try ConnectorProcess([
            "--db", url, "--db-password-file", passwordFile, "--brokers", try TestStack.brokers(),
            "--slot", "slot_\(database.suffix)", "--publication", "pub_\(database.suffix)",
        ], environment: ["PGPASSWORD": "not-the-password"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try waitFor("the slot to stream, or outbox-cdc to exit", timeout: .seconds(30)) {
            try database.slot("slot_\(database.suffix)")?.active == true || !connector.isRunning
        }
        try #require(connector.isRunning, "\(connector.log)")
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
    }

    /// A password in the URL and one in --db-password-file: libpq uses the one given apart, and outbox-cdc
    /// says so without printing either. The URL's is wrong here, so connecting shows which one was used.
    @Test func aPasswordInTheURLAndInAFileIsWarnedAboutAndTheFilesWins() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let (url, password) = try urlWithoutPassword(database)
        var components = try #require(URLComponents(string: url))
        let wrong = "wrong-\(UUID().uuidString)"
        components.password = wrong
        let urlWithWrongPassword = try #require(components.string)
        let passwordFile = try secretFile(password)
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }
        let warning = "the PostgreSQL password is given twice, in the --db connection string and in --db-password-file: the file's is used"

        let connector = try ConnectorProcess([
            "--db", urlWithWrongPassword, "--db-password-file", passwordFile, "--brokers", try TestStack.brokers(),
            "--slot", "slot_\(database.suffix)", "--publication", "pub_\(database.suffix)",
        ], environment: ["PGPASSWORD": "not-the-password"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        #expect(connector.log.contains(warning), "\(connector.log)")

        let status = try ConnectorProcess(
            ["status", "--db", urlWithWrongPassword, "--db-password-file", passwordFile, "--slot", "slot_\(database.suffix)",
             "--publication", "pub_\(database.suffix)"],
            environment: ["PGPASSWORD": "not-the-password"])
        #expect(status.waitForExit(timeout: .seconds(30)) == 0, "\(status.log)")
        #expect(status.log.contains("slot           slot_\(database.suffix)"), "\(status.log)")
        #expect(status.log.contains(warning), "\(status.log)")
        for log in [connector.log, status.log] {
            // The stack's password may equal its user's name, which the target shows: look for it as a password.
            #expect(!log.contains(wrong) && !log.contains(":\(password)@") && !log.contains("password=\(password)"), "a password is in the output")
        }
    }
}
