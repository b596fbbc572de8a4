import Foundation
import KafkaClient
import Logging
import PostgresLSN
import Synchronization
import WALReader

/// Settings of the fault-injection suite, from the environment.
enum FaultSettings {
    /// `OUTBOX_CDC_FAULTS_LONG=1` runs the long forms (100,000 events, 30 s outages, 500,000 rows).
    static var long: Bool { ProcessInfo.processInfo.environment["OUTBOX_CDC_FAULTS_LONG"] == "1" }

    /// `OUTBOX_CDC_FAULT_REPORT=<path>`: each scenario appends one JSON line there.
    static var reportPath: String? {
        ProcessInfo.processInfo.environment["OUTBOX_CDC_FAULT_REPORT"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var form: String { long ? "long" : "short" }
}

/// Milliseconds since the Unix epoch, the clock of Kafka's record timestamps.
func wallMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// One row of the reliability table.
struct FaultRow: Codable, Sendable {
    var scenario: String
    var form: String = FaultSettings.form
    var events: Int
    var lost: Int
    var duplicates: Int
    /// Recovery or takeover time, seconds.
    var recoverySeconds: Double?
    var peakRSSMiB: Double?
    var notes: String
    /// Figures per kind of fault, for the scenarios that attribute duplicates to each fault.
    var perFault: [PerFaultFigures]?

    /// A row from a scenario's audit; the notes end with its soundness counts.
    init(scenario: String, audit: FaultAudit, recoverySeconds: Double?, peakRSSMiB: Double?, notes: String) {
        self.scenario = scenario
        events = audit.committed.count
        lost = audit.lost.count
        duplicates = audit.duplicates
        self.recoverySeconds = recoverySeconds
        self.peakRSSMiB = peakRSSMiB
        self.notes = notes + "; per-key order violations \(audit.orderViolations.count), confirmations ahead of Kafka \(audit.confirmedPastUnacknowledged.count)"
    }

    /// Prints the row and appends it to `OUTBOX_CDC_FAULT_REPORT` when set.
    func record() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return }
        let line = String(decoding: data, as: UTF8.self)
        print("fault report: \(line)")
        guard let path = FaultSettings.reportPath else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}

/// Duplicates (and lost events) attributed to each fault of one kind.
struct PerFaultFigures: Codable, Sendable {
    var kind: String
    var loadEventsPerSecond: Int
    var statusIntervalMs: Int
    /// Duplicates attributed to each fault, in order.
    var duplicates: [Int]
    var meanDuplicates: Double
    var maxDuplicates: Int
    /// Committed events of this kind's phase absent from Kafka.
    var lost: Int
    /// From the fault until outbox-cdc streams again and Kafka holds every event committed until then, seconds.
    var catchUpSeconds: [Double]
    /// kill -9 only: the events outbox-cdc had handed to Kafka without an acknowledgement just before each kill
    /// (its `outbox_cdc_events_in_flight` gauge), which no confirmation could have covered; and the commit-to-
    /// acknowledgement delay of the last event Kafka had acknowledged then, in milliseconds.
    var inFlightAtKill: [Int]? = nil
    var acknowledgementDelayAtKillMs: [Double]? = nil
    /// kill -9 only: how long before each kill the oldest event it repeated had been handed to Kafka (its first
    /// record's producer timestamp), in milliseconds: the kill repeated the events of that last span.
    var repeatedSpanMs: [Int64]? = nil
    /// kill -9 only: the age of the oldest event Kafka had not acknowledged just before each kill
    /// (`outbox_cdc_oldest_unacknowledged_event_age_seconds`, set at the last status update), in milliseconds.
    var oldestUnacknowledgedAtKillMs: [Double]? = nil
    /// kill -9 only: upper bounds (histogram buckets) of the p99 and the maximum of outbox-cdc's acknowledgement-
    /// to-confirmation time in each killed process's life, in milliseconds.
    var acknowledgementToConfirmationP99AtKillMs: [Double]? = nil
    var acknowledgementToConfirmationMaxAtKillMs: [Double]? = nil
}

/// Commits outbox transactions from a thread of its own at a steady rate, keeping every committed event.
///
/// A failed statement (the server restarted, the connection cut) drops the connection and opens a new one
/// with a new generation: keys carry the generation, so each key's sequence numbers stay in commit order
/// even though a transaction whose COMMIT failed may or may not have committed. The audit takes the
/// committed events from the table itself, so such a transaction is counted exactly when it committed.
final class LoadGenerator: @unchecked Sendable {
    /// Makes a writer for a generation: a function that commits transaction number `n` and returns its events.
    typealias WriterFactory = @Sendable (_ generation: Int) throws -> (_ transaction: Int) throws -> [WrittenEvent]

