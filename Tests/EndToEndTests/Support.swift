import Foundation
import KafkaClient
import Logging
import Synchronization
import Testing
import WALReader

/// The running stack (`scripts/dev-stack up`), from the variables `scripts/dev-stack env` prints.
enum TestStack {
    static func databaseURL() throws -> String {
        try require("OUTBOX_CDC_DB")
    }

    static func brokers() throws -> String {
        try require("OUTBOX_CDC_BROKERS")
    }

    private static func require(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw TestSetupError("\(name) is not set: run the tests through scripts/test, or eval \"$(scripts/dev-stack env)\" first")
        }
        return value
    }

    static let logger: Logger = {
        var logger = Logger(label: "end-to-end-tests")
        logger.logLevel = .warning
        return logger
    }()
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A throwaway database with an outbox table, dropped (with its slots) at the end.
final class TestDatabase: @unchecked Sendable {
    let name: String
    let url: String
    /// A suffix unique to this test, for slot, publication and aggregate type names.
    let suffix: String

    /// `encoding`: the database's, other than the cluster's default (UTF8), e.g. LATIN1 (with the C locale).
    init(outboxPayloadType: String = "jsonb", encoding: String? = nil) throws {
        suffix = String(UInt64.random(in: 0 ... .max), radix: 36)
        name = "e2e_\(suffix)"
        let admin = try PostgresConnection.connect(ConnectionSettings(TestStack.databaseURL()))
        defer { admin.close() }
        if let encoding {
            try admin.query("CREATE DATABASE \(name) ENCODING '\(encoding)' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
        } else {
            try admin.query("CREATE DATABASE \(name)")
        }
        url = Self.replacingDatabase(in: try TestStack.databaseURL(), with: name)
        try sql("""
            CREATE TABLE outbox (
                id uuid PRIMARY KEY,
                aggregatetype text NOT NULL,
                aggregateid text NOT NULL,
                type text NOT NULL,
                payload \(outboxPayloadType),
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """)
    }

    /// Drops the database after its slots; a test calls it at the end (also on failure, with defer).
    func drop() {
        guard let admin = try? PostgresConnection.connect(ConnectionSettings(TestStack.databaseURL())) else { return }
        defer { admin.close() }
        _ = try? admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()")
        for _ in 0 ..< 50 {
            let dropped = try? admin.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '\(name)' AND NOT active")
            let remaining = try? admin.query("SELECT count(*) FROM pg_replication_slots WHERE database = '\(name)'")
            if dropped != nil, remaining?.rows.first?.first == "0" { break }
            usleep(100_000)
        }
        _ = try? admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    func connect() throws -> PostgresConnection {
        try PostgresConnection.connect(ConnectionSettings(url))
    }

    @discardableResult
    func sql(_ statement: String) throws -> QueryResult {
        let connection = try connect()
        defer { connection.close() }
        return try connection.query(statement)
    }

    /// The slot's `confirmed_flush_lsn` and whether a process streams from it.
    func slot(_ slot: String) throws -> (confirmed: LSN?, active: Bool)? {
        let result = try sql("SELECT confirmed_flush_lsn, active FROM pg_replication_slots WHERE slot_name = '\(slot)'")
        guard !result.rows.isEmpty else { return nil }
        return (result[0, "confirmed_flush_lsn"].flatMap { LSN($0) }, result[0, "active"] == "t")
    }

    /// Waits until a process streams from the slot. `active` alone is not enough: a slot is active
    /// while CREATE_REPLICATION_SLOT still waits for transactions running elsewhere in the cluster, and
    /// what commits before its consistent point is not part of its stream. `confirmed_flush_lsn` is set
    /// only once the slot is consistent.
    func waitUntilActive(slot name: String, timeout: Duration = .seconds(30)) throws {
        try waitFor("slot \(name) to stream", timeout: timeout) {
            guard let state = try slot(name) else { return false }
            return state.active && state.confirmed != nil
        }
    }

    /// A test_decoding slot that sees the same transactions as the connector's: each COMMIT row it
    /// decodes carries the transaction's end LSN, an independent record of where transactions end.
    func createWitnessSlot() throws {
        try sql("SELECT pg_create_logical_replication_slot('witness_\(suffix)', 'test_decoding')")
    }

    /// The end LSNs of the transactions the witness slot has seen (without consuming them), oldest first.
    func witnessedCommitEnds() throws -> [LSN] {
        try sql("SELECT lsn::text FROM pg_logical_slot_peek_changes('witness_\(suffix)', NULL, NULL) WHERE data LIKE 'COMMIT%'")
            .rows.compactMap { $0.first.flatMap { $0 }.flatMap { LSN($0) } }
    }

    static func replacingDatabase(in url: String, with database: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/" + database
        return components.string ?? url
    }
}

import PostgresLSN

/// Polls `condition` every 50 ms until it holds; fails the test with `what` after `timeout`.
func waitFor(_ what: String, timeout: Duration, _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        usleep(50_000)
    }
    throw TestSetupError("timed out after \(timeout) waiting for \(what)")
}

/// One outbox event as the tests write it.
struct WrittenEvent: Sendable, Hashable {
    var id: String
    var aggregateType: String
    var aggregateID: String
    /// Position of this event among its key's events, in commit order.
    var sequence: Int
}

/// Writes outbox rows. Payloads are jsonb `{"seq": n, "agg": "…"}`.
struct OutboxWriter {
    let connection: PostgresConnection
    private var sequences: [String: Int] = [:]

