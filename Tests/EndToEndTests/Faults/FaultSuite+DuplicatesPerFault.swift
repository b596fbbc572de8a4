import Foundation
import KafkaClient
import PostgresLSN
import Testing

extension FaultSuite {
    // MARK: - 9. Duplicates per fault (issue 19)

    /// One kind of fault of `duplicatesPerFault`.
    private enum DuplicatingFault: CaseIterable {
        /// kill -9 of outbox-cdc, then a new process at once.
        case killNine
        /// `pg_terminate_backend` of the slot's walsender; outbox-cdc stays up.
        case walsenderTerminated
        /// `pg_ctl restart -m immediate` (a crash, then recovery); outbox-cdc stays up.
        case crashRestart

        /// The kind's word in `OUTBOX_CDC_FAULT_KINDS` (e.g. `kill,walsender,restart`), which runs only the kinds it
        /// names: for a quicker look at one of them.
        var word: String {
            switch self {
            case .killNine: "kill"
            case .walsenderTerminated: "walsender"
            case .crashRestart: "restart"
            }
        }

        static var selected: [Self] {
            guard let words = ProcessInfo.processInfo.environment["OUTBOX_CDC_FAULT_KINDS"]?.split(separator: ",") else { return allCases }
            return allCases.filter { words.contains(Substring($0.word)) }
        }

        var name: String {
            switch self {
            case .killNine: "kill -9 of outbox-cdc, restarted at once"
            case .walsenderTerminated: "pg_terminate_backend(walsender), outbox-cdc stays up"
            case .crashRestart: "PostgreSQL restart -m immediate, outbox-cdc stays up"
            }
        }
    }

