import Foundation
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

        var name: String {
            switch self {
            case .killNine: "kill -9 of outbox-cdc, restarted at once"
            case .walsenderTerminated: "pg_terminate_backend(walsender), outbox-cdc stays up"
            case .crashRestart: "PostgreSQL restart -m immediate, outbox-cdc stays up"
            }
        }
    }

    /// How many records each fault sends twice, at outbox-cdc's default `--status-interval-ms` (1000 ms, not the
    /// suite's 200) and 1,000 events/s: 100 transactions a second of 10 rows. One kind of fault at a time, each
    /// fault after a few seconds of steady load (a random part, so faults fall at any moment of the status
    /// interval), then waited for until outbox-cdc streams again and Kafka holds every event committed until
    /// then. A fault's duplicates are those that arrive from the fault to the next one (the collector's running
    /// count): the re-sent records come first after the reconnect, before the catch-up, and the steady load
    /// after it gives stragglers seconds more.
    ///
    /// Duplicates are measured, not asserted; lost events, per-key order and confirmations ahead of Kafka are
    /// checked as everywhere in the suite. A cluster of the scenario's own: it crashes PostgreSQL.
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
        try Self.onOwnCluster { cluster, bench in
            // outbox-cdc's own default (1000 ms): no --status-interval-ms at all.
            bench.statusIntervalMilliseconds = nil
            var connector = try bench.startConnector()
            let load = bench.load(transactionsPerSecond: transactionsPerSecond, rows: rows)
            defer { load.stop() }
            func steadyLoad() { Thread.sleep(forTimeInterval: steady + Double.random(in: 0 ..< 1)) }

            var earlierLogs: [String] = []
            // Where each kind's phase begins in the load's events (for attributing lost events).
            var phaseStarts: [(kind: DuplicatingFault, index: Int)] = []
            var duplicatesByKind: [DuplicatingFault: [Int]] = [:]
            var catchUpsByKind: [DuplicatingFault: [Double]] = [:]
            // Events before this index of the load are known to be in Kafka.
            var checked = 0
            // Duplicates that arrived after a fault's catch-up, within the steady load that follows it.
            var lateDuplicates = 0
            steadyLoad()
            let beforeFirstFault = bench.collector.duplicateCount
            var snapshot = beforeFirstFault

            faults: for kind in DuplicatingFault.allCases {
                phaseStarts.append((kind, load.count))
                for round in 0 ..< faultsPerKind {
                    try waitFor("the slot to be active before \(kind.name)", timeout: .seconds(60)) {
                        (try? bench.sql("SELECT active_pid FROM pg_replication_slots WHERE slot_name = '\(bench.slot)' AND active_pid IS NOT NULL").rows.isEmpty == false) ?? false
                    }
                    let started = ContinuousClock.now
                    // The process that streams after the fault, and how many times it had said so before it.
                    var streams = connector.logCount("] streaming")
                    switch kind {
                    case .killNine:
                        connector.killHard()
                        earlierLogs.append(connector.log)
                        connector = try bench.connector()
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
                        break faults
                    }
                    checked = before.count
                    catchUpsByKind[kind, default: []].append(seconds(ContinuousClock.now - started))
                    let atCatchUp = bench.collector.duplicateCount
                    steadyLoad()
                    let now = bench.collector.duplicateCount
                    lateDuplicates += now - atCatchUp
                    duplicatesByKind[kind, default: []].append(now - snapshot)
                    snapshot = now
                }
            }
            #expect(connector.isRunning, "outbox-cdc survived the walsender terminations and crash-restarts\n\(connector.log)")
            let writerFailures = load.failures
            let (audit, peak) = try Self.conclude(bench, load, connector, earlierLogs: earlierLogs)

            // Lost events, by the phase they were committed in (an event whose COMMIT failed with the server,
            // yet committed, is unknown to the load: unattributed).
            let indexOf = Dictionary(load.events.enumerated().map { ($0.element.id, $0.offset) }) { first, _ in first }
            var lostByKind: [DuplicatingFault: Int] = [:]
            var lostElsewhere = 0
            for id in audit.lost {
                if let index = indexOf[id], let phase = phaseStarts.last(where: { $0.index <= index }) {
                    lostByKind[phase.kind, default: 0] += 1
                } else {
                    lostElsewhere += 1
                }
            }
            let figures = DuplicatingFault.allCases.compactMap { kind -> PerFaultFigures? in
                guard let duplicates = duplicatesByKind[kind], !duplicates.isEmpty else { return nil }
                return PerFaultFigures(
                    kind: kind.name, loadEventsPerSecond: eventsPerSecond, statusIntervalMs: 1000, duplicates: duplicates,
                    meanDuplicates: Double(duplicates.reduce(0, +)) / Double(duplicates.count), maxDuplicates: duplicates.max() ?? 0,
                    lost: lostByKind[kind] ?? 0, catchUpSeconds: catchUpsByKind[kind] ?? []
                )
            }
            #expect(figures.count == DuplicatingFault.allCases.count && figures.allSatisfy { $0.duplicates.count == faultsPerKind }, "every fault ran")
            let attributed = figures.flatMap(\.duplicates).reduce(0, +)
            let described = figures.map { figure in
                let catchUps = figure.catchUpSeconds
                return "\(figure.kind) ×\(figure.duplicates.count): \(figure.duplicates.reduce(0, +)) duplicates, per fault mean \(format(figure.meanDuplicates, 1)), max \(figure.maxDuplicates) (\(figure.duplicates.map(String.init).joined(separator: ", "))), lost \(figure.lost), streaming and caught up after mean \(format(catchUps.reduce(0, +) / Double(max(1, catchUps.count)))) s, max \(format(catchUps.max() ?? 0)) s"
            }
            var row = FaultRow(
                scenario: "duplicates per fault at 1,000 events/s, default status interval: kill -9 ×\(faultsPerKind), walsender terminated ×\(faultsPerKind), restart -m immediate ×\(faultsPerKind)",
                audit: audit, recoverySeconds: figures.flatMap(\.catchUpSeconds).max(), peakRSSMiB: peak,
                notes: "load \(loadText) on a cluster of the test's own, outbox-cdc at its default --status-interval-ms (1000); \(format(steady, 0))–\(format(steady + 1, 0)) s of steady load between faults; a fault's duplicates are those arriving until the next fault; "
                    + described.joined(separator: "; ")
                    + "; duplicates arriving after a catch-up \(lateDuplicates), outside the fault intervals \(audit.duplicates - attributed); lost events not attributed to a phase \(lostElsewhere); \(writerFailures) writer transactions failed with the server"
            )
            row.perFault = figures
            row.record()
        }
    }
}