    private struct State {
        var events: [WrittenEvent] = []
        var failures = 0
        var stop = false
        var finished = false
    }

    private let state = Mutex(State())
    let transactionsPerSecond: Double

    /// Starts writing at once; `maxEvents` ends the load by itself.
    init(transactionsPerSecond: Double, maxEvents: Int? = nil, writer: @escaping WriterFactory) {
        self.transactionsPerSecond = transactionsPerSecond
        let thread = Thread { [self] in self.run(maxEvents: maxEvents, factory: writer) }
        thread.name = "fault-load"
        thread.start()
    }

    private func run(maxEvents: Int?, factory: WriterFactory) {
        var commit: ((Int) throws -> [WrittenEvent])?
        var generation = 0
        var transaction = 0
        var scheduleStart = ContinuousClock.now
        var scheduled = 0
        while true {
            let (stop, count) = state.withLock { ($0.stop, $0.events.count) }
            if stop { break }
            if let maxEvents, count >= maxEvents { break }
            // Open loop: each transaction has its moment; after a stall, start a new schedule rather
            // than burst to catch up.
            let due = scheduleStart + .seconds(Double(scheduled) / transactionsPerSecond)
            let now = ContinuousClock.now
            if due > now {
                Thread.sleep(forTimeInterval: seconds(due - now))
            } else if now - due > .milliseconds(500) {
                scheduleStart = now
                scheduled = 0
            }
            do {
                if commit == nil { commit = try factory(generation) }
                let events = try commit!(transaction)
                transaction += 1
                scheduled += 1
                state.withLock { $0.events += events }
            } catch {
                commit = nil
                generation += 1
                state.withLock { $0.failures += 1 }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        commit = nil
        state.withLock { $0.finished = true }
    }

    /// The events committed so far, in commit order.
    var events: [WrittenEvent] { state.withLock { $0.events } }
    var count: Int { state.withLock { $0.events.count } }
    var failures: Int { state.withLock { $0.failures } }

    /// Stops the load and waits for the thread's last transaction.
    func stop() {
        state.withLock { $0.stop = true }
        waitUntilFinished()
    }

    func waitUntilFinished(timeout: Duration = .seconds(600)) {
        let deadline = ContinuousClock.now + timeout
        while !state.withLock({ $0.finished }), ContinuousClock.now < deadline { usleep(10_000) }
    }

    /// Writers of the Event Router outbox (`OutboxWriter`), `rows` events a transaction spread over `types`
    /// and `keys` keys.
    static func outbox(url: String, types: [String], keys: Int = 50, rows: Int = 10) -> WriterFactory {
        { generation in
            var writer = try OutboxWriter(connection: PostgresConnection.connect(ConnectionSettings(url)))
            return { transaction in
                try writer.commit((0 ..< rows).map { index in
                    let n = transaction * rows + index
                    return (aggregateType: types[n % types.count], aggregateID: "k\(n % keys)-g\(generation)")
                })
            }
        }
    }
}

extension OutboxWriter {
    /// A writer on a connection of the caller's (a server of the test's own, or a load thread's).
    init(connection: PostgresConnection) {
        self.connection = connection
    }
}

/// Reads the given topics from the beginning on a thread of its own, keeping every record (without its
/// value, so that hundreds of thousands fit) and each event id's first appearance.
final class EventCollector: @unchecked Sendable {
    private struct State {
        var records: [KafkaRecord] = []
        /// Event id → the earliest record timestamp (the producer's clock when outbox-cdc handed it over).
        var firstProduced: [String: Int64] = [:]
        /// Records of an event id seen before: a running count, so a scenario can attribute duplicates to
        /// the fault before them.
        var duplicates = 0
        /// For each duplicate in arrival order, the producer timestamp of its event's first record (ms).
        var duplicatesFirstProduced: [Int64] = []
        var stop = false
        var finished = false
    }

    private let state = Mutex(State())
    private let consumer: KafkaConsumer
    /// The header that names a record's event: `id`, or for dead letters `outbox-cdc.error.event_id`.
    private let idHeader: String

    /// Quiet: the brokers the scenarios take away make librdkafka report errors on purpose.
    private static let logger: Logger = {
        var logger = Logger(label: "fault-collector")
        logger.logLevel = .critical
        return logger
    }()

    init(brokers: String, topics: [String], idHeader: String = "id") throws {
        // A broker that comes back should be found again quickly: the recovery times are outbox-cdc's.
        consumer = try KafkaConsumer(
            brokers: brokers,
            configuration: ["reconnect.backoff.ms": "50", "reconnect.backoff.max.ms": "200", "fetch.wait.max.ms": "5"],
            logger: Self.logger
        )
        self.idHeader = idHeader
        for topic in topics {
            try consumer.assign(topic: topic, from: .beginning)
        }
        let thread = Thread { [self] in self.run() }
        thread.name = "fault-collector"
        thread.start()
    }

    private func run() {
        while !state.withLock({ $0.stop }) {
            do {
                guard let record = try consumer.poll(timeout: .milliseconds(100)) else { continue }
                let stripped = KafkaRecord(
                    topic: record.topic, partition: record.partition, offset: record.offset, key: record.key, value: nil,
                    headers: record.headers.filter { $0.name == "id" || $0.name.hasPrefix("outbox-cdc.") },
                    timestamp: record.timestamp, timestampType: record.timestampType
                )
                let id = record.header(idHeader)??.utf8String
                state.withLock { state in
                    state.records.append(stripped)
                    if let id {
                        if let earlier = state.firstProduced[id] {
                            state.duplicates += 1
                            state.duplicatesFirstProduced.append(earlier)
                            state.firstProduced[id] = min(earlier, record.timestamp)
                        } else {
                            state.firstProduced[id] = record.timestamp
                        }
                    }
                }
            } catch {
                // A broker being away shows here as a consumer error: keep reading.
                usleep(50_000)
            }
        }
        state.withLock { $0.finished = true }
    }

    var records: [KafkaRecord] { state.withLock { $0.records } }
    var firstProduced: [String: Int64] { state.withLock { $0.firstProduced } }
    var distinctCount: Int { state.withLock { $0.firstProduced.count } }
    /// Records received so far whose event id had arrived before (every id, tracked by an audit or not).
    var duplicateCount: Int { state.withLock { $0.duplicates } }
    /// The producer timestamps (ms) of the first records of the duplicates from the `from`-th duplicate on.
    func duplicatesFirstProduced(from: Int) -> [Int64] {
        state.withLock { Array($0.duplicatesFirstProduced[min(from, $0.duplicatesFirstProduced.count)...]) }
    }
    /// The newest producer timestamp seen, or 0.
    var latestProduced: Int64 { state.withLock { $0.firstProduced.values.max() ?? 0 } }

    func holdsAll(_ ids: some Sequence<String>) -> Bool {
        state.withLock { state in ids.allSatisfy { state.firstProduced[$0] != nil } }
    }

    /// Waits until every one of `ids` has arrived; returns how long that took, nil on timeout.
    @discardableResult
    func waitForAll(_ ids: [String], timeout: Duration) -> Duration? {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < timeout {
            if holdsAll(ids) { return ContinuousClock.now - started }
            usleep(20_000)
        }
        return nil
    }

    /// Waits until no record has arrived for `quiet`, at most `timeout`.
    func settle(quiet: Duration = .milliseconds(1500), timeout: Duration = .seconds(30)) {
        let deadline = ContinuousClock.now + timeout
        var last = state.withLock { $0.records.count }
        var lastChange = ContinuousClock.now
        while ContinuousClock.now < deadline, ContinuousClock.now - lastChange < quiet {
            usleep(100_000)
            let now = state.withLock { $0.records.count }
            if now != last { last = now; lastChange = .now }
        }
    }

    func stop() {
        state.withLock { $0.stop = true }
        while !state.withLock({ $0.finished }) { usleep(10_000) }
        consumer.close()
    }

    deinit {
        state.withLock { $0.stop = true }
    }
}

/// Samples a slot's `confirmed_flush_lsn` (and the WAL end) every few milliseconds from a thread of its own,
/// reconnecting when the server goes away.
final class SlotMonitor: @unchecked Sendable {
    struct Sample: Sendable {
        /// Wall clock once the answer was in: the confirmation happened before this moment.
        var wallMilliseconds: Int64
        var confirmed: LSN?
        var walEnd: LSN?
        /// Where the slot's retained WAL begins.
        var restart: LSN?
        var active: Bool
    }

    private struct State {
        var samples: [Sample] = []
        var stop = false
        var finished = false
    }

    private let state = Mutex(State())

    init(url: String, slot: String, interval: Duration = .milliseconds(50)) {
        let thread = Thread { [self] in self.run(url: url, slot: slot, interval: interval) }
        thread.name = "fault-slot-monitor"
        thread.start()
    }

    private func run(url: String, slot: String, interval: Duration) {
        var connection: PostgresConnection?
        while !state.withLock({ $0.stop }) {
            do {
                if connection == nil { connection = try PostgresConnection.connect(ConnectionSettings(url)) }
                let result = try connection!.query("""
                    SELECT confirmed_flush_lsn::text AS confirmed, pg_current_wal_lsn()::text AS wal, restart_lsn::text AS restart, active
                    FROM pg_replication_slots WHERE slot_name = '\(slot)'
                    """)
                let now = wallMilliseconds()
                if !result.rows.isEmpty {
                    let sample = Sample(
                        wallMilliseconds: now, confirmed: result[0, "confirmed"].flatMap { LSN($0) },
                        walEnd: result[0, "wal"].flatMap { LSN($0) }, restart: result[0, "restart"].flatMap { LSN($0) },
                        active: result[0, "active"] == "t"
                    )
                    state.withLock { $0.samples.append(sample) }
                }
            } catch {
                connection = nil
            }
            Thread.sleep(forTimeInterval: seconds(interval))
        }
        connection = nil
        state.withLock { $0.finished = true }
    }

    var samples: [Sample] { state.withLock { $0.samples } }

    func stop() {
        state.withLock { $0.stop = true }
        while !state.withLock({ $0.finished }) { usleep(10_000) }
    }

    deinit {
        state.withLock { $0.stop = true }
    }
}

/// What a scenario found: each committed event against Kafka, and the slot's confirmations against both.
struct FaultAudit {
    /// Committed events, from the outbox table, in commit order.
    var committed: [WrittenEvent]
    var lost: [String]
    var duplicates: Int
    var orderViolations: [String]
    /// Events the slot was confirmed past before Kafka could have acknowledged them (sample moment before
    /// the record's producer timestamp), or never published at all.
    var confirmedPastUnacknowledged: [String]
    var finalConfirmed: LSN?
    /// The end of the last committed transaction with an event.
    var lastCommitEnd: LSN?

    /// Each committed event's transaction end, from the witness.
    var ends: [String: LSN]

    /// The committed events of the Event Router table `outbox` that the load wrote (a `seq` in the payload).
    static let eventRouterCommitted = "SELECT id::text, xmin::text, 'outbox.event.' || aggregatetype, aggregateid, (payload->>'seq')::int FROM outbox WHERE payload ? 'seq'"

    var summary: String {
        "\(committed.count) events, lost \(lost.count), duplicates \(duplicates), order violations \(orderViolations.count), confirmed past unacknowledged \(confirmedPastUnacknowledged.count)"
    }

    /// Audits an outbox: `committedSQL` returns `id, xid, topic, key, seq` of every committed event (the
    /// default reads the Event Router table `outbox`); the witness slot `witness` gives each transaction's
    /// end. `accountedFor` are events the scenario expects elsewhere (dead letters, skipped).
    static func run(
        url: String, slot: String, witness: String, collector: EventCollector, monitor: SlotMonitor?,
        committedSQL: String = FaultAudit.eventRouterCommitted,
        accountedFor: Set<String> = []
    ) throws -> FaultAudit {
        let connection = try PostgresConnection.connect(ConnectionSettings(url))
        defer { connection.close() }
        var ends: [String: LSN] = [:]
        for row in try connection.query("SELECT xid::text, lsn::text FROM pg_logical_slot_peek_changes('\(witness)', NULL, NULL) WHERE data LIKE 'COMMIT%'").rows {
            if let xid = row[0], let lsn = row[1].flatMap({ LSN($0) }) { ends[xid] = lsn }
        }
        var committed: [(event: WrittenEvent, end: LSN?)] = []
        for row in try connection.query(committedSQL).rows {
            guard let id = row[0], let xid = row[1], let topic = row[2], let key = row[3], let seq = row[4].flatMap({ Int($0) }) else { continue }
            // verifyPerKeyOrder keys by record topic and aggregate id: the topic goes into aggregateType.
            committed.append((WrittenEvent(id: id, aggregateType: topic, aggregateID: key, sequence: seq), ends[xid]))
        }
        committed.sort { ($0.end ?? LSN(.max), $0.event.sequence) < ($1.end ?? LSN(.max), $1.event.sequence) }
        let finalConfirmed = try connection.query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '\(slot)'")
            .rows.first?.first.flatMap { $0 }.flatMap { LSN($0) }

        let records = collector.records
        let first = collector.firstProduced
        let events = committed.map(\.event)
        let tracked = Set(events.map(\.id))
        let lost = events.map(\.id).filter { first[$0] == nil && !accountedFor.contains($0) }
        let order = verifyPerKeyOrder(records, written: events)
        let trackedRecords = records.filter { $0.idHeader.map(tracked.contains) ?? false }.count
        let duplicates = trackedRecords - Set(records.compactMap(\.idHeader)).intersection(tracked).count

        // For each event, the first sample whose confirmation covers its transaction's end; the record must
        // have been handed to Kafka no later than that sample was taken.
        var unsafe: [String] = []
        if let samples = monitor?.samples {
            var covered: [(ms: Int64, confirmed: LSN)] = []
            var highest = LSN.zero
            for sample in samples {
                if let confirmed = sample.confirmed, confirmed > highest { highest = confirmed; covered.append((sample.wallMilliseconds, confirmed)) }
            }
            for (event, end) in committed {
                guard let end, !accountedFor.contains(event.id) else { continue }
                // Binary search: the first covering sample.
                var low = 0, high = covered.count
                while low < high {
                    let mid = (low + high) / 2
                    if covered[mid].confirmed >= end { high = mid } else { low = mid + 1 }
                }
                guard low < covered.count else { continue }
                let confirmedAt = covered[low].ms
                if let produced = first[event.id] {
                    // One millisecond of rounding between the two clocks' readings.
                    if produced > confirmedAt + 1 {
                        unsafe.append("\(event.id): commit end \(end) confirmed at \(confirmedAt), produced at \(produced)")
                    }
                } else {
                    unsafe.append("\(event.id): commit end \(end) confirmed at \(confirmedAt), never published")
                }
            }
        }
        return FaultAudit(
            committed: events, lost: lost, duplicates: duplicates, orderViolations: order.orderViolations,
            confirmedPastUnacknowledged: unsafe, finalConfirmed: finalConfirmed,
            lastCommitEnd: committed.compactMap(\.end).max(),
            ends: Dictionary(committed.compactMap { entry in entry.end.map { (entry.event.id, $0) } }) { first, _ in first }
        )
    }
}

/// A witness slot (test_decoding) on any server: each COMMIT row it decodes carries its transaction's end.
func createWitnessSlot(url: String, name: String) throws {
    let connection = try PostgresConnection.connect(ConnectionSettings(url))
    defer { connection.close() }
    try connection.query("SELECT pg_create_logical_replication_slot('\(name)', 'test_decoding')")
}
