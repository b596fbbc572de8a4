import Foundation
import KafkaClient
import PostgresLSN
import Testing
import WALReader

/// Breaks things on purpose while events flow (issue 5), and checks after each scenario that every committed
/// event is in Kafka at least once, each key's events in commit order, duplicates counted, and that the slot's
/// `confirmed_flush_lsn` never passed an event Kafka had not acknowledged.
///
/// Every scenario has a broker of its own (a Tansu it may pause), and those that restart PostgreSQL a cluster
/// of their own: the shared stack serves other test runs. Short forms run in every `scripts/test`;
/// `OUTBOX_CDC_FAULTS_LONG=1` runs the long ones. `OUTBOX_CDC_FAULT_REPORT=<file>` collects one JSON line a
/// scenario (`scripts/faults` turns them into docs/reliability.md's table).
///
/// Synchronous and serialized, like the other end-to-end suites: the work happens on threads of the
/// harness's own (load, collector, slot monitor) and in child processes.
@Suite("FaultSuite: at-least-once under faults", .serialized)
struct FaultSuite {
    private let long = FaultSettings.long

    // MARK: - 1. kill -9

    @Test("kill -9 of the connector at random moments under load: nothing lost, per-key order kept")
    func killNineAtRandomMoments() throws {
        try Self.onSharedDatabase { _, bench in
            let total = long ? 100_000 : 10_000
            let kills = long ? 10 : 3
            var connector = try bench.startConnector()
            let load = bench.load(transactionsPerSecond: 100, rows: 20, maxEvents: total)
            defer { load.stop() }
            let moments = (0 ..< kills).map { _ in Int.random(in: total / 20 ..< total * 19 / 20) }.sorted()
            var recoveries: [Double] = []
            var peak = 0.0
            var logs: [String] = []
            for moment in moments {
                try waitFor("\(moment) events written", timeout: .seconds(600)) { load.count >= moment }
                peak = max(peak, connector.peakResidentMiB ?? 0)
                let before = load.events.map(\.id)
                connector.killHard()
                logs.append(connector.log)
                connector = try bench.connector()
                let restarted = ContinuousClock.now
                guard bench.collector.waitForAll(before, timeout: .seconds(120)) != nil else {
                    Issue.record("after a kill -9 and a restart, the events committed before it did not all arrive\n\(connector.log)")
                    break
                }
                recoveries.append(seconds(ContinuousClock.now - restarted))
            }
            load.waitUntilFinished()
            let (audit, last) = try Self.conclude(bench, load, connector, earlierLogs: logs)
            #expect(recoveries.count == kills)
            FaultRow(
                scenario: "kill -9 of the connector ×\(kills) at random moments", audit: audit, recoverySeconds: recoveries.max(),
                peakRSSMiB: max(peak, last ?? 0),
                notes: "load 2,000 events/s (20-event transactions); recovery = restart until every event committed before the kill is in Kafka (mean \(format(recoveries.reduce(0, +) / Double(max(1, recoveries.count)))) s, max shown)"
            ).record()
        }
    }

    // MARK: - 2. The broker away

    @Test("Broker paused with SIGSTOP, then resumed: the slot stands still while events are unacknowledged; recovery without restart")
    func brokerPaused() throws {
        try Self.onSharedDatabase { _, bench in
            try outage(bench, name: "broker paused (SIGSTOP)", down: bench.broker.pause, up: bench.broker.resume)
        }
    }

    @Test("Broker unreachable through a cut TCP proxy, then restored: the slot stands still; recovery without restart")
    func brokerUnreachableThroughProxy() throws {
        // Clients reach the broker only through the proxy: it is the advertised address too.
        let brokerPort = try freeLoopbackPort()
        let proxy = try TCPProxy(target: brokerPort)
        defer { proxy.stop() }
        try Self.onSharedDatabase(broker: { try OwnBroker(port: brokerPort, advertisedPort: proxy.port) }) { _, bench in
            try outage(bench, name: "broker unreachable (TCP proxy cut)", down: proxy.cut, up: proxy.restore)
        }
    }

