import Foundation
import Testing

/// `--traceparent-column`: the trace context a row was written under continues through the relay.
@Suite("Trace context")
struct TraceContextEndToEndTests {
    @Test func theRowsTraceparentBecomesAKafkaHeader() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql("ALTER TABLE outbox ADD COLUMN tracingspancontext text")
        let connector = try ConnectorProcess(database: database, extra: ["--traceparent-column", "tracingspancontext"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        let type = "Traced\(database.suffix)"
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let ids = (0 ..< 3).map { _ in UUID().uuidString.lowercased() }
        try database.sql("""
            INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, tracingspancontext) VALUES
              ('\(ids[0])', '\(type)', 'k', 't', '{}', '\(traceparent)'),
              ('\(ids[1])', '\(type)', 'k', 't', '{}', E'#written by Debezium-style tracing\\ntraceparent=\(traceparent)\\ntracestate=rojo\\\\=00f067aa0ba902b7\\n'),
              ('\(ids[2])', '\(type)', 'k', 't', '{}', NULL)
            """)
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let records = Dictionary(uniqueKeysWithValues: try reader.read(until: 3, log: connector).compactMap { record in record.idHeader.map { ($0, record) } })
        func header(_ id: String, _ name: String) -> String? {
            (records[id]?.header(name) ?? nil).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(header(ids[0], "traceparent") == traceparent)
        #expect(header(ids[1], "traceparent") == traceparent)
        #expect(header(ids[1], "tracestate") == "rojo=00f067aa0ba902b7")
        #expect(records[ids[2]] != nil && header(ids[2], "traceparent") == nil, "no trace context, no header")
    }
}
