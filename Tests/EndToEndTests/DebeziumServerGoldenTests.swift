import Foundation
import KafkaClient
import Testing
import TestSupport

/// The drop-in promise for Debezium Server: outbox-cdc run from a Debezium Server `application.properties`
/// writes the records its Kafka sink writes. The expectations are in
/// Tests/DebeziumFormatTests/Fixtures/goldens-server (scripts/capture-debezium-server-goldens: the real
/// Debezium 3.6.3 engine, converters and Event Router; the Kafka sink's few lines followed from its source,
/// as that README explains).
///
/// Compared: topic, the key-hash partition, key, value and header bytes (the run id inside a header is this
/// start's). Not compared: the timestamp, the producer's clock under Debezium Server.
extension DebeziumGoldenTests {
    /// Nested in the Kafka Connect suite, so that the two never run at once: they share topics, and each counts
    /// the records that arrive after it starts.
    @Suite("Debezium Server golden records, end to end")
    struct DebeziumServer {
        static let cases = [
            "json-schemas", "defaults", "json-noschemas", "json-noschemas-header-noschemas", "json-schemas-header-noschemas",
            "format-schemas-off", "simplestring", "string-key-json-value", "binary-bytea", "additional-placement",
            "typed-headers", "typed-headers-noschemas", "header-class-simple", "header-clientprovided",
        ]

        @Test(arguments: cases)
        func outboxCDCWritesDebeziumServersRecords(caseName: String) throws {
            let golden = try GoldenFixture(caseName, root: "goldens-server")
            let database = try GoldenDatabase(setupSQL: golden.setupSQL)
            defer { database.drop() }
            let configURL = FileManager.default.temporaryDirectory.appendingPathComponent("dbzsrv-\(database.suffix).properties")
            try golden.serverProperties(database: database).write(to: configURL, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: configURL) }
            let stack = try #require(URLComponents(string: try TestStack.databaseURL()))

            let expected = try golden.expectedRecords()
            let reader = try TopicReader(topics: try golden.recordTopics())
            try reader.catchUp()
            let earlier = reader.records.count
            let connector = try ConnectorProcess(
                ["--debezium-config", configURL.path, "--brokers", try TestStack.brokers(), "--log-format", "json"],
                environment: [
                    "PGPORT": "\(stack.port ?? 5432)", "PGUSER": stack.user ?? "postgres", "PGPASSWORD": stack.password ?? "",
                    "BROKER_PORT": "9092", "DBZSRV_WORK": FileManager.default.temporaryDirectory.path,
                ]
            )
            defer {
                connector.terminate()
                _ = connector.waitForExit(timeout: .seconds(30))
            }
            try database.waitUntilActive(slot: database.slot)
            let runID = try #require(try runID(loggedBy: connector), "\(connector.log)")
            try database.sql(golden.rowsSQL)
            try reader.read(until: earlier + expected.count, log: connector)
            try reader.drain(for: .seconds(1))
            let fresh = reader.records[earlier...]
            #expect(fresh.count == expected.count, "no record twice, none extra\n\(connector.log)")
            var ours: [String: KafkaRecord] = [:]
            for record in fresh {
                guard let id = record.headers.first(where: { $0.name == "id" })?.value else { continue }
                ours[Self.eventID(inHeader: id)] = record
            }
            for (id, want) in expected {
                let eventID = Self.eventID(inHeader: Array(id.utf8))
                let got = try #require(ours[eventID], "event \(eventID) arrived")
                #expect(got.topic == want.topic, "\(caseName) \(eventID) topic")
                if let key = got.key, want.key != nil {
                    #expect(Int(got.partition) == Int((kafkaMurmur2(key) & 0x7FFF_FFFF) % 4), "\(caseName) \(eventID) key-hash partition")
                }
                #expect(got.key == want.key, "\(caseName) \(eventID) key")
                #expect(got.value == want.value, "\(caseName) \(eventID) value: \(String(decoding: got.value ?? [], as: UTF8.self))")
                let wantHeaders = want.headers.map { header in
                    guard header.name == "__debezium.context.runId", let value = header.value else { return header }
                    return KafkaHeader(name: header.name, value: Self.replacingRunID(in: value, with: runID))
                }
                #expect(got.headers == wantHeaders, "\(caseName) \(eventID) headers: \(got.headers.map { "\($0.name)=\(String(decoding: $0.value ?? [], as: UTF8.self))" })")
            }
        }

        /// The event id inside an `id` header, whether plain text or JSON (`"…"` or `{"schema":…,"payload":"…"}`).
        static func eventID(inHeader bytes: [UInt8]) -> String {
            let text = String(decoding: bytes, as: UTF8.self)
            return text.firstMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/).map { String($0.output) } ?? text
        }

        /// The captured run id (a UUID v7) inside a header value, replaced by this start's.
        static func replacingRunID(in bytes: [UInt8], with runID: String) -> [UInt8] {
            Array(String(decoding: bytes, as: UTF8.self)
                .replacing(/[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}/, with: runID).utf8)
        }

        private func runID(loggedBy connector: ConnectorProcess) throws -> String? {
            var found: String?
            try waitFor("the Debezium run id in the log", timeout: .seconds(30)) {
                found = connector.log.firstMatch(of: /"debezium.run_id":"([0-9a-f-]+)"/).map { String($0.output.1) }
                return found != nil
            }
            return found
        }
    }
}