    /// Load, then an outage of the broker for 5 s (30 s long), then recovery: the confirmed position must not
    /// reach an event Kafka did not have when the outage began, and must not move at all once the
    /// acknowledgements in flight have come in.
    private func outage(_ bench: FaultBench, name: String, down: () -> Void, up: () -> Void) throws {
        let length: Duration = long ? .seconds(30) : .seconds(5)
        let connector = try bench.startConnector()
        let pid = connector.process.processIdentifier
        let load = bench.load(transactionsPerSecond: 100)
        defer { load.stop() }
        Thread.sleep(forTimeInterval: 2)
        let startMs = wallMilliseconds()
        down()
        Thread.sleep(forTimeInterval: seconds(length))
        let endMs = wallMilliseconds()
        let pending = load.events.map(\.id)
        up()
        let recovery = bench.collector.waitForAll(pending, timeout: .seconds(180))
        #expect(recovery != nil, "the events committed before and during the outage did not all arrive\n\(connector.log)")
        Thread.sleep(forTimeInterval: 2)
        #expect(connector.isRunning && connector.process.processIdentifier == pid, "recovered without a restart")
        let (audit, peak) = try Self.conclude(bench, load, connector)

        // The first event Kafka cannot have had when the outage began: produced after it, or never.
        let first = bench.collector.firstProduced
        let firstUnacknowledged = audit.committed.filter { (first[$0.id] ?? .max) >= startMs }.compactMap { audit.ends[$0.id] }.min()
        let during = bench.monitor.samples.filter { $0.wallMilliseconds >= startMs && $0.wallMilliseconds <= endMs }.compactMap(\.confirmed)
        let settled = bench.monitor.samples.filter { $0.wallMilliseconds >= startMs + 1000 && $0.wallMilliseconds <= endMs }.compactMap(\.confirmed)
        let moved = (settled.max()?.rawValue ?? 0) - (settled.min()?.rawValue ?? 0)
        let committedDuring = audit.committed.filter { (first[$0.id] ?? .max) >= startMs }.count
        #expect(!during.isEmpty && !settled.isEmpty, "the slot was sampled during the outage")
        if let firstUnacknowledged, let highest = during.max() {
            #expect(highest < firstUnacknowledged, "during the outage the slot was confirmed at \(highest), past \(firstUnacknowledged)")
        }
        #expect(moved == 0, "the slot moved \(moved) bytes while the broker was away")
        FaultRow(
            scenario: "\(name) for \(Int(seconds(length))) s", audit: audit, recoverySeconds: recovery.map(seconds), peakRSSMiB: peak,
            notes: "load 1,000 events/s; \(committedDuring) events reached Kafka only after the outage began; confirmed_flush_lsn moved \(moved) B during the outage (after a 1 s grace) and stayed before the first unacknowledged event (\(during.max().map(String.init(describing:)) ?? "-") < \(firstUnacknowledged.map(String.init(describing:)) ?? "-")); same process throughout; recovery = resume until every event committed so far is in Kafka"
        ).record()
    }

    // MARK: - 3. PostgreSQL restarted, walsender terminated

    @Test("PostgreSQL restarted fast and immediate, and the walsender terminated: reconnect with backoff, resume from the confirmed position")
    func postgresRestarts() throws {
        try Self.onOwnCluster { cluster, bench in
            let connector = try bench.startConnector()
            let load = bench.load(transactionsPerSecond: 50)
            defer { load.stop() }
            let faults: [(name: String, inject: () throws -> Void)] = [
                ("restart -m fast", { try cluster.restart(mode: "fast") }),
                ("restart -m immediate", { try cluster.restart(mode: "immediate") }),
                ("pg_terminate_backend(walsender)", {
                    _ = try bench.sql("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '\(bench.slot)'")
                }),
            ]
            var results: [String] = []
            var worst = 0.0
            for fault in faults + (long ? faults : []) {
                Thread.sleep(forTimeInterval: long ? 8 : 2)
                let streams = connector.logCount("] streaming")
                let before = load.events.map(\.id)
                let started = ContinuousClock.now
                try fault.inject()
                try waitFor("the connector to stream again after \(fault.name)", timeout: .seconds(90)) { connector.logCount("] streaming") > streams }
                let reconnected = seconds(ContinuousClock.now - started)
                guard bench.collector.waitForAll(before, timeout: .seconds(90)) != nil else {
                    Issue.record("after \(fault.name) the events committed before it did not all arrive\n\(connector.log)")
                    break
                }
                let recovered = seconds(ContinuousClock.now - started)
                worst = max(worst, recovered)
                results.append("\(fault.name): streaming again after \(format(reconnected)) s, caught up after \(format(recovered)) s")
            }
            Thread.sleep(forTimeInterval: 2)
            #expect(connector.isRunning, "the connector survived every fault")
            #expect(connector.log.contains("replication interrupted; reconnecting"))
            let (audit, peak) = try Self.conclude(bench, load, connector)
            FaultRow(
                scenario: "PostgreSQL restarted (fast, immediate) and walsender terminated", audit: audit, recoverySeconds: worst, peakRSSMiB: peak,
                notes: "load 500 events/s on a cluster of the test's own, \(load.failures) writer transactions failed with the server; \(results.joined(separator: "; "))"
            ).record()
        }
    }

    // MARK: - 4. Hot standby

    @Test("Hot standby: kill -9 of the active instance, the standby takes over; takeover time measured")
    func hotStandbyTakeover() throws {
        try Self.onSharedDatabase { _, bench in
            var active = try bench.startConnector()
            var standby = try bench.connector()
            try waitFor("the standby to stand by", timeout: .seconds(30)) { standby.log.contains("standing by") }
            let load = bench.load(transactionsPerSecond: 100)
            defer { load.stop() }
            var streaming: [Double] = []
            var flowing: [Double] = []
            var logs: [String] = []
            let takeovers = long ? 5 : 1
            for round in 0 ..< takeovers {
                // A random moment: the standby polls every second, and a fixed delay would meet its polls in phase.
                Thread.sleep(forTimeInterval: 2 + Double.random(in: 0 ..< 1))
                let killed = ContinuousClock.now
                active.killHard()
                // Records handed to Kafka after this moment come from the new instance: the old one is gone.
                let killedMs = wallMilliseconds()
                logs.append(active.log)
                try waitFor("the standby to stream", timeout: .seconds(30)) { standby.log.contains("] streaming") }
                streaming.append(seconds(ContinuousClock.now - killed))
                // Events flow again: a record the new instance handed to Kafka after the kill.
                try waitFor("events to flow again", timeout: .seconds(30)) { bench.collector.latestProduced > killedMs }
                flowing.append(seconds(ContinuousClock.now - killed))
                active = standby
                if round + 1 < takeovers {
                    standby = try bench.connector()
                    let next = standby
                    try waitFor("a new standby to stand by", timeout: .seconds(30)) { next.log.contains("standing by") }
                }
            }
            Thread.sleep(forTimeInterval: 1)
            let (audit, peak) = try Self.conclude(bench, load, active, earlierLogs: logs)
            if standby !== active {
                standby.terminate()
                _ = standby.waitForExit(timeout: .seconds(30))
            }
            #expect((flowing.max() ?? 99) < 10, "took over within 10 s: \(flowing)")
            FaultRow(
                scenario: "hot standby: kill -9 of the active instance ×\(takeovers)", audit: audit, recoverySeconds: flowing.max(), peakRSSMiB: peak,
                notes: "load 1,000 events/s; takeover (kill → standby streams) \(streaming.map { format($0) }.joined(separator: ", ")) s; kill → first event from the new instance in Kafka \(flowing.map { format($0) }.joined(separator: ", ")) s (shown); the standby checks the slot every second"
            ).record()
        }
    }

