import Clocks
import Histogram
import KafkaClient
import Logging
import Synchronization
import Threads

/// Reads every partition of one topic on its own thread and records, for each record stamped after the
/// measurement start, receive time minus stamp (microseconds) into an HDR histogram.
final class LatencyConsumer: Sendable {
    private struct State {
        var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var measured = 0
        var unstamped = 0
        var stopRequested = false
        var failure: String?
    }

    private let state = Mutex(State())
    private let consumer: KafkaConsumer
    private let measureFromNanoseconds: Int64

    /// Assigns the topic's partitions (creating the topic on a broker that auto-creates), so records
    /// produced from now on are all read.
    init(brokers: String, topic: String, fetchWaitMilliseconds: Int, measureFromNanoseconds: Int64, logger: Logger) throws {
        consumer = try KafkaConsumer(brokers: brokers, configuration: [
            "fetch.wait.max.ms": "\(fetchWaitMilliseconds)",
            "client.id": "outbox-cdc-bench-consumer",
        ], logger: logger)
        try consumer.assign(topic: topic, from: .beginning)
        self.measureFromNanoseconds = measureFromNanoseconds
    }

    /// Starts the reading thread.
    func start() -> JoinableThread? {
        startBenchThread { [self] in
            while !state.withLock({ $0.stopRequested }) {
                let record: KafkaRecord?
                do {
                    record = try consumer.poll(timeout: .milliseconds(20))
                } catch {
                    state.withLock { $0.failure = "\(error)" }
                    return
                }
                let received = WallClock.nowNanoseconds()
                guard let record else { continue }
                guard let value = record.value, let stamp = StampedPayload.sentNanoseconds(in: value) else {
                    state.withLock { $0.unstamped += 1 }
                    continue
                }
                guard stamp >= measureFromNanoseconds else { continue }
                state.withLock {
                    $0.histogram.recordLatency(microseconds: (received - stamp) / 1000)
                    $0.measured += 1
                }
            }
        }
    }

    /// Waits until `expected` measured records have arrived or `timeout` passes, then stops the thread.
    func finish(expected: Int, timeout: Duration, thread: JoinableThread?) throws -> (histogram: Histogram<UInt64>, received: Int) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (measured, failure) = state.withLock { ($0.measured, $0.failure) }
            if let failure { throw BenchError("consumer: \(failure)") }
            if measured >= expected { break }
            usleepMilliseconds(5)
        }
        state.withLock { $0.stopRequested = true }
        thread?.join()
        consumer.close()
        return state.withLock { ($0.histogram, $0.measured) }
    }

    /// Records seen without a stamp (none are expected: every writer stamps).
    var unstampedCount: Int { state.withLock { $0.unstamped } }
}
