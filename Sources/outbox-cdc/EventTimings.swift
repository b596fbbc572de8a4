import Histogram
import Logging
import OutboxBench
import Connector
import Synchronization

/// The distribution of one per-event latency: from a transaction's commit on PostgreSQL to the moment its
/// event was handed to librdkafka or acknowledged by Kafka, or one stage between (`EventTimings`). Logged
/// once when the process stops, as "<name> latency" (the benchmark reads it).
final class LatencyRecorder: Sendable {
    let name: String

    init(name: String) {
        self.name = name
    }

    /// Microseconds, up to an hour at three significant digits (about 200 KiB).
    private let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three))

    /// Once per event, on the reading thread.
    func record(microseconds: Int64) {
        histogram.withLock { $0.recordLatency(microseconds: microseconds) }
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

/// The per-event latencies the run logs at stop: from commit to produce and to acknowledgement, and the
/// stages between, whose owners differ (PostgreSQL: commit to the walsender's send; outbox-cdc: send to
/// produce, reading and handling; librdkafka and the broker: produce to acknowledgement).
struct EventTimings {
    let commitToProduce = LatencyRecorder(name: "commit-to-produce")
    let commitToAcknowledgement = LatencyRecorder(name: "commit-to-acknowledgement")
    let commitToSend = LatencyRecorder(name: "commit-to-send")
    let sendToRead = LatencyRecorder(name: "send-to-read")
    let readToProduce = LatencyRecorder(name: "read-to-produce")
    let produceToAcknowledgement = LatencyRecorder(name: "produce-to-acknowledgement")
    /// Not per event: per status update that confirmed what an acknowledgement completed.
    let acknowledgementToConfirmation = LatencyRecorder(name: "acknowledgement-to-confirmation")

    var observer: EventTimingObserver {
        EventTimingObserver(
            produced: { [self] timing in
                commitToProduce.record(microseconds: timing.producedTime - timing.commitTime)
                // Records from no replication stream (the hand-over's) have no send or read.
                guard timing.walSentTime != 0, timing.readTime != 0 else { return }
                commitToSend.record(microseconds: timing.walSentTime - timing.commitTime)
                sendToRead.record(microseconds: timing.readTime - timing.walSentTime)
                readToProduce.record(microseconds: timing.producedTime - timing.readTime)
            },
            acknowledged: { [self] timing in
                commitToAcknowledgement.record(microseconds: timing.acknowledgedAt - timing.commitTime)
                if timing.sinceProduce >= 0 { produceToAcknowledgement.record(microseconds: timing.sinceProduce) }
            },
            confirmed: { [self] microseconds in acknowledgementToConfirmation.record(microseconds: microseconds) }
        )
    }

    func log(to logger: Logger) {
        for recorder in [commitToProduce, commitToAcknowledgement, commitToSend, sendToRead, readToProduce, produceToAcknowledgement, acknowledgementToConfirmation] {
            recorder.log(to: logger)
        }
    }
}
