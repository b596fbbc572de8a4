import KafkaClient
import Synchronization
import Testing

extension KafkaClientTests {
/// Throughput is printed, not asserted: the machine is shared and noisy. Compare ratios between runs.
/// Nested in the serialized suite so nothing else runs meanwhile. For meaningful numbers run it optimized:
/// `swift test -c release -Xswiftc -enable-testing --filter KafkaClientTests.KafkaClientTests/Throughput`.
@Suite("KafkaProducer throughput")
struct Throughput {
    @Test(arguments: ["0", "1", "5"])
    func produceTwoHundredThousandRecords(lingerMilliseconds: String) throws {
        let brokers = try testBrokers()
        let topic = uniqueTopic("throughput")
        let count = 200_000
        let collector = FailureCounter()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(brokers: brokers, ["linger.ms": lingerMilliseconds]),
            logger: testLogger(), deliveryHandler: collector.handler
        )
        defer { producer.shutdown() }
        // Warm up: topic creation and the idempotent producer's id, outside the measurement.
        #expect(producer.produce(topic: topic, key: nil, value: [0], correlation: UInt64.max) == .enqueued)
        #expect(producer.flush(timeout: .seconds(30)))

        let value = [UInt8](repeating: 0x61, count: 200)
        let keys = (0 ..< 1000).map { Array("aggregate-\($0)".utf8) }
        let headers = [KafkaHeader(name: "id", string: "3f1c9a2e-8d47-4b8e-9a51-0c2d6f7e1b3a")]
        var queueFullCount = 0
        let clock = ContinuousClock()
        let started = clock.now
        for index in 0 ..< count {
            while true {
                let result = producer.produce(
                    topic: topic, key: keys[index % keys.count][...], value: value[...], headers: headers,
                    correlation: UInt64(index + 1)
                )
                if result == .enqueued { break }
                #expect(result == .queueFull)
                queueFullCount += 1
                producer.waitForQueueSpace(timeout: .seconds(5))
            }
        }
        let enqueued = clock.now - started
        #expect(producer.flush(timeout: .seconds(60)))
        let elapsed = clock.now - started
        #expect(collector.delivered == count + 1)
        #expect(collector.failed == 0)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print(
            "throughput linger.ms=\(lingerMilliseconds): \(count) × 200 B delivered in \(elapsed)"
                + " → \(Int(Double(count) / seconds)) msgs/s (all enqueued after \(enqueued), \(queueFullCount) queue-full waits)"
        )
    }
}
}

/// Counts reports without storing them (storing 200,000 reports would measure the test, not the producer).
final class FailureCounter: Sendable {
    private let counts = Mutex<(delivered: Int, failed: Int)>((0, 0))

    var handler: @Sendable (DeliveryReport) -> Void {
        { report in self.counts.withLock { $0.delivered += 1; if report.error != nil { $0.failed += 1 } } }
    }

    var delivered: Int { counts.withLock { $0.delivered } }
    var failed: Int { counts.withLock { $0.failed } }
}