    // MARK: - 5. Poison events

    @Test("Poison events under load (null routing field, value above message.max.bytes, invalid topic): fail, dlq, skip, then fail on a broker refusal; nothing dropped silently")
    func poisonEventsUnderLoad() throws {
        try Self.onSharedDatabase(prepare: { try $0.sql("ALTER TABLE outbox ALTER COLUMN aggregatetype DROP NOT NULL") }) { database, bench in
            let deadLetterTopic = "dlq_\(database.suffix)"
            let deadLetters = try EventCollector(brokers: bench.broker.brokers, topics: [deadLetterTopic], idHeader: "outbox-cdc.error.event_id")
            defer { deadLetters.stop() }
            func poison(_ kind: String) throws -> String {
                let id = UUID().uuidString.lowercased()
                let (type, payload) = switch kind {
                case "null routing": ("NULL", "'{}'")
                case "oversized": ("'\(bench.types[0])'", "jsonb_build_object('blob', repeat('x', 1500000))")
                default: ("'bad topic!'", "'{}'")
                }
                try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(id)', \(type), 'poison', 'poison', \(payload))")
                return id
            }

            // fail (the default): stops at the poison event, naming it and its position; the slot stays before it.
            let failing = try bench.startConnector()
            let load = bench.load(transactionsPerSecond: 50)
            defer { load.stop() }
            Thread.sleep(forTimeInterval: 1)
            let before = load.events.map(\.id)
            let stopper = try poison("null routing")
            #expect(failing.waitForExit(timeout: .seconds(60)) == 1, "\(failing.log)")
            let stopLine = failing.log.split(separator: "\n").first { $0.contains("critical") } ?? ""
            #expect(stopLine.contains(stopper) && stopLine.contains("cannot be routed") && stopLine.contains(#/ at [0-9A-F]+\/[0-9A-F]+:/#), "the error names the event and its LSN: \(stopLine)")
            let stopperEnd = try #require(try bench.commitEnd(ofEvent: stopper))
            let confirmedAtStop = try #require(try database.slot(bench.slot)?.confirmed)
            #expect(confirmedAtStop < stopperEnd, "the slot was confirmed at \(confirmedAtStop), past the poison event ending at \(stopperEnd)")
            #expect(bench.collector.waitForAll(before, timeout: .seconds(30)) != nil, "what came before the poison event was published")

            // dlq: the same event again, and two more Kafka refuses, go to the dead-letter topic; the stream goes on.
            let dlq = try bench.startConnector(["--on-error", "dlq", "--dead-letter-topic", deadLetterTopic])
            Thread.sleep(forTimeInterval: 1)
            let dlqIDs = [stopper, try poison("oversized"), try poison("invalid topic")]
            #expect(deadLetters.waitForAll(dlqIDs, timeout: .seconds(60)) != nil, "every poison event is a dead letter\n\(dlq.log)")
            dlq.terminate()
            #expect(dlq.waitForExit(timeout: .seconds(60)) == 0, "\(dlq.log)")
            #expect(dlq.log.contains("cdc.events_dead_lettered=3"), "\(dlq.log)")
            let letterHeaders = deadLetters.records.map { $0.headers.map(\.name) }
            #expect(letterHeaders.allSatisfy { $0.contains("outbox-cdc.error") && $0.contains("outbox-cdc.error.event_id") }, "each dead letter says why: \(letterHeaders)")
            // A record the broker refuses in its delivery report (the invalid topic) says its transaction's end.
            #expect(letterHeaders.allSatisfy { $0.contains("outbox-cdc.error.lsn") }, "each dead letter says where: \(letterHeaders)")

            // skip: logged with the event id, counted, and the stream goes on.
            let skipping = try bench.startConnector(["--on-error", "skip"])
            let skipIDs = [try poison("null routing"), try poison("oversized"), try poison("invalid topic")]
            try waitFor("the skipped events to be logged", timeout: .seconds(60)) { skipIDs.allSatisfy { skipping.log.contains($0) } }
            Thread.sleep(forTimeInterval: 1)
            let (audit, peak) = try Self.conclude(bench, load, skipping, earlierLogs: [failing.log, dlq.log])
            #expect(skipping.log.contains("cdc.events_skipped=3"), "\(skipping.log)")
            let skipLines = skipping.log.split(separator: "\n").filter { $0.contains("skipped an event") }
            #expect(skipLines.count == 3 && skipIDs.allSatisfy { id in skipLines.contains { $0.contains(id) } }, "\(skipLines)")
            let poisonInTopics = bench.collector.records.filter { ($0.idHeader).map { (dlqIDs + skipIDs).contains($0) } ?? false }
            #expect(poisonInTopics.isEmpty, "no poison event reached an event topic")
            // The slot passed the dead-lettered and skipped events only once they were dealt with.
            let finalConfirmed = try #require(try database.slot(bench.slot)?.confirmed)
            #expect(finalConfirmed >= stopperEnd)

            // fail again, for a record the broker refuses (in its delivery report): stops naming the event and the
            // position the slot stays at, which is before it.
            let refusing = try bench.startConnector()
            let refused = try poison("invalid topic")
            #expect(refusing.waitForExit(timeout: .seconds(60)) == 1, "\(refusing.log)")
            let refusedLine = refusing.log.split(separator: "\n").first { $0.contains("critical") } ?? ""
            #expect(refusedLine.contains(refused) && refusedLine.contains(#/the slot stays confirmed at [0-9A-F]+\/[0-9A-F]+/#), "\(refusedLine)")
            let refusedEnd = try #require(try bench.commitEnd(ofEvent: refused))
            let confirmedAtRefusal = try #require(try database.slot(bench.slot)?.confirmed)
            #expect(confirmedAtRefusal < refusedEnd, "the slot was confirmed at \(confirmedAtRefusal), past the refused event ending at \(refusedEnd)")
            FaultRow(
                scenario: "poison events under load: fail, dlq, skip, fail again", audit: audit, recoverySeconds: nil, peakRSSMiB: peak,
                notes: "load 500 events/s; poison = null aggregatetype, a 1.5 MB value (above message.max.bytes; Tansu itself has no limit), topic 'outbox.event.bad topic!' (Tansu: INVALID_TOPIC); fail: exit 1 naming the event id and LSN, slot left before it (\(confirmedAtStop) < \(stopperEnd)), everything before it published; dlq: the 3 in \(deadLetterTopic) with error headers, cdc.events_dead_lettered=3; skip: 3 logged with ids, cdc.events_skipped=3; no poison event in an event topic; fail on a record the broker refuses (invalid topic): exit 1 naming the event and the position the slot stays at, before it (\(confirmedAtRefusal) < \(refusedEnd))"
            ).record()
        }
    }

