import Foundation
import Testing

/// `--metrics-address`: Prometheus metrics that move with the events, and health endpoints a Kubernetes
/// probe can use.
@Suite("Metrics and health")
struct MetricsTests {
    @Test func theCountersMoveWithTheEventsDuringARun() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let port = try freeLoopbackPort()
        let connector = try ConnectorProcess(database: database, extra: ["--metrics-address", "127.0.0.1:\(port)"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        #expect(try httpGet(port: port, "/healthz").status == 200)
        try waitFor("/readyz to say ready", timeout: .seconds(10)) { try httpGet(port: port, "/readyz").status == 200 }
        let type = "Metered\(database.suffix)"
        let topic = "outbox.event.\(type)"
        var scrape = Scrape(try httpGet(port: port, "/metrics").body)
        #expect(scrape["outbox_cdc_streaming"] == 1)
        #expect(scrape["outbox_cdc_events_published_total{topic=\"\(topic)\"}"] == nil, "no counter for a topic not seen yet")
        let transactionsBefore = scrape["outbox_cdc_transactions_confirmed_total"] ?? 0
        let bytesBefore = scrape["outbox_cdc_bytes_published_total"] ?? 0

        var writer = try OutboxWriter(database: database)
        for _ in 0 ..< 10 { _ = try writer.commit((0 ..< 5).map { _ in (type, "k") }) }
        let reader = try TopicReader(topics: [topic])
        try reader.read(until: 50, log: connector)
        // The gauges and the transaction counter are refreshed at each status update (200 ms here).
        try waitFor("the metrics to count 50 events and 10 transactions", timeout: .seconds(10)) {
            scrape = Scrape(try httpGet(port: port, "/metrics").body)
            return scrape["outbox_cdc_events_published_total{topic=\"\(topic)\"}"] == 50
                && (scrape["outbox_cdc_transactions_confirmed_total"] ?? 0) >= transactionsBefore + 10
        }
        #expect((scrape["outbox_cdc_bytes_published_total"] ?? 0) > bytesBefore)
        #expect((scrape["outbox_cdc_commit_to_ack_seconds_count"] ?? 0) >= 50)
        #expect(scrape["outbox_cdc_events_failed_total{topic=\"\(topic)\"}"] == 0)
        #expect((scrape["outbox_cdc_confirmed_lsn"] ?? 0) > 0)
        #expect(scrape["outbox_cdc_events_in_flight"] == 0)
        #expect(scrape["outbox_cdc_reconnects_total"] == 0)
        #expect(scrape["outbox_cdc_last_acknowledged_event_delay_seconds"] != nil)
        #expect(scrape["outbox_cdc_oldest_unacknowledged_event_age_seconds"] == 0, "nothing waits")

        // Each outbox_cdc metric says what it is, on a # HELP line just before its # TYPE line.
        let exposition = try httpGet(port: port, "/metrics").body.split(separator: "\n").map(String.init)
        let typed = exposition.indices.filter { exposition[$0].hasPrefix("# TYPE outbox_cdc_") }
        #expect(typed.count >= 13, "\(exposition)")
        for index in typed {
            let name = exposition[index].split(separator: " ")[2]
            let help = index > 0 ? exposition[index - 1] : ""
            #expect(help.hasPrefix("# HELP \(name) ") && help.count > "# HELP \(name) ".count + 10, "no help for \(name): \(help)")
        }

        for _ in 0 ..< 5 { _ = try writer.commit([(type, "k")]) }
        try reader.read(until: 55, log: connector)
        try waitFor("the counter to move on to 55", timeout: .seconds(10)) {
            Scrape(try httpGet(port: port, "/metrics").body)["outbox_cdc_events_published_total{topic=\"\(topic)\"}"] == 55
        }
    }

    /// With the broker paused, events wait for acknowledgements that do not come: /readyz turns unready,
    /// and ready again when the broker resumes. A hot-standby instance is never ready.
    @Test func readyzTurnsUnreadyWhileTheBrokerIsPausedAndOnAStandby() throws {
        let run = try ConnectorOnOwnBroker(extra: ["--ready-max-ack-wait-ms", "1000"])
        defer { run.stop() }
        let (broker, database, port) = (run.broker, run.database, run.port)
        try waitFor("/readyz to say ready", timeout: .seconds(10)) { try httpGet(port: port, "/readyz").status == 200 }

        let standbyPort = try freeLoopbackPort()
        let standby = try ConnectorProcess(database: database, brokers: broker.brokers, extra: ["--metrics-address", "127.0.0.1:\(standbyPort)"])
        defer {
            standby.terminate()
            _ = standby.waitForExit(timeout: .seconds(30))
        }
        try waitFor("the standby to stand by", timeout: .seconds(30)) { standby.log.contains("standing by") }
        let standbyReady = try httpGet(port: standbyPort, "/readyz")
        #expect(standbyReady.status == 503 && standbyReady.body.contains("not streaming"), "\(standbyReady)")
        #expect(try httpGet(port: standbyPort, "/healthz").status == 200, "alive all the same")

        broker.pause()
        var writer = try OutboxWriter(database: database)
        _ = try writer.commit([("Paused\(database.suffix)", "k")])
        var unready = (status: 0, body: "")
        try waitFor("/readyz to turn unready", timeout: .seconds(20)) {
            unready = try httpGet(port: port, "/readyz")
            return unready.status == 503
        }
        #expect(unready.body.contains("no acknowledgement from Kafka"), "\(unready.body)")
        #expect(try httpGet(port: port, "/healthz").status == 200, "alive all the same")
        broker.resume()
        try waitFor("/readyz to be ready again", timeout: .seconds(60)) { try httpGet(port: port, "/readyz").status == 200 }
    }
}

/// A broker that freezes (SIGSTOP) closes no connection: only outbox-cdc's own view of the acknowledgements
/// can tell. The age of the oldest unacknowledged event grows while the delay of the last acknowledged one
/// stays put, a warning is logged within seconds, and the recovery once the broker resumes.
@Suite("Metrics and logs while Kafka stalls")
struct StalledBrokerTests {
    @Test func theOldestWaitingEventAgesAndTheStallIsLoggedUntilTheBrokerResumes() throws {
        let run = try ConnectorOnOwnBroker(extra: ["--log-format", "json"])
        defer { run.stop() }
        let (broker, database, port, connector) = (run.broker, run.database, run.port, run.connector)
        let type = "Stalled\(database.suffix)"
        var writer = try OutboxWriter(database: database)
        _ = try writer.commit([(type, "k")])
        var scrape = Scrape("")
        try waitFor("the first event to be acknowledged", timeout: .seconds(30)) {
            scrape = Scrape(try httpGet(port: port, "/metrics").body)
            return scrape["outbox_cdc_events_published_total{topic=\"outbox.event.\(type)\"}"] == 1
        }
        let delayBefore = try #require(scrape["outbox_cdc_last_acknowledged_event_delay_seconds"])
        #expect(delayBefore < 1, "a healthy delivery takes milliseconds")

        broker.pause()
        let pausedAt = ContinuousClock.now
        for _ in 0 ..< 3 { _ = try writer.commit([(type, "k"), (type, "j")]) }
        try waitFor("the oldest unacknowledged event to be older than a second", timeout: .seconds(20)) {
            scrape = Scrape(try httpGet(port: port, "/metrics").body)
            return (scrape["outbox_cdc_oldest_unacknowledged_event_age_seconds"] ?? 0) > 1.5
        }
        #expect(scrape["outbox_cdc_last_acknowledged_event_delay_seconds"] == delayBefore, "nothing was acknowledged since")
        #expect(scrape["outbox_cdc_events_in_flight"] == 6)

        var stallLine: [String: Any] = [:]
        try waitFor("the stall warning", timeout: .seconds(15)) {
            stallLine = Self.logLines(connector).first { ($0["msg"] as? String)?.hasPrefix("Kafka has acknowledged nothing") == true } ?? [:]
            return !stallLine.isEmpty
        }
        #expect(pausedAt.duration(to: .now) < .seconds(12), "warned within seconds of the freeze")
        #expect(stallLine["level"] as? String == "warning")
        #expect(stallLine["kafka.events_waiting"] as? Int == 6, "\(stallLine)")
        #expect((stallLine["kafka.ack_wait_ms"] as? Int ?? 0) >= 5000, "\(stallLine)")
        #expect((stallLine["cdc.oldest_unacknowledged_age_ms"] as? Int ?? 0) >= 4000, "\(stallLine)")

        broker.resume()
        try waitFor("the oldest unacknowledged event age to return to 0", timeout: .seconds(60)) {
            Scrape(try httpGet(port: port, "/metrics").body)["outbox_cdc_oldest_unacknowledged_event_age_seconds"] == 0
        }
        var recovery: [String: Any] = [:]
        try waitFor("the recovery line", timeout: .seconds(10)) {
            recovery = Self.logLines(connector).first { ($0["msg"] as? String)?.hasPrefix("Kafka acknowledges again") == true } ?? [:]
            return !recovery.isEmpty
        }
        #expect(recovery["level"] as? String == "info")
        #expect((recovery["kafka.stall_ms"] as? Int ?? 0) >= 5000, "\(recovery)")
        let warnings = Self.logLines(connector).filter { ($0["msg"] as? String)?.hasPrefix("Kafka has") == true }
        #expect(warnings.count == 1, "one warning, the reminder comes after 30 s: \(warnings)")
    }