    /// How many records each fault sends twice, at outbox-cdc's default `--status-interval-ms` (1000 ms, not the
    /// suite's 200) and 1,000 events/s: 100 transactions a second of 10 rows over 4 topics and 50 keys.
    ///
    /// One kind of fault at a time, each kind on a PostgreSQL cluster and a broker of its own: Tansu 0.6.0 falls
    /// behind on fetches once it holds about 180,000 small records, while it goes on acknowledging (seen here with
    /// all three kinds on one broker, and without outbox-cdc too), and the audit would count what it does not serve
    /// as lost. Each fault comes after a few seconds of steady load (plus up to one more at random, so faults fall
    /// at any moment of the status interval), and is waited for until outbox-cdc streams again and Kafka holds
    /// every event committed until then. A fault's duplicates are those that arrive from it to the next fault (the
    /// collector's running count): what is sent again comes first after the reconnect, before the catch-up, and the
    /// steady load after it gives stragglers seconds more.
    ///
    /// Duplicates are measured, not asserted; lost events, per-key order and confirmations ahead of Kafka are
    /// checked as everywhere in the suite. One row a kind of fault.
    @Test("Duplicates per fault at 1,000 events/s, default status interval: kill -9 and restart, walsender terminated, PostgreSQL restart -m immediate; nothing lost")
    func duplicatesPerFault() throws {
        let long = FaultSettings.long
        let faultsPerKind = long ? 10 : 3
        // Steady load between faults: `steady` seconds plus up to one more at random.
        let steady: Double = long ? 5 : 2
        let transactionsPerSecond = 100.0
        let rows = 10
        let eventsPerSecond = Int(transactionsPerSecond) * rows
        let loadText = "1,000 events/s (100 transactions/s of 10 rows)"
        precondition(eventsPerSecond == 1000, "loadText says 1,000 events/s")
        var summary: [String] = []
        for kind in DuplicatingFault.selected {
            try Self.onOwnCluster { cluster, bench in
                // outbox-cdc's own default (1000 ms): no --status-interval-ms at all.
                bench.statusIntervalMilliseconds = nil
                // Metrics, read only if events go missing: what outbox-cdc says Kafka acknowledged. A port for
                // each process: a killed one's may linger.
                var metricsPort = try freeLoopbackPort()
                var connector = try bench.startConnector(["--metrics-address", "127.0.0.1:\(metricsPort)"])
                let load = bench.load(transactionsPerSecond: transactionsPerSecond, rows: rows)
                defer { load.stop() }
                func steadyLoad() { Thread.sleep(forTimeInterval: steady + Double.random(in: 0 ..< 1)) }

                var earlierLogs: [String] = []
                var duplicates: [Int] = []
                var catchUps: [Double] = []
                var inFlightAtKill: [Int] = []
                var acknowledgementDelayAtKill: [Double] = []
                var confirmedNotInSlotAtKill: [Int] = []
                // For each kill: how long before it the oldest event it repeated had been handed to Kafka (its first
                // record's producer timestamp), ms. Those are the events of the last this-many ms.
                var repeatedSpanMs: [Int64] = []
                // The age of the oldest event Kafka had not acknowledged, ms, as the gauge said it at outbox-cdc's last
                // status update (stale while the broker holds everything back: no update is due then).
                var oldestUnacknowledgedAtKill: [Double] = []
                // Upper bounds (the histogram's buckets) of the p99 and the maximum of outbox-cdc's acknowledgement-to-
                // confirmation time in the killed process's life, ms.
                var confirmationP99AtKill: [Double] = []
                var confirmationMaxAtKill: [Double] = []
                var killedAtMs: Int64 = 0
                // Events before this index of the load are known to be in Kafka.
                var checked = 0
                // Duplicates that arrived after a fault's catch-up, within the steady load that follows it.
                var lateDuplicates = 0
                steadyLoad()
                let beforeFirstFault = bench.collector.duplicateCount
                var snapshot = beforeFirstFault
                for round in 0 ..< faultsPerKind {
                    try waitFor("the slot to be active before \(kind.name)", timeout: .seconds(60)) {
                        (try? bench.sql("SELECT active_pid FROM pg_replication_slots WHERE slot_name = '\(bench.slot)' AND active_pid IS NOT NULL").rows.isEmpty == false) ?? false
                    }
                    let started = ContinuousClock.now
                    // The process that streams after the fault, and how many times it had said so before it.
                    var streams = connector.logCount("] streaming")
                    switch kind {
                    case .killNine:
                        // What no confirmation could have covered: the events Kafka had not acknowledged just before
                        // the kill, as outbox-cdc's gauges said them (set at its last status update, at most about
                        // 10 ms earlier while events wait).
                        let gauges = (try? httpGet(port: metricsPort, "/metrics"))?.body ?? ""
                        inFlightAtKill.append(Int(Self.gauge("outbox_cdc_events_in_flight", in: gauges) ?? -1))
                        acknowledgementDelayAtKill.append((Self.gauge("outbox_cdc_last_acknowledged_event_delay_seconds", in: gauges) ?? -1) * 1000)
                        oldestUnacknowledgedAtKill.append((Self.gauge("outbox_cdc_oldest_unacknowledged_event_age_seconds", in: gauges) ?? -1) * 1000)
                        // outbox-cdc's own share, over this process's life: acknowledgement to confirmation.
                        let toConfirmation = "outbox_cdc_ack_to_confirmation_seconds"
                        confirmationP99AtKill.append((Self.histogramBound(toConfirmation, quantile: 0.99, in: gauges) ?? -1) * 1000)
                        confirmationMaxAtKill.append((Self.histogramBound(toConfirmation, quantile: 1, in: gauges) ?? -1) * 1000)
                        // What outbox-cdc had confirmed (its gauge, at its last status update) against what the slot
                        // holds: the walsender applies an update only when it looks at its socket.
                        let sent = Self.gauge("outbox_cdc_confirmed_lsn", in: gauges).map { UInt64($0) } ?? 0
                        let slot = (try? bench.sql("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '\(bench.slot)'"))?
                            .rows.first?.first.flatMap { $0 }.flatMap { LSN($0) }?.rawValue ?? 0
                        confirmedNotInSlotAtKill.append(sent > slot ? Int(sent - slot) : 0)
                        killedAtMs = Int64(Date().timeIntervalSince1970 * 1000)
                        connector.killHard()
                        earlierLogs.append(connector.log)
                        metricsPort = try freeLoopbackPort()
                        connector = try bench.connector(["--metrics-address", "127.0.0.1:\(metricsPort)"])
                        streams = 0
                    case .walsenderTerminated:
                        let terminated = try bench.sql("SELECT pg_terminate_backend(active_pid)::text FROM pg_replication_slots WHERE slot_name = '\(bench.slot)' AND active_pid IS NOT NULL")
                        #expect(terminated.rows.first?.first == "true", "terminated the walsender: \(terminated.rows)")
                    case .crashRestart:
                        try cluster.restart(mode: "immediate")
                    }
                    let current = connector
                    try waitFor("outbox-cdc to stream again after \(kind.name) #\(round + 1)", timeout: .seconds(90)) {
                        current.logCount("] streaming") > streams
                    }
                    // Caught up: Kafka holds every event committed until outbox-cdc streamed again. What it sends
                    // again comes first in the stream, so it is in Kafka by then too.
                    let before = load.events
                    guard bench.collector.waitForAll(before[checked...].map(\.id), timeout: .seconds(120)) != nil else {
                        Issue.record("after \(kind.name) #\(round + 1) the events committed before it did not all arrive\n\(connector.log)")
                        break
                    }
                    checked = before.count
                    catchUps.append(seconds(ContinuousClock.now - started))
                    let atCatchUp = bench.collector.duplicateCount
                    steadyLoad()
                    let now = bench.collector.duplicateCount
                    if kind == .killNine {
                        // This fault's duplicates: the collector counts them in the order it appends their timestamps.
                        let firsts = bench.collector.duplicatesFirstProduced(from: snapshot)
                        repeatedSpanMs.append(firsts.min().map { max(0, killedAtMs - $0) } ?? 0)
                    }
                    lateDuplicates += now - atCatchUp
                    duplicates.append(now - snapshot)
                    snapshot = now
                }
                if kind != .killNine {
                    #expect(connector.isRunning && earlierLogs.isEmpty, "outbox-cdc stayed up through every \(kind.name)\n\(connector.log)")
                    #expect(connector.logCount("replication interrupted; reconnecting") >= faultsPerKind, "outbox-cdc reconnected after each fault")
                }
                let writerFailures = load.failures
                load.stop()
                let arrived = bench.waitForAll(of: load, timeout: .seconds(120)) != nil
                // Events missing: what outbox-cdc's counters say, before it stops.
                let metrics = arrived ? nil : (try? httpGet(port: metricsPort, "/metrics"))?.body
                let (audit, peak) = try Self.conclude(bench, load, connector, earlierLogs: earlierLogs, arrivalTimeout: arrived ? .seconds(120) : .seconds(5))
                var evidence = ""
                if !arrived || !audit.lost.isEmpty || !audit.confirmedPastUnacknowledged.isEmpty {
                    evidence = Self.keepEvidenceOfMissingEvents(
                        audit: audit, bench: bench, cluster: cluster, logs: earlierLogs + [connector.log], metrics: metrics
                    )
                    print(evidence)
                    Issue.record(Comment(rawValue: evidence))
                }

                #expect(duplicates.count == faultsPerKind, "every \(kind.name) ran")
                let figures = PerFaultFigures(
                    kind: kind.name, loadEventsPerSecond: eventsPerSecond, statusIntervalMs: 1000, duplicates: duplicates,
                    meanDuplicates: Double(duplicates.reduce(0, +)) / Double(max(1, duplicates.count)), maxDuplicates: duplicates.max() ?? 0,
                    lost: audit.lost.count, catchUpSeconds: catchUps
                )
                let attributed = duplicates.reduce(0, +)
                let meanCatchUp = catchUps.reduce(0, +) / Double(max(1, catchUps.count))
                var described = "\(kind.name) ×\(duplicates.count): \(attributed) duplicates, per fault mean \(format(figures.meanDuplicates, 1)), max \(figures.maxDuplicates) (\(duplicates.map(String.init).joined(separator: ", "))), lost \(audit.lost.count)"
                var figuresKept = figures
                if kind == .killNine, inFlightAtKill.count == duplicates.count {
                    // Beyond what was in flight: what Kafka had acknowledged and outbox-cdc had not yet confirmed, and
                    // the acknowledged part of a transaction Kafka did not yet hold in full: outbox-cdc's own share.
                    let beyond = zip(duplicates, inFlightAtKill).map { max(0, $0 - $1) }
                    described += "; in flight (unacknowledged) at each kill \(inFlightAtKill.map(String.init).joined(separator: ", ")), "
                        + "Kafka's commit-to-acknowledgement delay then \(acknowledgementDelayAtKill.map { format($0, 0) }.joined(separator: ", ")) ms; "
                        + "WAL bytes outbox-cdc had confirmed that the slot did not yet hold \(confirmedNotInSlotAtKill.map(String.init).joined(separator: ", ")); "
                        + "duplicates beyond those in flight: mean \(format(Double(beyond.reduce(0, +)) / Double(max(1, beyond.count)), 1)), max \(beyond.max() ?? 0) (\(beyond.map(String.init).joined(separator: ", ")))"
                    // Duplicates as time: the events handed to Kafka in the last this-many ms before the kill. An event
                    // acknowledged at t is confirmed by t + outbox-cdc's acknowledgement-to-confirmation time, so of
                    // the oldest repeated event's span at most that maximum is outbox-cdc's; the rest, at least, passed
                    // before Kafka acknowledged it.
                    func mean(_ values: [Double]) -> String { format(values.reduce(0, +) / Double(max(1, values.count)), 1) }
                    let kafkaAtLeast = zip(repeatedSpanMs, confirmationMaxAtKill).map { max(0, Double($0) - $1) }
                    described += "; the events repeated were those handed to Kafka in the last \(repeatedSpanMs.map(String.init).joined(separator: ", ")) ms before each kill "
                        + "(mean \(mean(repeatedSpanMs.map(Double.init)))); outbox-cdc's acknowledgement-to-confirmation in each killed process (histogram bucket bounds): "
                        + "p99 ≤ \(confirmationP99AtKill.map { format($0, 0) }.joined(separator: ", ")) ms, max ≤ \(confirmationMaxAtKill.map { format($0, 0) }.joined(separator: ", ")) ms; "
                        + "so at least \(kafkaAtLeast.map { format($0, 0) }.joined(separator: ", ")) ms of each span (mean \(mean(kafkaAtLeast))) passed before Kafka acknowledged; "
                        + "the oldest event Kafka had not acknowledged at the last status update was \(oldestUnacknowledgedAtKill.map { format($0, 0) }.joined(separator: ", ")) ms old"
                    figuresKept.repeatedSpanMs = repeatedSpanMs
                    figuresKept.oldestUnacknowledgedAtKillMs = oldestUnacknowledgedAtKill
                    figuresKept.acknowledgementToConfirmationP99AtKillMs = confirmationP99AtKill
                    figuresKept.acknowledgementToConfirmationMaxAtKillMs = confirmationMaxAtKill
                    figuresKept.inFlightAtKill = inFlightAtKill
                    figuresKept.acknowledgementDelayAtKillMs = acknowledgementDelayAtKill
                }
                summary.append(described)
                var row = FaultRow(
                    scenario: "duplicates per fault, \(kind.name) ×\(duplicates.count), 1,000 events/s, default status interval",
                    audit: audit, recoverySeconds: catchUps.max(), peakRSSMiB: peak,
                    notes: "load \(loadText) on a cluster and a broker of this kind's own, outbox-cdc at its default --status-interval-ms (1000); \(format(steady, 0))–\(format(steady + 1, 0)) s of steady load between faults; "
                        + "\(described); a fault's duplicates are those arriving until the next fault (after its catch-up: \(lateDuplicates); before the first fault or after the last interval: \(audit.duplicates - attributed)); "
                        + "recovery = the fault until outbox-cdc streams again and Kafka holds every event committed until then (mean \(format(meanCatchUp)) s, max shown); \(writerFailures) writer transactions failed with the server"
                        + (evidence.isEmpty ? "" : "; " + evidence)
                )
                row.perFault = [figuresKept]
                row.record()
            }
        }
        print("duplicates per fault: " + summary.joined(separator: "; "))
    }

