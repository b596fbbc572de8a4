import Foundation
import PostgresLSN
import Testing
import WALReader

/// Every error a user meets: one clear line naming the thing to fix and a non-zero exit, or a retry
/// where the condition passes by itself. Synchronous for the same reason as `StreamingTests`.
@Suite("Errors a user meets", .serialized)
struct ErrorTests {
    /// Runs the connector to its exit and returns the status and the log.
    private func runToExit(_ arguments: [String], timeout: Duration = .seconds(30)) throws -> (status: Int32?, log: String) {
        let process = try ConnectorProcess(arguments)
        let status = process.waitForExit(timeout: timeout)
        return (status, process.log)
    }

    @Test("--version names outbox-cdc, libpq and librdkafka")
    func version() throws {
        let (status, log) = try runToExit(["--version"])
        #expect(status == 0)
        #expect(log.contains("outbox-cdc "))
        #expect(log.contains("libpq 15."))
        #expect(log.contains("librdkafka 2."))
    }

    @Test("Missing or malformed settings are usage errors that name the flag")
    func usageErrors() throws {
        let noDatabase = try runToExit(["--brokers", "127.0.0.1:9"])
        #expect(noDatabase.status == 64)
        #expect(noDatabase.log.contains("--db is required (or set OUTBOX_CDC_DB)"))

        let noBrokers = try runToExit(["--db", "postgres://u@127.0.0.1:9/db"])
        #expect(noBrokers.status == 64)
        #expect(noBrokers.log.contains("--brokers is required"))

        // Values libpq only refuses when it connects: refused at once, naming the option, never retried as an outage.
        for (database, option) in [("postgres://u@127.0.0.1:notaport/db", "'port'"), ("postgres://u@127.0.0.1/db?sslmode=bogus", "'sslmode'")] {
            let badOption = try runToExit(["--db", database, "--brokers", "127.0.0.1:9"])
            #expect(badOption.status == 64, "\(badOption.log)")
            #expect(badOption.log.contains("--db: invalid database connection string: the option \(option)"), "\(badOption.log)")
        }
        // A typo in the scheme: libpq quotes the string in its error; the password never reaches the output.
        let typo = try runToExit(["--db", "postgres//app:Pa55word-typo@127.0.0.1:5432/db", "--brokers", "127.0.0.1:9"])
        #expect(typo.status == 64)
        #expect(typo.log.contains("app:***@") && !typo.log.contains("Pa55word-typo"), "\(typo.log)")

        let badURL = try runToExit(["--db", "postgres://u@[::1/db", "--brokers", "127.0.0.1:9"])
        #expect(badURL.status == 64)
        #expect(badURL.log.contains("--db: invalid database connection string"))

        let badTable = try runToExit(["--db", "postgres://u@127.0.0.1:9/db", "--brokers", "b:9", "--table", "a.b.c"])
        #expect(badTable.status == 64)
        #expect(badTable.log.contains("--table: 'a.b.c' is not a table name (three parts"), "\(badTable.log)")
        let unclosedQuote = try runToExit(["--db", "postgres://u@127.0.0.1:9/db", "--brokers", "b:9", "--table", "\"Sales\".\"Outbox"])
        #expect(unclosedQuote.status == 64)
        #expect(unclosedQuote.log.contains("a quoted name is not closed"), "\(unclosedQuote.log)")

        let badProperty = try runToExit(["--db", "postgres://u@127.0.0.1:9/db", "--brokers", "b:9", "--kafka-property", "acks"])
        #expect(badProperty.status == 64)
        #expect(badProperty.log.contains("--kafka-property must be key=value"))

        let badLevel = try runToExit(["--db", "postgres://u@127.0.0.1:9/db", "--brokers", "b:9", "--log-level", "loud"])
        #expect(badLevel.status == 64)
        #expect(badLevel.log.contains("--log-level must be one of"))

        let badAddress = try runToExit(["--db", "postgres://u@127.0.0.1:9/db", "--brokers", "b:9", "--metrics-address", "9464"])
        #expect(badAddress.status == 64)
        #expect(badAddress.log.contains("--metrics-address must be host:port"))

        let debeziumAndPasswordFile = try runToExit(["--debezium-config", "/nonexistent.properties", "--brokers", "b:9", "--db-password-file", "/tmp/x"])
        #expect(debeziumAndPasswordFile.status == 64)
        #expect(debeziumAndPasswordFile.log.contains("--db-password-file cannot be combined with --debezium-config"), "\(debeziumAndPasswordFile.log)")

        let streamingOnProtocol1 = try runToExit(["--db", "postgres://u@127.0.0.1:9/db", "--brokers", "b:9", "--stream-in-progress", "--protocol-version", "1"])
        #expect(streamingOnProtocol1.status == 64)
        #expect(streamingOnProtocol1.log.contains("--stream-in-progress needs pgoutput protocol 2 or later"))
    }