    static func logLines(_ connector: ConnectorProcess) -> [[String: Any]] {
        connector.log.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

/// outbox-cdc streaming from a database of its own to a broker of its own, which a test may pause (SIGSTOP),
/// with metrics served on a free port.
final class ConnectorOnOwnBroker {
    let broker: OwnBroker
    let database: TestDatabase
    let port: Int
    let connector: ConnectorProcess

    init(extra: [String]) throws {
        broker = try OwnBroker()
        do {
            database = try TestDatabase()
        } catch {
            broker.stop()
            throw error
        }
        do {
            port = try freeLoopbackPort()
            connector = try ConnectorProcess(database: database, brokers: broker.brokers, extra: ["--metrics-address", "127.0.0.1:\(port)"] + extra)
        } catch {
            database.drop()
            broker.stop()
            throw error
        }
        do {
            try database.waitUntilActive(slot: "slot_\(database.suffix)")
        } catch {
            stop()
            throw error
        }
    }

    /// Resumes the broker, stops outbox-cdc, drops the database and stops the broker.
    func stop() {
        broker.resume()
        connector.terminate()
        _ = connector.waitForExit(timeout: .seconds(30))
        database.drop()
        broker.stop()
    }
}

/// A Prometheus text exposition, as `name{labels}` → value.
struct Scrape {
    private var samples: [String: Double] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
    }

    subscript(name: String) -> Double? { samples[name] }
}

/// One HTTP GET on 127.0.0.1 over a plain socket (the endpoint closes the connection after answering).
func httpGet(port: Int, _ path: String) throws -> (status: Int, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSetupError("socket: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw TestSetupError("connect to 127.0.0.1:\(port): errno \(errno)") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { break }
        response += buffer[..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}