    @Test("Malformed gox headers under load go to the dead-letter topic; nothing dropped")
    func malformedGoxHeadersUnderLoad() throws {
        try Self.onSharedDatabase(typeCount: 2, topicPrefix: "", prepare: { try $0.sql(HandoverTests.goxTable) }) { database, bench in
            let deadLetterTopic = "dlq_\(database.suffix)"
            let deadLetters = try EventCollector(brokers: bench.broker.brokers, topics: [deadLetterTopic], idHeader: "outbox-cdc.error.event_id")
            defer { deadLetters.stop() }
            let connector = try bench.startConnector([
                "--table-format", "gox", "--table", "public.gox_outbox", "--no-publish-pending", "--on-error", "dlq", "--dead-letter-topic", deadLetterTopic,
            ])
            let load = LoadGenerator(transactionsPerSecond: 50, writer: Self.goxWriter(url: bench.url, topics: bench.types))
            defer { load.stop() }
            var poisonIDs: [String] = []
            for malformed in [#"{"not": "pairs"}"#, #"[1, 2]"#, #"[{"key": 7, "value": "x"}]"#] {
                Thread.sleep(forTimeInterval: 0.5)
                let id = UUID().uuidString.lowercased()
                try database.sql("INSERT INTO gox_outbox (id, topic, partition, key, message, headers) VALUES ('\(id)', '\(bench.types[0])', 0, 'poison', '\\x00', '\(malformed)')")
                poisonIDs.append(id)
            }
            #expect(deadLetters.waitForAll(poisonIDs, timeout: .seconds(60)) != nil, "every malformed row is a dead letter\n\(connector.log)")
            Thread.sleep(forTimeInterval: 1)
            let (audit, peak) = try Self.conclude(
                bench, load, connector,
                committedSQL: "SELECT id::text, xmin::text, topic, key, substr(convert_from(message, 'UTF8'), 5)::int FROM gox_outbox WHERE key <> 'poison'"
            )
            #expect(connector.log.contains("cdc.events_dead_lettered=\(poisonIDs.count)"), "\(connector.log)")
            FaultRow(
                scenario: "poison events under load: malformed gox headers, dlq", audit: audit, recoverySeconds: nil, peakRSSMiB: peak,
                notes: "--table-format gox, load 500 events/s; 3 rows whose headers are not key/value pairs, all 3 in the dead-letter topic with their event id, counted at stop; (gox records carry the row's creation time, so the producer-time check is weaker here)"
            ).record()
        }
    }

    // MARK: - 6. Memory

