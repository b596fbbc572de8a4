import Foundation
import Testing

/// A broker that refuses connections: librdkafka fails several attempts a second and reports each twice.
/// outbox-cdc says once that the broker is down and once that it is back.
@Suite("Kafka connection logs")
struct BrokerConnectionLogTests {
    @Test func aRefusingBrokerIsLoggedOnceAndItsReturnOnce() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let port = try freeLoopbackPort()
        let broker = "127.0.0.1:\(port)/bootstrap"
        let connector = try ConnectorProcess(database: database, brokers: "127.0.0.1:\(port)", extra: ["--log-format", "json"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        let started = ContinuousClock.now
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        let remaining = .seconds(10) - started.duration(to: .now)
        if remaining > .zero { usleep(UInt32(remaining.components.seconds * 1_000_000 + remaining.components.attoseconds / 1_000_000_000_000)) }

        // librdkafka's texts name the broker; the start line names it only in kafka.brokers.
        let aboutTheBroker = Self.logLines(connector).filter { ($0["msg"] as? String)?.contains("127.0.0.1:\(port)") == true }
        #expect(aboutTheBroker.count == 1, "one line in 10 s, not one per attempt: \(aboutTheBroker)")
        let down = try #require(aboutTheBroker.first)
        #expect(down["level"] as? String == "warning")
        #expect(down["kafka.broker"] as? String == broker, "\(down)")
        #expect((down["msg"] as? String)?.contains("Connection refused") == true, "\(down)")

        let kafka = try OwnBroker(port: port)
        defer { kafka.stop() }
        var back: [String: Any] = [:]
        try waitFor("the line saying the broker is back", timeout: .seconds(30)) {
            back = Self.logLines(connector).first { ($0["msg"] as? String)?.contains("is reachable again") == true } ?? [:]
            return !back.isEmpty
        }
        #expect(back["level"] as? String == "info")
        #expect(back["kafka.broker"] as? String == broker, "\(back)")
        #expect((back["kafka.attempts"] as? Int ?? 0) >= 3, "\(back)")
        #expect((back["kafka.down_ms"] as? Int ?? 0) >= 10_000, "\(back)")
    }

    static func logLines(_ connector: ConnectorProcess) -> [[String: Any]] {
        connector.log.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}