    /// The upper bound of the bucket that holds `quantile` of a Prometheus histogram's samples (1: the
    /// largest), in the histogram's unit; nil when it has none.
    static func histogramBound(_ name: String, quantile: Double, in exposition: String) -> Double? {
        let prefix = name + "_bucket{le=\""
        let buckets: [(bound: Double, count: Double)] = exposition.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(prefix), let close = line.firstIndex(of: "}") else { return nil }
            let bound = line[line.index(line.startIndex, offsetBy: prefix.count) ..< line.index(before: close)]
            guard let count = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)) else { return nil }
            return (bound == "+Inf" ? .infinity : Double(bound) ?? .nan, count)
        }.sorted { $0.bound < $1.bound }
        guard let total = buckets.last?.count, total > 0 else { return nil }
        return buckets.first { $0.count >= (quantile * total).rounded(.up) }?.bound
    }

    /// A gauge's value in a Prometheus exposition (its unlabelled sample).
    static func gauge(_ name: String, in exposition: String) -> Double? {
        exposition.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// When committed events are missing from Kafka: keeps what tells where they went in a folder of its own
    /// (the lost events with their topic, key and transaction end; each partition as the collector and a
    /// second reader from the beginning see it; outbox-cdc's logs and counters; Tansu's and PostgreSQL's
    /// logs), and returns a summary: how many per topic, and how many a second reader finds in Kafka.
    static func keepEvidenceOfMissingEvents(
        audit: FaultAudit, bench: FaultBench, cluster: ThrowawayCluster, logs: [String], metrics: String?
    ) -> String {
        let folder = "/tmp/outbox-cdc-faults-missing-\(bench.suffix)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func keep(_ name: String, _ text: String) {
            _ = FileManager.default.createFile(atPath: "\(folder)/\(name)", contents: Data(text.utf8))
        }
        let lost = Set(audit.lost)
        var lostByTopic: [String: Int] = [:]
        var lines: [String] = []
        for event in audit.committed where lost.contains(event.id) {
            lostByTopic[event.aggregateType, default: 0] += 1
            lines.append("\(event.id) \(event.aggregateType) \(event.aggregateID) seq=\(event.sequence) end=\(audit.ends[event.id].map { "\($0)" } ?? "-")")
        }
        keep("lost.txt", lines.joined(separator: "\n") + "\n")
        keep("confirmed-past-unacknowledged.txt", audit.confirmedPastUnacknowledged.joined(separator: "\n") + "\n")

        // Each partition: records, distinct events, lowest and highest offset.
        func partitions(_ records: [KafkaRecord]) -> [String: String] {
            var summary: [String: (count: Int, ids: Set<String>, low: Int64, high: Int64)] = [:]
            for record in records {
                let key = "\(record.topic)/\(record.partition)"
                var entry = summary[key] ?? (0, [], .max, .min)
                entry.count += 1
                if let id = record.idHeader { entry.ids.insert(id) }
                entry.low = min(entry.low, record.offset)
                entry.high = max(entry.high, record.offset)
                summary[key] = entry
            }
            return summary.mapValues { "records \($0.count), events \($0.ids.count), offsets \($0.low)...\($0.high)" }
        }
        // The broker's CPU use over 5 s, and its resident memory.
        let tansu = tansuStatistics(port: bench.broker.port)
        // A second reader of every topic from the beginning: up to 60 s for its first record, then until nothing
        // new arrives for 5 s.
        var foundBySecondReader = -1
        var firstRecordAfter = "never (60 s)"
        var secondPartitions: [String: String] = [:]
        if let second = try? EventCollector(brokers: bench.broker.brokers, topics: bench.topics) {
            let opened = ContinuousClock.now
            if (try? waitFor("a first record", timeout: .seconds(60), { second.distinctCount > 0 })) != nil {
                firstRecordAfter = "\(format(seconds(ContinuousClock.now - opened))) s"
            }
            second.settle(quiet: .seconds(5), timeout: .seconds(180))
            let held = second.firstProduced
            foundBySecondReader = lost.filter { held[$0] != nil }.count
            secondPartitions = partitions(second.records)
            second.stop()
        }
        let firstPartitions = partitions(bench.collector.records)
        let keys = Set(firstPartitions.keys).union(secondPartitions.keys).sorted()
        keep("partitions.txt", keys.map { "\($0): collector \(firstPartitions[$0] ?? "-"); second reader \(secondPartitions[$0] ?? "-")" }.joined(separator: "\n") + "\n")
        keep("outbox-cdc.log", logs.joined(separator: "\n----- next process -----\n"))
        if let metrics { keep("metrics.txt", metrics) }
        let tansuLog = FileManager.default.temporaryDirectory.appendingPathComponent("fault-tansu-\(bench.broker.port).log").path
        try? FileManager.default.copyItem(atPath: tansuLog, toPath: "\(folder)/tansu.log")
        try? FileManager.default.copyItem(atPath: "\(cluster.directory)/log", toPath: "\(folder)/postgresql.log")
        let published = (metrics ?? "").split(separator: "\n").filter { $0.hasPrefix("outbox_cdc_events_published_total") }
        let topics = lostByTopic.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "MISSING: \(lost.count) committed events not seen by the collector (by topic: \(topics)); a second reader from the beginning had its first record after \(firstRecordAfter) and found \(foundBySecondReader) of them in Kafka (\(secondPartitions.count) partitions); Tansu \(tansu); outbox-cdc's counters at the end: \(published.isEmpty ? "-" : published.joined(separator: ", ")); evidence kept in \(folder)"
    }
}

/// The Tansu listening on `port`: CPU seconds it used over 5 s, and its resident memory, from /proc.
private func tansuStatistics(port: Int) -> String {
    let listener = "tcp://127.0.0.1:\(port)"
    let fileManager = FileManager.default
    guard let pid = (try? fileManager.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init).first(where: { pid in
        guard let data = fileManager.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = String(decoding: data, as: UTF8.self).split(separator: "\0").map(String.init)
        return arguments.contains { $0.contains("tansu") } && arguments.contains(listener)
    }) else { return "process not found" }
    func cpuTicks() -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After the command's closing parenthesis: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }
    let before = cpuTicks()
    Thread.sleep(forTimeInterval: 5)
    let after = cpuTicks()
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.map { $0.split(separator: " ").dropFirst().joined(separator: " ") } ?? "?"
    let ticks = sysconf(Int32(_SC_CLK_TCK))
    let cpu = zip([before], [after]).compactMap { pair -> Double? in
        guard let from = pair.0, let to = pair.1 else { return nil }
        return Double(to - from) / Double(ticks)
    }.first
    return "pid \(pid): \(cpu.map { format($0) } ?? "?") CPU seconds in 5 s, RSS \(rss)"
}
