import Clocks
import Histogram
import KafkaClient
import Logging
import Synchronization
import Threads
import WALReader

/// Load generators that emit stamped events at a fixed total rate on threads of their own: outbox writers
/// committing single-row transactions (one connection each, as concurrent application requests would),
/// and, for the broker's own latency, a bare producer.
///
/// The schedule is open-loop: event `i` is due at `start + i / rate` whatever happened to event `i - 1`, so a
/// slow commit does not quietly lower the offered load (it shows as a lower achieved rate). Each payload
/// carries the wall-clock time taken just before its INSERT, which runs as its own transaction: the stamp
/// precedes the COMMIT by the INSERT's execution only, and the commit's fsync is part of what is measured.
enum PacedLoad {
    struct Outcome {
        /// Events stamped at or after the measurement start.
        var measuredEvents = 0
        var allEvents = 0
        /// The bare producer's produce-to-acknowledgement latency, microseconds (measured events only).
        var acknowledgementLatency: Histogram<UInt64>?
    }

    struct Schedule {
        var rate: Int
        var payloadBytes: Int
        var startNanoseconds: Int64
        var measureFromNanoseconds: Int64
        var endNanoseconds: Int64

        func due(_ index: Int) -> Int64 {
            startNanoseconds + Int64(Double(index) * 1_000_000_000.0 / Double(rate))
        }
    }

    /// What the threads of one load report, whichever finishes first.
    fileprivate final class Results: Sendable {
        private let state = Mutex<(outcome: Outcome, failure: String?)>((Outcome(), nil))

        func finished(_ result: Result<Outcome, any Error>, name: String) {
            state.withLock { state in
                switch result {
                case .success(let outcome):
                    state.outcome.measuredEvents += outcome.measuredEvents
                    state.outcome.allEvents += outcome.allEvents
                    if let histogram = outcome.acknowledgementLatency { state.outcome.acknowledgementLatency = histogram }
                case .failure(let error):
                    if state.failure == nil { state.failure = "\(name): \(error)" }
                }
            }
        }

        var outcome: Outcome { state.withLock { $0.outcome } }
        var failure: String? { state.withLock { $0.failure } }
    }

    /// The threads of one load; `join` waits for all of them and throws the first one's error.
    struct Running {
        fileprivate let threads: [JoinableThread]
        fileprivate let results: Results

        func join() throws -> Outcome {
            threads.forEach { $0.join() }
            if let failure = results.failure { throw BenchError(failure) }
            return results.outcome
        }
    }

    /// `writers` connections inserting into `table`, together at `schedule.rate`.
    static func startWriters(
        settings: ConnectionSettings, table: String, aggregateType: String, writers: Int, schedule: Schedule
    ) -> Running {
        let results = Results()
        let threads = (0 ..< writers).compactMap { writer in
            startBenchThread {
                results.finished(Result {
                    try write(settings: settings, table: table, aggregateType: aggregateType, writer: writer, of: writers, schedule: schedule)
                }, name: "writer \(writer)")
            }
        }
        return Running(threads: threads, results: results)
    }

    private static func write(
        settings: ConnectionSettings, table: String, aggregateType: String, writer: Int, of writers: Int, schedule: Schedule
    ) throws -> Outcome {
        let connection = try PostgresConnection.connect(settings.renamed("outbox-cdc-bench-writer"))
        defer { connection.close() }
        let sql = "INSERT INTO public.\(table) (aggregatetype, aggregateid, type, payload) VALUES ($1, $2, 'bench', $3)"
        var outcome = Outcome()
        var index = writer
        while true {
            let due = schedule.due(index)
            guard due < schedule.endNanoseconds else { break }
            sleep(untilNanoseconds: due)
            let stamp = WallClock.nowNanoseconds()
            let payload = StampedPayload.make(sentNanoseconds: stamp, size: schedule.payloadBytes)
            try connection.query(sql, parameters: [aggregateType, "key-\(index % 64)", payload])
            outcome.allEvents += 1
            if stamp >= schedule.measureFromNanoseconds { outcome.measuredEvents += 1 }
            index += writers
        }
        return outcome
    }

    /// One producer with outbox-cdc's librdkafka settings, producing stamped records straight to `topic`:
    /// the broker's own produce-to-consume latency, the floor under any relay's.
    static func startProducer(properties: [String: String], topic: String, schedule: Schedule, logger: Logger) -> Running {
        let results = Results()
        let thread = startBenchThread {
            results.finished(Result {
                try produce(properties: properties, topic: topic, schedule: schedule, logger: logger)
            }, name: "producer")
        }
        return Running(threads: thread.map { [$0] } ?? [], results: results)
    }

    private static func produce(properties: [String: String], topic: String, schedule: Schedule, logger: Logger) throws -> Outcome {
        let failures = Atomic<Int>(0)
        let acknowledgements = AcknowledgementTimer(measureFromNanoseconds: schedule.measureFromNanoseconds)
        let producer = try KafkaProducer(configuration: properties, logger: logger) { report in
            if report.error != nil { failures.add(1, ordering: .relaxed) }
            acknowledgements.acknowledged(report.correlation)
        }
        defer { producer.shutdown() }
        var outcome = Outcome()
        var index = 0
        while true {
            let due = schedule.due(index)
            guard due < schedule.endNanoseconds else { break }
            sleep(untilNanoseconds: due)
            let stamp = WallClock.nowNanoseconds()
            acknowledgements.produced(UInt64(index + 1), at: stamp)
            let payload = Array(StampedPayload.make(sentNanoseconds: stamp, size: schedule.payloadBytes).utf8)
            let result = producer.produce(
                topic: topic, key: Array("key-\(index % 64)".utf8), value: payload,
                headers: [KafkaHeader(name: "id", string: "bench-\(index)")], correlation: UInt64(index + 1)
            )
            guard result == .enqueued else { throw BenchError("produce: \(result)") }
            outcome.allEvents += 1
            if stamp >= schedule.measureFromNanoseconds { outcome.measuredEvents += 1 }
            index += 1
        }
        guard producer.flush(timeout: .seconds(60)), failures.load(ordering: .relaxed) == 0 else {
            throw BenchError("the broker did not acknowledge every record")
        }
        outcome.acknowledgementLatency = acknowledgements.histogram
        return outcome
    }
}

/// Times each record from produce to its delivery report, keyed by correlation.
private final class AcknowledgementTimer: Sendable {
    private let state = Mutex<(sent: [UInt64: Int64], histogram: Histogram<UInt64>)>(
        ([:], Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three))
    )
    private let measureFromNanoseconds: Int64

    init(measureFromNanoseconds: Int64) {
        self.measureFromNanoseconds = measureFromNanoseconds
    }

    func produced(_ correlation: UInt64, at nanoseconds: Int64) {
        guard nanoseconds >= measureFromNanoseconds else { return }
        state.withLock { $0.sent[correlation] = nanoseconds }
    }

    func acknowledged(_ correlation: UInt64) {
        let now = WallClock.nowNanoseconds()
        state.withLock { state in
            guard let sent = state.sent.removeValue(forKey: correlation) else { return }
            state.histogram.recordLatency(microseconds: (now - sent) / 1000)
        }
    }

    var histogram: Histogram<UInt64> { state.withLock { $0.histogram } }
}
