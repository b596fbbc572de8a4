import Foundation
import Testing
import WALReader

/// Runs both benchmark commands with tiny numbers against the real stack, so that they cannot rot: each
/// must finish, lose nothing, remove what it created, and write JSON of the documented shape with figures
/// that are consistent with the run (not a timing threshold: BENCHMARKS.md holds the real runs).
@Suite(.serialized) struct BenchCommandTests {
    @Test func latencyRunsEveryModeAndCleansUp() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = directory.appendingPathComponent("latency.json")
        let svg = directory.appendingPathComponent("latency.svg")
        let before = try benchObjectCount()

        let process = try ConnectorProcess([
            "bench", "latency", "--db", TestStack.databaseURL(), "--brokers", TestStack.brokers(),
            "--rate", "40", "--duration", "2", "--warmup", "0", "--writers", "2", "--poll-interval-ms", "50",
            "--json", json.path, "--svg", svg.path, "--log-dir", directory.path,
        ])
        let status = process.waitForExit(timeout: .seconds(120))
        #expect(status == 0, "bench latency failed:\n\(process.log)")

        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let runs = try #require(report["latency"] as? [[String: Any]])
        #expect(runs.compactMap { $0["mode"] as? String } == ["cdc", "poll"])
        for run in runs {
            let events = try #require(run["events"] as? Int)
            // 40 events/s for 2 s: every one of them arrives (the schedule is exact; nothing is lost).
            #expect(events == 80, "\(run)")
            #expect(run["lost"] as? Int == 0)
            #expect(run["target_rate"] as? Int == 40)
            let p50 = try #require(run["p50_ms"] as? Double)
            let p99 = try #require(run["p99_ms"] as? Double)
            let maximum = try #require(run["max_ms"] as? Double)
            #expect(p50 > 0 && p50 <= p99 && p99 <= maximum, "\(run)")
            let rss = try #require(run["peak_rss_bytes"] as? Int)
            #expect(rss > 1_000_000, "a relay process's peak RSS, in bytes: \(run)")
            for key in ["achieved_rate", "p90_ms", "p999_ms"] {
                #expect(run[key] is Double, "\(key) missing: \(run)")
            }
        }
        let poll = try #require(runs.first { $0["mode"] as? String == "poll" })
        #expect((poll["db_queries_per_s"] as? Double ?? 0) > 0, "the poller queries the database: \(poll)")
        let cdc = try #require(runs.first { $0["mode"] as? String == "cdc" })
        #expect(cdc["db_queries_per_s"] as? Double == 0)
        #expect(cdc["commit_to_ack_p50_ms"] is Double, "outbox-cdc logs its commit-to-acknowledgement latency: \(cdc)")
        // Commit-to-acknowledgement by stage and owner, each stage's percentiles in order.
        let stages = try #require(cdc["stages"] as? [[String: Any]], "\(cdc)")
        #expect(stages.compactMap { $0["name"] as? String } == ["commit-to-send", "send-to-read", "read-to-produce", "produce-to-acknowledgement"])
        #expect(stages.compactMap { $0["owner"] as? String } == ["PostgreSQL", "outbox-cdc", "outbox-cdc", "librdkafka and the broker"])
        for stage in stages {
            let p50 = try #require(stage["p50_ms"] as? Double)
            let p99 = try #require(stage["p99_ms"] as? Double)
            let maximum = try #require(stage["max_ms"] as? Double)
            #expect(p50 >= 0 && p50 <= p99 && p99 <= maximum, "\(stage)")
        }
        #expect(cdc["relay_run_queue_wait_ms_per_s"] is Double, "the relay's threads' wait for a CPU: \(cdc)")
        #expect(process.log.contains("outbox-cdc by stage"), "the stages are printed:\n\(process.log)")
        let floor = try #require(report["broker_floor"] as? [String: Any])
        #expect(floor["events"] as? Int == 80)

        let picture = try String(contentsOf: svg, encoding: .utf8)
        #expect(picture.hasPrefix("<?xml") || picture.hasPrefix("<svg"))
        #expect(picture.contains("outbox-cdc") && picture.contains("polling relay"))
        #expect(process.log.contains("poll p50 / cdc p50"), "the terminal table is printed:\n\(process.log)")
        #expect(try benchObjectCount() == before, "the bench removes its tables, publication and slot")
    }

    @Test func drainReportsBesideTheRawLimits() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = directory.appendingPathComponent("drain.json")
        let before = try benchObjectCount()

        let process = try ConnectorProcess([
            "bench", "drain", "--db", TestStack.databaseURL(), "--brokers", TestStack.brokers(),
            "--events", "3000", "--rows-per-transaction", "7", "--json", json.path, "--log-dir", directory.path,
        ])
        let status = process.waitForExit(timeout: .seconds(120))
        #expect(status == 0, "bench drain failed:\n\(process.log)")

        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let drain = try #require(report["drain"] as? [String: Any])
        #expect(drain["events"] as? Int == 3000)
        let seconds = try #require(drain["seconds"] as? Double)
        let rate = try #require(drain["events_per_s"] as? Double)
        let rawRead = try #require(drain["raw_read_events_per_s"] as? Double)
        let rawProduce = try #require(drain["raw_produce_events_per_s"] as? Double)
        let ratio = try #require(drain["ratio_to_limit"] as? Double)
        #expect(seconds > 0 && rawRead > 0 && rawProduce > 0)
        // The figures agree with each other (to the rounding of the JSON).
        #expect(abs(rate - 3000 / seconds) <= max(2, rate * 0.01), "\(drain)")
        #expect(abs(ratio - rate / min(rawRead, rawProduce)) < 0.01, "\(drain)")
        #expect((drain["peak_rss_bytes"] as? Int ?? 0) > 1_000_000)
        // 3,000 rows of about 200 bytes, each at least its payload in the WAL.
        #expect((drain["wal_bytes"] as? Int ?? 0) > 3000 * 200)
        // The reading thread is named, so its CPU is told apart from librdkafka's threads.
        let threads = try #require(drain["relay_thread_cpu_s"] as? [String: Double], "\(drain)")
        #expect(threads["cdc-wal-reader"] != nil, "\(threads)")
        #expect(try benchObjectCount() == before, "the bench removes its tables, publication and slots")
    }

    /// Tables, publications and slots whose names the benchmark uses.
    private func benchObjectCount() throws -> Int {
        let connection = try PostgresConnection.connect(ConnectionSettings(TestStack.databaseURL()))
        defer { connection.close() }
        let result = try connection.query("""
            SELECT (SELECT count(*) FROM pg_tables WHERE tablename LIKE 'outbox_cdc_bench_%')
                 + (SELECT count(*) FROM pg_publication WHERE pubname LIKE 'outbox_cdc_bench_%')
                 + (SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'outbox_cdc_bench_%') AS objects
            """)
        guard let count = result[0, "objects"].flatMap({ Int($0) }) else { throw TestSetupError("no count of bench objects") }
        return count
    }
}
