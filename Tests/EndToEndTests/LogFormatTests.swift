import Foundation
import Testing

/// What a log pipeline relies on: one line per event, a timestamp with milliseconds in both formats, and in
/// JSON every line an object (usage errors included), numbers as numbers, libpq's line breaks escaped.
@Suite("Log format")
struct LogFormatTests {
    /// Runs outbox-cdc against a PostgreSQL and a Kafka that refuse connections, for `seconds`: libpq's
    /// refusal message has a line break and a tab in it, and each reconnect is logged with its delay.
    private func runAgainstClosedPorts(_ extra: [String], seconds: Int = 3) throws -> String {
        let closedPort = try freeLoopbackPort()
        let process = try ConnectorProcess(["--db", "postgres://u@127.0.0.1:\(closedPort)/db", "--brokers", "127.0.0.1:\(closedPort)"] + extra)
        sleep(UInt32(seconds))
        process.terminate()
        _ = process.waitForExit(timeout: .seconds(30))
        return process.log
    }

    @Test func textLinesCarryMillisecondsAndNoRawLineBreaks() throws {
        let log = try runAgainstClosedPorts([])
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count >= 2, "\(log)")
        for line in lines {
            #expect(line.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trace|debug|info|notice|warning|error|critical) .*/) != nil, "not a log line: \(line)")
        }
        let reconnect = try #require(lines.first { $0.contains("replication interrupted; reconnecting") }, "\(log)")
        #expect(reconnect.contains(#"Connection refused\n"#), "libpq's line break is escaped: \(reconnect)")
    }

    @Test func jsonLinesAreObjectsWithNumbersAsNumbersAndLineBreaksEscaped() throws {
        let log = try runAgainstClosedPorts(["--log-format", "json"])
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count >= 2, "\(log)")
        var objects: [[String: Any]] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            #expect((object["ts"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(line)")
            objects.append(object)
        }
        let reconnect = try #require(objects.first { $0["msg"] as? String == "replication interrupted; reconnecting" }, "\(log)")
        #expect(reconnect["retry.in_ms"] is Int, "a number, not a string: \(reconnect)")
        #expect((reconnect["error"] as? String)?.contains("Connection refused\n") == true, "the line break survives, escaped: \(reconnect)")
        let stopping = try #require(objects.first { $0["msg"] as? String == "signal received: stopping" }, "\(log)")
        #expect(stopping["signal"] as? Int == Int(SIGTERM), "\(stopping)")
        let broker = try #require(objects.first { $0["kafka.broker"] != nil }, "\(log)")
        #expect(broker["kafka.broker"] is String, "a name stays a string: \(broker)")
    }

    @Test("With --log-format json a usage error is one JSON line too, wherever the format was asked for")
    func usageErrorsInJSON() throws {
        let configURL = FileManager.default.temporaryDirectory.appendingPathComponent("log-format-\(UUID().uuidString).yaml")
        try "log-format: json\n".write(to: configURL, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: configURL) }
        let cases: [(arguments: [String], environment: [String: String], message: String)] = [
            (["--db", "postgres://u@127.0.0.1:9/db", "--log-format", "json"], [:], "--brokers is required"),
            (["--log-format=json", "--no-such-flag"], [:], "Unknown option '--no-such-flag'"),
            (["--db", "postgres://u@127.0.0.1:9/db", "--brokers", "b:9", "--on-error", "retry"], ["OUTBOX_CDC_LOG_FORMAT": "json"], "--on-error must be fail, dlq or skip"),
            (["--config", configURL.path, "--brokers", "b:9"], [:], "--db is required"),
        ]
        for (arguments, environment, message) in cases {
            let process = try ConnectorProcess(arguments, environment: environment)
            #expect(process.waitForExit(timeout: .seconds(30)) == 64, "\(arguments)")
            let lines = process.log.split(separator: "\n")
            #expect(lines.count == 1, "one line: \(process.log)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any], "not JSON: \(process.log)")
            #expect(object["level"] as? String == "critical")
            #expect((object["msg"] as? String)?.contains(message) == true, "\(object)")
            #expect(object["process.exit_code"] as? Int == 64, "\(object)")
        }
        let text = try ConnectorProcess(["--db", "postgres://u@127.0.0.1:9/db"])
        #expect(text.waitForExit(timeout: .seconds(30)) == 64)
        #expect(text.log.hasPrefix("Error: --brokers is required"), "the text format keeps ArgumentParser's usage message: \(text.log)")
    }
}