    init(database: TestDatabase) throws {
        connection = try database.connect()
    }

    /// Inserts one transaction of events, one a key/type pair, and returns them in insertion order.
    mutating func commit(_ rows: [(aggregateType: String, aggregateID: String)], extraSQL: String = "") throws -> [WrittenEvent] {
        var events: [WrittenEvent] = []
        var values: [String] = []
        for row in rows {
            // Kafka orders a key's events within its topic, so sequences count per topic and key.
            let sequenceKey = row.aggregateType + "/" + row.aggregateID
            let sequence = sequences[sequenceKey, default: 0]
            sequences[sequenceKey] = sequence + 1
            let event = WrittenEvent(id: UUID().uuidString.lowercased(), aggregateType: row.aggregateType, aggregateID: row.aggregateID, sequence: sequence)
            events.append(event)
            values.append("('\(event.id)', '\(row.aggregateType)', '\(row.aggregateID)', 'created', '{\"seq\": \(sequence), \"agg\": \"\(row.aggregateID)\"}')")
        }
        try connection.query("BEGIN")
        try connection.query("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES " + values.joined(separator: ", "))
        if !extraSQL.isEmpty { try connection.query(extraSQL) }
        try connection.query("COMMIT")
        return events
    }
}

/// The outbox-cdc executable built beside the tests, run as a child process.
final class ConnectorProcess: @unchecked Sendable {
    let process = Process()
    let logURL: URL

    /// Starts `outbox-cdc` with `arguments`; the stack's settings come from flags, not the environment.
    init(_ arguments: [String], environment extra: [String: String] = [:]) throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-cdc-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: logURL.path, contents: nil) else {
            throw TestSetupError("cannot create \(logURL.path)")
        }
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = Self.executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OUTBOX_CDC_") }
        environment.merge(extra) { _, new in new }
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Starts the connector on `database` with the stack's broker.
    convenience init(database: TestDatabase, slot: String? = nil, brokers: String? = nil, extra: [String] = []) throws {
        try self.init([
            "--db", database.url,
            "--brokers", try brokers ?? TestStack.brokers(),
            "--slot", slot ?? "slot_\(database.suffix)",
            "--publication", "pub_\(database.suffix)",
            "--status-interval-ms", "200",
        ] + extra)
    }

    static var executable: URL {
        // The test bundle sits in the build folder beside the executable product.
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("outbox-cdc")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return URL(fileURLWithPath: ".build/debug/outbox-cdc")
    }

    /// The process's output so far; bytes that are not UTF-8 (librdkafka may log some) are replaced.
    var log: String {
        guard let data = FileManager.default.contents(atPath: logURL.path) else { return "(no log file)" }
        return String(decoding: data, as: UTF8.self)
    }

    func terminate() { kill(process.processIdentifier, SIGTERM) }

    func killHard() {
        kill(process.processIdentifier, SIGKILL)
        _ = waitForExit(timeout: .seconds(10))
    }

    /// Waits for the process to exit and returns its status; nil on timeout.
    func waitForExit(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            usleep(20_000)
        }
        return process.terminationStatus
    }

    var isRunning: Bool { process.isRunning }

    /// The process's peak resident set size so far (VmHWM), in bytes; nil once it has exited.
    var peakResidentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    deinit {
        if process.isRunning {
            killHard()
        }
        try? FileManager.default.removeItem(at: logURL)
    }
}