    /// `--brokers "$KAFKA"` with KAFKA unset gives an empty argument: refused at once, not taken as "no brokers".
    @Test("An empty or blank --db or --brokers, from a flag, a variable or the file, is a usage error naming the flag and its variable")
    func blankDatabaseOrBrokers() throws {
        let database = "postgres://u@127.0.0.1:9/db"
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("blank-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: config) }
        let cases: [(arguments: [String], environment: [String: String], yaml: String?, message: String)] = [
            (["--db", "", "--brokers", "b:9"], [:], nil, "--db is blank: --db / OUTBOX_CDC_DB needs"),
            (["--db", " \t", "--brokers", "b:9"], [:], nil, "--db is blank: --db / OUTBOX_CDC_DB needs"),
            (["--brokers", "b:9"], ["OUTBOX_CDC_DB": "  "], nil, "OUTBOX_CDC_DB is blank: --db / OUTBOX_CDC_DB needs"),
            (["--config", config.path, "--brokers", "b:9"], [:], "db: ''\n", "db (\(config.path), line 1) is blank: --db / OUTBOX_CDC_DB needs"),
            (["--db", database, "--brokers", ""], [:], nil, "--brokers is blank: --brokers / OUTBOX_CDC_BROKERS needs"),
            (["--db", database], ["OUTBOX_CDC_BROKERS": " "], nil, "OUTBOX_CDC_BROKERS is blank: --brokers / OUTBOX_CDC_BROKERS needs"),
            (["--config", config.path, "--db", database], [:], "slot: s\nbrokers: ' '\n", "brokers (\(config.path), line 2) is blank: --brokers / OUTBOX_CDC_BROKERS needs"),
            (["--debezium-config", "/nonexistent.properties", "--brokers", ""], [:], nil, "--brokers is blank: --brokers / OUTBOX_CDC_BROKERS needs"),
            (["tail", "--brokers", "", "--topic", "t"], [:], nil, "--brokers is blank: --brokers / OUTBOX_CDC_BROKERS needs"),
            (["tail", "--topic", "t"], ["OUTBOX_CDC_BROKERS": " "], nil, "OUTBOX_CDC_BROKERS is blank: --brokers / OUTBOX_CDC_BROKERS needs"),
            (["status", "--db", ""], [:], nil, "--db is blank: --db / OUTBOX_CDC_DB needs"),
            (["setup", "--db", " "], [:], nil, "--db is blank: --db / OUTBOX_CDC_DB needs"),
            (["teardown", "--yes"], ["OUTBOX_CDC_DB": " "], nil, "OUTBOX_CDC_DB is blank: --db / OUTBOX_CDC_DB needs"),
        ]
        for blank in cases {
            if let yaml = blank.yaml { try yaml.write(to: config, atomically: true, encoding: .utf8) }
            let process = try ConnectorProcess(blank.arguments, environment: blank.environment)
            #expect(process.waitForExit(timeout: .seconds(30)) == 64, "\(blank.arguments) \(blank.environment):\n\(process.log)")
            #expect(process.log.contains(blank.message), "\(blank.arguments) \(blank.environment):\n\(process.log)")
        }
    }

    @Test("Every setting also comes from its OUTBOX_CDC_* variable, and --log-format json writes one JSON object a line")
    func environmentAndJSONLogs() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let process = try ConnectorProcess([], environment: [
            "OUTBOX_CDC_DB": database.url,
            "OUTBOX_CDC_BROKERS": try TestStack.brokers(),
            "OUTBOX_CDC_TABLE": "audit.events",
            "OUTBOX_CDC_LOG_FORMAT": "json",
        ])
        #expect(process.waitForExit(timeout: .seconds(30)) == 1)
        let lines = process.log.split(separator: "\n")
        #expect(!lines.isEmpty)
        var sawCritical = false
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            #expect(object["ts"] is String)
            if object["level"] as? String == "critical" {
                sawCritical = true
                #expect((object["msg"] as? String)?.contains("the outbox table audit.events does not exist in database '\(database.name)'") == true)
            }
        }
        #expect(sawCritical)
    }

    @Test("An unknown librdkafka property stops with an error naming it")
    func unknownKafkaProperty() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let result = try runToExit(["--db", database.url, "--brokers", try TestStack.brokers(), "--kafka-property", "no.such.property=1"])
        #expect(result.status == 1)
        #expect(result.log.contains("no.such.property"))
    }

    @Test("A missing outbox table is named, with the database")
    func missingTable() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let result = try runToExit(["--db", database.url, "--brokers", try TestStack.brokers(), "--table", "public.nope"])
        #expect(result.status == 1)
        #expect(result.log.contains("the outbox table public.nope does not exist in database '\(database.name)'"))
    }

    @Test("An outbox table without the mapped columns is refused at start")
    func missingColumns() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql("CREATE TABLE thin (id uuid PRIMARY KEY, payload jsonb)")
        let result = try runToExit(["--db", database.url, "--brokers", try TestStack.brokers(), "--table", "thin"])
        #expect(result.status == 1)
        #expect(result.log.contains("lacks the column(s) aggregatetype, aggregateid"))
    }

    @Test("Wrong password: the login is refused, and the password never reaches the log")
    func authenticationFailed() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        var components = try #require(URLComponents(string: database.url))
        components.password = "s3cret-wrong-pw"
        let result = try runToExit(["--db", try #require(components.string), "--brokers", try TestStack.brokers()])
        #expect(result.status == 1)
        #expect(result.log.contains("PostgreSQL refused the login"))
        #expect(!result.log.contains("s3cret-wrong-pw"))
    }

    @Test("An unknown database, and a wrong password read from --db-password-file: each told apart, at once, with its own hint")
    func hintsFitTheFailure() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let missing = TestDatabase.replacingDatabase(in: database.url, with: "no_such_db_\(database.suffix)")
        let unknownDatabase = try runToExit(["--db", missing, "--brokers", try TestStack.brokers()])
        #expect(unknownDatabase.status == 1, "fatal, not retried:\n\(unknownDatabase.log)")
        #expect(unknownDatabase.log.contains("PostgreSQL has no such database") && unknownDatabase.log.contains("check the database name"),
                "\(unknownDatabase.log)")
        #expect(!unknownDatabase.log.contains("check the user and password"))

        let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(database.suffix)")
        try "wrong-pw-in-file\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: passwordFile) }
        var components = try #require(URLComponents(string: database.url))
        components.password = nil
        let fromFile = try runToExit(["--db", try #require(components.string), "--db-password-file", passwordFile.path, "--brokers", try TestStack.brokers()])
        #expect(fromFile.status == 1)
        #expect(fromFile.log.contains("the password was read from --db-password-file \(passwordFile.path)"), "\(fromFile.log)")
        #expect(!fromFile.log.contains("wrong-pw-in-file"))
    }

    @Test("A role without REPLICATION is told how to grant it")
    func noReplicationPrivilege() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let role = "norep_\(database.suffix)"
        try database.sql("CREATE ROLE \(role) LOGIN PASSWORD 'pw'")
        defer { _ = try? database.sql("DROP ROLE IF EXISTS \(role)") }
        var components = try #require(URLComponents(string: database.url))
        components.user = role
        components.password = "pw"
        let result = try runToExit(["--db", try #require(components.string), "--brokers", try TestStack.brokers()])
        #expect(result.status == 1)
        #expect(result.log.contains("the role '\(role)' may not open a replication connection: ALTER ROLE \(role) WITH REPLICATION"))
    }

    @Test("An existing slot with another plugin is refused with the way out")
    func slotWithOtherPlugin() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "td_\(database.suffix)"
        try database.sql("SELECT pg_create_logical_replication_slot('\(slot)', 'test_decoding')")
        let result = try runToExit(["--db", database.url, "--brokers", try TestStack.brokers(), "--slot", slot])
        #expect(result.status == 1)
        #expect(result.log.contains("uses the plugin 'test_decoding', not pgoutput"))
    }

    @Test("--no-create refuses to create a missing publication")
    func noCreate() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let result = try runToExit(["--db", database.url, "--brokers", try TestStack.brokers(), "--no-create"])
        #expect(result.status == 1)
        #expect(result.log.contains("the publication 'outbox_pub' does not exist and creation is turned off"))
        #expect(try database.sql("SELECT count(*) FROM pg_replication_slots WHERE database = '\(database.name)'")[0, "count"] == "0")
    }

    @Test("wal_level below logical is refused with how to fix it")
    func walLevelNotLogical() throws {
        let cluster = try ThrowawayCluster(walLevel: "replica")
        defer { cluster.stop() }
        let result = try runToExit(["--db", cluster.url, "--brokers", try TestStack.brokers()])
        #expect(result.status == 1)
        #expect(result.log.contains("wal_level is 'replica' but logical replication needs 'logical'"))
        #expect(result.log.contains("ALTER SYSTEM SET wal_level = logical"))
    }

    @Test("Hot standby: a second instance waits while the slot is busy and takes over when the first dies")
    func slotActiveElsewhereWaitsAndTakesOver() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "slot_\(database.suffix)"
        let type = "standby_\(database.suffix)"
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let active = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        let standby = try ConnectorProcess(database: database)
        try waitFor("the standby to report the busy slot", timeout: .seconds(20)) {
            standby.log.contains("standing by: the replication slot '\(slot)' is in use by another process")
        }
        #expect(standby.isRunning)
        #expect(standby.log.contains("on the PostgreSQL server: the walsender serving 127.0.0.1 (application outbox-cdc)"),
                "the pid is the server's walsender, and whose: \(standby.log)")

        active.killHard()
        let killed = ContinuousClock.now
        var writer = try OutboxWriter(database: database)
        let events = try writer.commit([(type, "a")])
        try reader.read(until: 1, timeout: .seconds(60))
        #expect(reader.records.first?.idHeader == events[0].id)
        print("hot standby: took over and published \(ContinuousClock.now - killed) after kill -9 of the active instance")
        standby.terminate()
        #expect(standby.waitForExit(timeout: .seconds(30)) == 0, "\(standby.log)")
    }

    @Test("Broker unreachable: the connector keeps retrying, the slot does not move past unacknowledged events, SIGTERM still exits (75)")
    func brokerUnreachable() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database, brokers: "127.0.0.1:9", extra: ["--shutdown-timeout-s", "1"])
        try database.waitUntilActive(slot: slot)
        // A witness slot gives the event's commit end; the connector's slot must stay before it.
        try database.createWitnessSlot()
        var writer = try OutboxWriter(database: database)
        _ = try writer.commit([("unreachable_\(database.suffix)", "a")])
        let eventEnd = try #require(try database.witnessedCommitEnds().last)
        usleep(2_000_000)
        #expect(connector.isRunning)
        let whileDown = try #require(try database.slot(slot)?.confirmed)
        #expect(whileDown < eventEnd, "the slot moved to \(whileDown), past the unacknowledged event ending at \(eventEnd)")
        connector.terminate()
        // An orderly stop that ran out of time with the event unacknowledged: 75, so a supervisor knows.
        #expect(connector.waitForExit(timeout: .seconds(30)) == 75, "\(connector.log)")
        let afterStop = try #require(try database.slot(slot)?.confirmed)
        #expect(afterStop < eventEnd, "the final status confirmed \(afterStop), past the unacknowledged event ending at \(eventEnd)")
        #expect(connector.log.contains("Kafka did not acknowledge every event before the shutdown timeout"))
    }

    @Test("The walsender terminated mid-stream: the connector reconnects and resumes from the confirmed position, losing nothing")
    func walsenderTerminated() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "slot_\(database.suffix)"
        let type = "terminated_\(database.suffix)"
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        var writer = try OutboxWriter(database: database)
        var written: [WrittenEvent] = []
        for round in 0 ..< 6 {
            written += try writer.commit((0 ..< 50).map { (type, "k-\(($0 + round) % 9)") })
            if round == 2 {
                try database.sql("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '\(slot)'")
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while reader.eventIDs.count < written.count, ContinuousClock.now < deadline {
            try reader.drain(for: .milliseconds(100))
        }
        #expect(reader.eventIDs == Set(written.map(\.id)), "log:\n\(connector.log)")
        #expect(verifyPerKeyOrder(reader.records, written: written).orderViolations.isEmpty)
        #expect(connector.log.contains("replication interrupted; reconnecting"))
        #expect(connector.isRunning)
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
    }

    @Test("PostgreSQL unreachable: the connector retries with backoff until stopped")
    func postgresUnreachable() throws {
        let connector = try ConnectorProcess(["--db", "postgres://u:pw@127.0.0.1:9/db", "--brokers", try TestStack.brokers()])
        try waitFor("a reconnect attempt", timeout: .seconds(20)) {
            connector.log.components(separatedBy: "reconnecting").count >= 3
        }
        #expect(connector.isRunning)
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(10)) == 0, "\(connector.log)")
        #expect(!connector.log.contains(":pw@"))
    }
}
