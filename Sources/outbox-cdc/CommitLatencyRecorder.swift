import Histogram
import Logging
import OutboxBench
import Synchronization

/// The distribution of one latency measured from a transaction's commit on PostgreSQL: to the moment its
/// event was handed to librdkafka (outbox-cdc's own share), or to Kafka's acknowledgement. Logged once
/// when the process stops, as "<name> latency" (the benchmark reads it).
final class CommitLatencyRecorder: Sendable {
    let name: String

    init(name: String) {
        self.name = name
    }

    /// Microseconds, up to an hour at three significant digits (about 200 KiB).
    private let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three))

    /// Once per event, on the reading or the delivery-report thread.
    func record(commitTime: Int64, eventTime: Int64) {
        histogram.withLock { $0.recordLatency(microseconds: eventTime - commitTime) }
    }

    func log(to logger: Logger) {
        let snapshot = histogram.withLock { $0 }
        guard snapshot.totalCount > 0 else { return }
        func milliseconds(_ micros: UInt64) -> Logger.MetadataValue {
            let value = Double(micros) / 1000
            return .stringConvertible((value * 1000).rounded() / 1000)
        }
        logger.info("\(name) latency", metadata: [
            "latency.events": .stringConvertible(snapshot.totalCount),
            "latency.p50_ms": milliseconds(snapshot.valueAtPercentile(50)),
            "latency.p90_ms": milliseconds(snapshot.valueAtPercentile(90)),
            "latency.p99_ms": milliseconds(snapshot.valueAtPercentile(99)),
            "latency.p999_ms": milliseconds(snapshot.valueAtPercentile(99.9)),
            "latency.max_ms": milliseconds(snapshot.max),
        ])
    }
}