/// Reads every partition of the given topics from the beginning.
final class TopicReader: @unchecked Sendable {
    let consumer: KafkaConsumer
    let topics: [String]
    private(set) var records: [KafkaRecord] = []

    /// `brokers`: the stack's unless a test runs a broker of its own.
    init(brokers: String? = nil, topics: [String]) throws {
        consumer = try KafkaConsumer(brokers: brokers ?? TestStack.brokers(), logger: TestStack.logger)
        self.topics = topics
        for topic in topics {
            try consumer.assign(topic: topic, from: .beginning)
        }
    }

    /// Reads until `count` records in all, or fails after `timeout`.
    @discardableResult
    func read(until count: Int, timeout: Duration = .seconds(60), log connector: ConnectorProcess? = nil) throws -> [KafkaRecord] {
        let deadline = ContinuousClock.now + timeout
        while records.count < count, ContinuousClock.now < deadline {
            if let record = try consumer.poll(timeout: .milliseconds(100)) { records.append(record) }
        }
        if records.count < count {
            let fresh = try TopicReader(topics: topics)
            try fresh.drain(for: .seconds(3))
            throw TestSetupError("""
                read \(records.count) of \(count) records before the timeout
                this consumer, per partition (records, highest offset): \(Self.partitionSummary(records))
                a fresh consumer, per partition: \(Self.partitionSummary(fresh.records))
                connector log:
                \(connector?.log ?? "(none)")
                """)
        }
        return records
    }

    /// `topic/partition: count (max offset)` for each partition that has records.
    static func partitionSummary(_ records: [KafkaRecord]) -> String {
        var summary: [String: (count: Int, maxOffset: Int64)] = [:]
        for record in records {
            let key = "\(record.topic)/\(record.partition)"
            let entry = summary[key, default: (0, -1)]
            summary[key] = (entry.count + 1, max(entry.maxOffset, record.offset))
        }
        return summary.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.count) (\($0.value.maxOffset))" }.joined(separator: ", ")
    }

    /// Reads whatever arrives during `duration`.
    func drain(for duration: Duration) throws {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            if let record = try consumer.poll(timeout: .milliseconds(100)) { records.append(record) }
        }
    }

    /// Reads what the topics already hold, until a second passes with nothing new (at most `limit`): on a
    /// long-lived broker the topics shared between runs hold more than a fixed wait reads.
    func catchUp(limit: Duration = .seconds(60)) throws {
        let deadline = ContinuousClock.now + limit
        repeat {
            let before = records.count
            try drain(for: .seconds(1))
            if records.count == before { return }
        } while ContinuousClock.now < deadline
    }

    /// Distinct event ids seen (the `id` header).
    var eventIDs: Set<String> {
        Set(records.compactMap { $0.header("id")??.utf8String })
    }

    deinit { consumer.close() }
}

extension Array where Element == UInt8 {
    var utf8String: String { String(decoding: self, as: UTF8.self) }
}

extension KafkaRecord {
    var idHeader: String? { header("id")??.utf8String }
}

/// Checks per-key order under at-least-once: taking each event's first appearance in its partition,
/// every key's sequence numbers appear in commit order. Returns the number of duplicate records.
func verifyPerKeyOrder(_ records: [KafkaRecord], written: [WrittenEvent]) -> (duplicates: Int, orderViolations: [String]) {
    let byID = Dictionary(uniqueKeysWithValues: written.map { ($0.id, $0) })
    var seen = Set<String>()
    var duplicates = 0
    var lastSequence: [String: Int] = [:]
    var violations: [String] = []
    // Records of one key share a partition; within a partition, offsets give Kafka's order.
    let ordered = records.sorted { ($0.topic, $0.partition, $0.offset) < ($1.topic, $1.partition, $1.offset) }
    for record in ordered {
        guard let id = record.idHeader, let event = byID[id] else { continue }
        if !seen.insert(id).inserted {
            duplicates += 1
            continue
        }
        let key = record.topic + "/" + event.aggregateID
        if let last = lastSequence[key], event.sequence < last {
            violations.append("\(key): seq \(event.sequence) after \(last)")
        }
        lastSequence[key] = event.sequence
    }
    return (duplicates, violations)
}