    @Test("One huge transaction and a WAL backlog: peak RSS stays bounded; a full producer queue pauses reading")
    func boundedMemory() throws {
        try Self.onSharedDatabase { database, bench in
            let rows = long ? 500_000 : 50_000
            // The short form must still exceed what the producer queue holds (20,000 events, about 20 MiB of
            // WAL here) by a clear margin, or the pause may find the queue not yet full.
            let backlogBytes: UInt64 = long ? 50 << 20 : 40 << 20
            var connector = try bench.startConnector()
            let load = bench.load(transactionsPerSecond: 20)
            defer { load.stop() }
            func bulk(_ count: Int, tag: String) throws -> [String] { try Self.bulkInsert(bench, count: count, tag: tag) }

            // One transaction of `rows` rows.
            let started = ContinuousClock.now
            let big = try bulk(rows, tag: "big")
            let bigDrain = bench.collector.waitForAll(big, timeout: .seconds(long ? 900 : 240))
            #expect(bigDrain != nil, "the big transaction did not all arrive\n\(connector.log)")
            let bigSeconds = seconds(ContinuousClock.now - started)
            let bigPeak = connector.peakResidentMiB ?? 0
            connector.terminate()
            #expect(connector.waitForExit(timeout: .seconds(60)) == 0, "\(connector.log)")

            // A backlog while it is stopped: transactions of 10,000 rows until the WAL has grown by `backlogBytes`.
            let walStart = try #require(try Self.walEnd(database.url))
            var backlog: [String] = []
            var batch = 0
            while try #require(try Self.walEnd(database.url)).rawValue - walStart.rawValue < backlogBytes {
                backlog += try bulk(10_000, tag: "backlog\(batch)")
                batch += 1
            }
            let backlogEnd = try #require(try Self.walEnd(database.url))
            let backlogMiB = Double(backlogEnd.rawValue - walStart.rawValue) / 1_048_576
            // The broker stops answering before outbox-cdc starts on the backlog: the producer queue fills and
            // reading must pause, with most of the backlog still unread.
            bench.broker.pause()
            connector = try bench.connector()
            try waitFor("reading the backlog to be under way", timeout: .seconds(60)) {
                (try Self.sentLSN(database.url, slot: bench.slot)).map { $0.rawValue > walStart.rawValue + (1 << 20) } ?? false
            }
            Thread.sleep(forTimeInterval: 1)
            let sentAfterGrace = try Self.sentLSN(database.url, slot: bench.slot)
            let rssAfterGrace = connector.peakResidentMiB ?? 0
            Thread.sleep(forTimeInterval: 2)
            let sentAtEnd = try Self.sentLSN(database.url, slot: bench.slot)
            // What the walsender still had to send of the backlog: its end is far ahead of where reading stopped.
            let unsent = backlogEnd.rawValue &- min(backlogEnd.rawValue, sentAtEnd?.rawValue ?? 0)
            let rssAtEnd = connector.peakResidentMiB ?? 0
            let restarted = ContinuousClock.now
            bench.broker.resume()
            let readWhilePaused = (sentAtEnd?.rawValue ?? 0) &- (sentAfterGrace?.rawValue ?? 0)
            let backlogDrain = bench.collector.waitForAll(backlog, timeout: .seconds(long ? 900 : 240))
            #expect(backlogDrain != nil, "the backlog did not all arrive\n\(connector.log)")
            let backlogSeconds = seconds(ContinuousClock.now - restarted)
            let backlogPeak = connector.peakResidentMiB ?? 0
            let (audit, _) = try Self.conclude(bench, load, connector)
            #expect(sentAfterGrace != nil && readWhilePaused < 1 << 20, "the walsender sent \(readWhilePaused) bytes while the producer queue was full")
            #expect(unsent > 4 << 20, "only \(unsent) bytes of WAL were left unsent: the pause did not catch the queue full")
            #expect(rssAtEnd - rssAfterGrace < 16, "memory grew from \(rssAfterGrace) to \(rssAtEnd) MiB while the broker was paused")
            #expect(max(bigPeak, backlogPeak) < 512, "peak RSS \(bigPeak) / \(backlogPeak) MiB")
            FaultRow(
                scenario: "one transaction of \(rows) rows, then a \(format(backlogMiB, 0)) MiB WAL backlog", audit: audit, recoverySeconds: nil,
                peakRSSMiB: max(bigPeak, backlogPeak),
                notes: "the transaction (\(rows) events, 250 B payloads) in Kafka \(format(bigSeconds)) s after its INSERT, peak RSS \(format(bigPeak, 1)) MiB; backlog of \(backlog.count) events (\(format(backlogMiB, 1)) MiB of WAL) drained in \(format(backlogSeconds)) s (\(format(Double(backlog.count) / backlogSeconds, 0)) events/s) once the broker was resumed, peak RSS \(format(backlogPeak, 1)) MiB; the broker was paused while outbox-cdc started on the backlog: in the pause's last 2 s the walsender sent \(readWhilePaused) B, with \(format(Double(unsent) / 1_048_576, 1)) MiB of the backlog's WAL still to send (reading paused on the full producer queue) and peak RSS went \(format(rssAfterGrace, 1)) → \(format(rssAtEnd, 1)) MiB; plus 200 events/s of steady load"
            ).record()
        }
    }

    // MARK: - 7. SIGTERM

    @Test("SIGTERM under load: drains in bounded time, the final confirmed position is exact, a restart republishes nothing")
    func sigtermUnderLoad() throws {
        try Self.onSharedDatabase { database, bench in
            var connector = try bench.startConnector()
            let load = bench.load(transactionsPerSecond: 100, rows: 20)
            defer { load.stop() }
            var drains: [Double] = []
            var exactness: [String] = []
            var logs: [String] = []
            /// Events Kafka held of the transaction that was being read when the signal came: the only ones a
            /// restart may send again (the slot confirms whole transactions).
            var cutShort = Set<String>()

            /// SIGTERM, then the checks: exit 0 within the shutdown timeout, and the slot confirmed exactly to
            /// the end of what Kafka holds in full; then a restart.
            func stopAndRestart(_ what: String) throws {
                let stopped = ContinuousClock.now
                connector.terminate()
                let status = connector.waitForExit(timeout: .seconds(60))
                drains.append(seconds(ContinuousClock.now - stopped))
                logs.append(connector.log)
                #expect(status == 0, "\(connector.log)")
                // The walsender takes the last status update in after the client has gone: the slot's position
                // is final once the walsender has exited (read too early, PostgreSQL 18 under load showed the one
                // before it, though a restart then republished nothing).
                try waitFor("the walsender to release the slot", timeout: .seconds(10)) { try database.slot(bench.slot)?.active == false }
                let final = try #require(try database.slot(bench.slot)?.confirmed)
                // What Kafka holds now is what it will ever hold from that process.
                bench.collector.settle(quiet: .seconds(1))
                let snapshot = try bench.audit(settle: false)
                let (complete, incomplete) = Self.acknowledgedPrefix(snapshot, bench.collector)
                #expect(complete.map { final >= $0 } ?? true, "confirmed \(final) is before the end \(complete.map(String.init(describing:)) ?? "-") of a transaction Kafka holds in full")
                #expect(incomplete.map { final < $0 } ?? true, "confirmed \(final) reaches a transaction (end \(incomplete.map(String.init(describing:)) ?? "-")) Kafka does not hold in full")
                let held = bench.collector.firstProduced
                let partial = snapshot.committed.filter { snapshot.ends[$0.id] == incomplete && held[$0.id] != nil }.map(\.id)
                cutShort.formUnion(partial)
                exactness.append("\(what): exit in \(format(drains.last ?? 0)) s, confirmed \(final) = end of the last transaction Kafka holds in full (\(complete.map(String.init(describing:)) ?? "-")), \(partial.count) events of the next one already in Kafka")
                connector = try bench.startConnector()
            }

            for cycle in 0 ..< (long ? 5 : 2) {
                Thread.sleep(forTimeInterval: 2)
                try stopAndRestart("steady load #\(cycle + 1)")
            }
            // The worst case: the signal comes while one large transaction is being read.
            let rows = long ? 100_000 : 20_000
            let started = bench.collector.distinctCount
            let big = try Self.bulkInsert(bench, count: rows, tag: "big")
            try waitFor("part of the large transaction to be in Kafka", timeout: .seconds(120)) { bench.collector.distinctCount >= started + rows / 4 }
            try stopAndRestart("mid-way through a \(rows)-row transaction")
            #expect(bench.collector.waitForAll(big, timeout: .seconds(240)) != nil, "the large transaction arrived in full after the restart")
            Thread.sleep(forTimeInterval: 2)
            let (audit, peak) = try Self.conclude(bench, load, connector, earlierLogs: logs)
            let counts = Dictionary(bench.collector.records.compactMap(\.idHeader).map { ($0, 1) }, uniquingKeysWith: +)
            let republished = Set(counts.filter { $0.value > 1 }.keys)
            #expect(republished.isSubset(of: cutShort), "a restart republished \(republished.subtracting(cutShort).count) events of transactions Kafka held in full")
            // SIGTERM reads the transaction in progress to its end first (within --shutdown-timeout-s), so
            // not even the one being read when the signal came is published twice.
            #expect(republished.isEmpty, "a restart republished \(republished.count) events")
            #expect((drains.max() ?? 99) < 30, "SIGTERM drained within --shutdown-timeout-s: \(drains)")
            FaultRow(
                scenario: "SIGTERM under load ×\(drains.count), then restart", audit: audit, recoverySeconds: drains.max(), peakRSSMiB: peak,
                notes: "load 2,000 events/s (20-event transactions) never paused; drain time shown; \(exactness.joined(separator: "; ")); republished after the restarts: \(republished.count) events"
            ).record()
        }
    }

    // MARK: - 8. Slot lag

    @Test("An idle outbox in a busy database, and a database where nothing else writes (heartbeats): slot lag stays bounded")
    func slotLagStaysBounded() throws {
        let urlOfOther = { (cluster: ThrowawayCluster) in TestDatabase.replacingDatabase(in: cluster.url, with: "other") }
        try Self.onOwnCluster(monitorInterval: .milliseconds(100), prepare: { cluster in
            try runSQL(cluster.url, "CREATE TABLE busy (id bigserial PRIMARY KEY, note text)")
            try runSQL(cluster.url, "CREATE DATABASE other")
            try runSQL(urlOfOther(cluster), "CREATE TABLE busy (id bigserial PRIMARY KEY, note text)")
        }) { cluster, bench in
            let otherURL = urlOfOther(cluster)
            let phase: Duration = long ? .seconds(30) : .seconds(5)

            /// Writes 200 transactions a second of 512-byte rows into `busy` of `url` for one phase; returns the
            /// largest lag (WAL end − confirmed) after the first second, and the lag at the end of the phase.
            func busyPhase(_ url: String) -> (max: UInt64, last: UInt64, wal: UInt64, retained: UInt64) {
                let startMs = wallMilliseconds()
                let writer = LoadGenerator(transactionsPerSecond: 200) { _ in
                    let connection = try PostgresConnection.connect(ConnectionSettings(url))
                    return { _ in
                        try connection.query("INSERT INTO busy (note) SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 16)")
                        return []
                    }
                }
                Thread.sleep(forTimeInterval: seconds(phase))
                writer.stop()
                let samples = bench.monitor.samples.filter { $0.wallMilliseconds >= startMs + 1000 }
                let lags = samples.compactMap { sample in sample.walEnd.flatMap { wal in sample.confirmed.map { wal.rawValue &- $0.rawValue } } }
                let wal = (samples.last?.walEnd?.rawValue ?? 0) &- (samples.first?.walEnd?.rawValue ?? 0)
                let retained = samples.last.flatMap { sample in sample.walEnd.flatMap { wal in sample.restart.map { wal.rawValue &- $0.rawValue } } }
                return (lags.max() ?? .max, lags.last ?? .max, wal, retained ?? .max)
            }

            var connector = try bench.startConnector()
            let busySame = busyPhase(cluster.url)
            let busyOther = busyPhase(otherURL)
            connector.terminate()
            #expect(connector.waitForExit(timeout: .seconds(60)) == 0, "\(connector.log)")
            connector = try bench.startConnector(["--heartbeat-interval-ms", "500"])
            let heartbeats = busyPhase(otherURL)
            // The outbox still works: a few events at the end.
            let load = bench.load(transactionsPerSecond: 50, maxEvents: 300)
            load.waitUntilFinished()
            let (audit, peak) = try Self.conclude(bench, load, connector)
            let bound: UInt64 = 4 << 20
            #expect(busySame.max < bound, "lag \(busySame.max) B with writes in the outbox's own database")
            #expect(heartbeats.max < bound, "lag \(heartbeats.max) B with heartbeats")
            let kib = { (bytes: UInt64) in format(Double(bytes) / 1024, 0) + " KiB" }
            FaultRow(
                scenario: "idle outbox in a busy database", audit: audit, recoverySeconds: nil, peakRSSMiB: peak,
                notes: "200 transactions/s into another table of the same database for \(Int(seconds(phase))) s (\(kib(busySame.wal)) of WAL): confirmed_flush_lsn lag (WAL end − confirmed) at most \(kib(busySame.max)), \(kib(busySame.last)) at the end, WAL retained from restart_lsn \(kib(busySame.retained)) at the end; no heartbeat needed"
            ).record()
            FaultRow(
                scenario: "database where nothing else writes, --heartbeat-interval-ms 500", audit: audit, recoverySeconds: nil, peakRSSMiB: peak,
                notes: "writes only in another database of the cluster (\(kib(heartbeats.wal)) of WAL in \(Int(seconds(phase))) s): lag at most \(kib(heartbeats.max)), \(kib(heartbeats.last)) at the end, WAL retained \(kib(heartbeats.retained)); without heartbeats the same load left a lag of at most \(kib(busyOther.max)), \(kib(busyOther.last)) at the end, WAL retained \(kib(busyOther.retained)) (outbox-cdc confirms the keepalive's WAL end while nothing is in flight)"
            ).record()
        }
    }

    // MARK: - Helpers

    /// The Event Router outbox on a server of the test's own (the shared stack's TestDatabase has one).
    static let outboxTable = "CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype text, aggregateid text NOT NULL, type text NOT NULL, payload jsonb)"

    /// Writers of gox's table: one row an event, the event id also as a header (gox records carry no `id`
    /// header of their own), the per-key sequence in the message bytes.
    static func goxWriter(url: String, topics: [String], rows: Int = 10, keys: Int = 40) -> LoadGenerator.WriterFactory {
        { generation in
            let connection = try PostgresConnection.connect(ConnectionSettings(url))
            var sequences: [String: Int] = [:]
            return { transaction in
                var events: [WrittenEvent] = []
                var values: [String] = []
                for index in 0 ..< rows {
                    let n = transaction * rows + index
                    let topic = topics[n % topics.count]
                    let key = "k\(n % keys)-g\(generation)"
                    let sequence = sequences[topic + "/" + key, default: 0]
                    sequences[topic + "/" + key] = sequence + 1
                    let id = UUID().uuidString.lowercased()
                    events.append(WrittenEvent(id: id, aggregateType: topic, aggregateID: key, sequence: sequence))
                    values.append("('\(id)', '\(topic)', \((n % keys) % 4), '\(key)', convert_to('seq:\(sequence)', 'UTF8'), '[{\"key\": \"id\", \"value\": \"\(id)\"}]')")
                }
                try connection.query("BEGIN")
                try connection.query("INSERT INTO gox_outbox (id, topic, partition, key, message, headers) VALUES " + values.joined(separator: ", "))
                try connection.query("COMMIT")
                return events
            }
        }
    }

    /// The common checks: nothing lost, each key in commit order, the slot never confirmed past an event
    /// Kafka had not acknowledged.
    static func expectSound(_ audit: FaultAudit, log: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!audit.committed.isEmpty, "the scenario committed events", sourceLocation: sourceLocation)
        #expect(audit.lost.isEmpty, "\(audit.lost.count) events lost, e.g. \(audit.lost.prefix(3))\n\(log())", sourceLocation: sourceLocation)
        #expect(audit.orderViolations.isEmpty, "\(audit.orderViolations.prefix(5))", sourceLocation: sourceLocation)
        #expect(audit.confirmedPastUnacknowledged.isEmpty, "\(audit.confirmedPastUnacknowledged.count) events confirmed before Kafka had them, e.g. \(audit.confirmedPastUnacknowledged.prefix(3))", sourceLocation: sourceLocation)
    }

    /// Runs `body` on a fresh database of the shared stack's PostgreSQL (an Event Router outbox, and what
    /// `prepare` adds) with a bench on it and a broker of the scenario's own; drops both at the end.
    static func onSharedDatabase(
        typeCount: Int = 4, topicPrefix: String = "outbox.event.", prepare: (TestDatabase) throws -> Void = { _ in },
        broker: () throws -> OwnBroker? = { nil }, _ body: (TestDatabase, FaultBench) throws -> Void
    ) throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try prepare(database)
        let bench = try FaultBench(database: database, broker: broker(), typeCount: typeCount, topicPrefix: topicPrefix)
        defer { bench.finish() }
        try body(database, bench)
    }

    /// Runs `body` on a PostgreSQL cluster of the scenario's own (wal_level=logical, an Event Router outbox in
    /// its `postgres` database, and what `prepare` adds), with a bench on it; stops both at the end.
    static func onOwnCluster(
        monitorInterval: Duration = .milliseconds(50), prepare: (ThrowawayCluster) throws -> Void = { _ in },
        _ body: (ThrowawayCluster, FaultBench) throws -> Void
    ) throws {
        let cluster = try ThrowawayCluster(walLevel: "logical")
        defer { cluster.stop() }
        try runSQL(cluster.url, outboxTable)
        try prepare(cluster)
        let bench = try FaultBench(url: cluster.url, suffix: String(UInt64.random(in: 0 ... .max), radix: 36), monitorInterval: monitorInterval)
        defer { bench.finish() }
        try body(cluster, bench)
    }

    /// Ends a scenario: stops the load, waits until Kafka holds every committed event, audits, stops the
    /// connector with SIGTERM (exit 0) and makes the common checks (`arrivalTimeout`: how long it waits for
    /// Kafka to hold every committed event). Returns the audit and the connector's
    /// peak RSS.
    static func conclude(
        _ bench: FaultBench, _ load: LoadGenerator, _ connector: ConnectorProcess, earlierLogs: [String] = [],
        committedSQL: String = FaultAudit.eventRouterCommitted, arrivalTimeout: Duration = .seconds(120),
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (audit: FaultAudit, peak: Double?) {
        load.stop()
        #expect(bench.waitForAll(of: load, timeout: arrivalTimeout) != nil, "not every event arrived\n\(connector.log)", sourceLocation: sourceLocation)
        let peak = connector.peakResidentMiB
        let audit = try bench.audit(committedSQL: committedSQL)
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(60)) == 0, "\(connector.log)", sourceLocation: sourceLocation)
        expectSound(audit, log: (earlierLogs + [connector.log]).joined(separator: "\n----\n"), sourceLocation: sourceLocation)
        return (audit, peak)
    }

    /// The end of the last transaction such that it and every one before it are in Kafka in full, and the end
    /// of the first that is not.
    static func acknowledgedPrefix(_ audit: FaultAudit, _ collector: EventCollector) -> (complete: LSN?, incomplete: LSN?) {
        let held = collector.firstProduced
        var complete: LSN?
        var byEnd: [LSN: Bool] = [:]
        for event in audit.committed {
            guard let end = audit.ends[event.id] else { continue }
            byEnd[end] = (byEnd[end] ?? true) && held[event.id] != nil
        }
        for (end, full) in byEnd.sorted(by: { $0.key < $1.key }) {
            guard full else { return (complete, end) }
            complete = end
        }
        return (complete, nil)
    }

    /// One transaction of `count` outbox rows (250-byte payloads) over the bench's types, 50 keys; returns
    /// their ids. The keys carry `tag`, so they do not mix with the load's.
    static func bulkInsert(_ bench: FaultBench, count: Int, tag: String) throws -> [String] {
        let types = bench.types.map { "'\($0)'" }.joined(separator: ", ")
        try bench.sql("""
            INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload)
            SELECT gen_random_uuid(), (ARRAY[\(types)])[1 + i % \(bench.types.count)], '\(tag)-' || (i % 50), '\(tag)', jsonb_build_object('seq', i, 'pad', repeat('x', 200))
            FROM generate_series(1, \(count)) AS i
            """)
        return try bench.sql("SELECT id::text FROM outbox WHERE type = '\(tag)'").rows.compactMap { $0[0] }
    }

    static func walEnd(_ url: String) throws -> LSN? {
        try runSQL(url, "SELECT pg_current_wal_lsn()::text").rows.first?.first.flatMap { $0 }.flatMap { LSN($0) }
    }

    /// How far the slot's walsender has sent.
    static func sentLSN(_ url: String, slot: String) throws -> LSN? {
        try runSQL(url, "SELECT sent_lsn::text FROM pg_stat_replication WHERE pid = (SELECT active_pid FROM pg_replication_slots WHERE slot_name = '\(slot)')")
            .rows.first?.first.flatMap { $0 }.flatMap { LSN($0) }
    }
}

@discardableResult
func runSQL(_ url: String, _ statement: String) throws -> QueryResult {
    let connection = try PostgresConnection.connect(ConnectionSettings(url))
    defer { connection.close() }
    return try connection.query(statement)
}
