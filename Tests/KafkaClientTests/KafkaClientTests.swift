import Foundation
@testable import KafkaClient
import Synchronization
import Testing

/// Against the real Kafka-protocol broker from `scripts/dev-stack` (never a mock). Serialized: the machine
/// has two cores and the throughput check should not compete with the other tests.
@Suite("KafkaClient against a real broker", .serialized)
struct KafkaClientTests {
    @Test func librdkafkaVersionIsTwoX() {
        #expect(KafkaProducer.librdkafkaVersion.hasPrefix("2."), "loaded librdkafka \(KafkaProducer.librdkafkaVersion)")
    }

    /// What one test message looks like, by index, covering the edge cases byte for byte.
    struct TestMessage {
        let key: [UInt8]?
        let value: [UInt8]?
        let headers: [KafkaHeader]

        init(index: Int) {
            key = switch index % 50 {
            case 0: nil  // null key
            case 25: []  // empty key, distinct from null
            default: Array("key-\(index % 17)".utf8)
            }
            value = switch index {
            case 1: nil  // tombstone
            case 2: []  // empty, distinct from null
            case 3: (0 ... 255).map { UInt8($0) }
            default: index % 7 == 0
                ? (0 ..< 64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ index) }  // binary, includes 0x00
                : Array("{\"index\":\(index),\"text\":\"caf\u{e9} \u{1F600}\"}".utf8)
            }
            var headers = [KafkaHeader(name: "id", string: "event-\(index)")]
            if index % 10 == 0 {
                headers += [
                    KafkaHeader(name: "nullable", value: nil),
                    KafkaHeader(name: "empty", value: []),
                    KafkaHeader(name: "dup", string: "first"),
                    KafkaHeader(name: "dup", string: "second"),
                    KafkaHeader(name: "binary", value: [0x00, 0xff, 0x00, 0x80]),
                ]
            }
            self.headers = headers
        }
    }

    @Test func producedRecordsComeBackByteExactWithOneReportEach() throws {
        let brokers = try testBrokers()
        let topic = uniqueTopic("roundtrip")
        let count = 1000
        let collector = DeliveryCollector()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(brokers: brokers), logger: testLogger(),
            deliveryHandler: collector.handler
        )
        defer { producer.shutdown() }

        let startedAt = Int64(Date().timeIntervalSince1970 * 1000)
        for index in 0 ..< count {
            let message = TestMessage(index: index)
            let result = produceWaiting(
                producer, topic: topic, key: message.key, value: message.value, headers: message.headers,
                correlation: UInt64(index + 1)
            )
            #expect(result == .enqueued, "message \(index)")
        }
        #expect(producer.flush(timeout: .seconds(30)))
        // librdkafka frees a message (and stops counting it) just after its report's handler returns.
        let drainDeadline = ContinuousClock.now + .seconds(1)
        while producer.outstandingMessageCount > 0, ContinuousClock.now < drainDeadline {
            Thread.sleep(forTimeInterval: 0.001)
        }
        #expect(producer.outstandingMessageCount == 0)

        // Exactly one report per message, each with its own correlation, none failed.
        let reports = collector.all
        #expect(reports.count == count)
        let byCorrelation = Dictionary(grouping: reports, by: \.correlation)
        #expect(Set(byCorrelation.keys) == Set((1 ... UInt64(count)).map { $0 }))
        #expect(byCorrelation.values.allSatisfy { $0.count == 1 })
        for report in reports {
            #expect(report.error == nil, "correlation \(report.correlation): \(String(describing: report.error))")
            #expect(report.idHeader == nil)  // only extracted for failures
            #expect(report.topic == topic)
            #expect((0 ..< 4).contains(report.partition))
            #expect(report.offset >= 0)
        }

        let consumer = try KafkaConsumer(brokers: brokers, logger: testLogger())
        defer { consumer.close() }
        try consumer.assign(topic: topic, from: .beginning)
        let records = try consumer.consume(count: count, timeout: .seconds(30))
        #expect(records.count == count)

        var seen = Set<Int>()
        for record in records {
            let idBytes = try #require(record.header("id") ?? nil)
            let id = String(decoding: idBytes, as: UTF8.self)
            let index = try #require(Int(id.dropFirst("event-".count)))
            #expect(seen.insert(index).inserted, "record \(index) consumed twice")
            let expected = TestMessage(index: index)
            #expect(record.topic == topic)
            #expect(record.key == expected.key, "key of \(index)")
            #expect(record.value == expected.value, "value of \(index)")
            #expect(record.headers == expected.headers, "headers of \(index)")
            let report = try #require(byCorrelation[UInt64(index + 1)]?.first)
            #expect(record.partition == report.partition && record.offset == report.offset, "position of \(index)")
            #expect(record.timestampType == .createTime)
            #expect(record.timestamp >= startedAt - 1000 && record.timestamp <= startedAt + 120_000)
        }
        #expect(seen.count == count)

        // The edge cases, explicitly (the loop above compares them too).
        let byIndex = Dictionary(uniqueKeysWithValues: records.map {
            (Int(String(decoding: $0.header("id")!!, as: UTF8.self).dropFirst("event-".count))!, $0)
        })
        #expect(byIndex[1]?.value == nil)
        #expect(byIndex[2]?.value == [])
        #expect(byIndex[0]?.key == nil)
        #expect(byIndex[25]?.key == [])
        #expect(byIndex[10]?.header("nullable") == .some(nil))
        #expect(byIndex[10]?.header("empty") == .some([]))
    }

    @Test func keyedRecordsGoWhereJavaMurmur2PutsThem() throws {
        let brokers = try testBrokers()
        let topic = uniqueTopic("partitioner")
        let collector = DeliveryCollector()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(brokers: brokers), logger: testLogger(),
            deliveryHandler: collector.handler
        )
        defer { producer.shutdown() }
        let consumer = try KafkaConsumer(brokers: brokers, logger: testLogger())
        defer { consumer.close() }
        let partitionCount = try consumer.partitionCount(topic: topic)
        #expect(partitionCount == 4)

        // Keys of every length 0...40, so each murmur2 tail case and several blocks are covered.
        var generator = SystemRandomNumberGenerator()
        let keys: [[UInt8]] = (0 ..< 400).map { index in
            (0 ..< index % 41).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
        }
        for (index, key) in keys.enumerated() {
            #expect(produceWaiting(producer, topic: topic, key: key, value: [1], correlation: UInt64(index + 1)) == .enqueued)
        }
        #expect(producer.flush(timeout: .seconds(30)))
        let reports = collector.all
        #expect(reports.count == keys.count)
        for report in reports {
            let key = keys[Int(report.correlation) - 1]
            #expect(report.error == nil)
            #expect(report.partition == javaPartition(forKey: key, partitionCount: partitionCount), "key \(key)")
        }
    }

    @Test func recordsOfOneKeyStayInProductionOrder() throws {
        let brokers = try testBrokers()
        let topic = uniqueTopic("order")
        let collector = DeliveryCollector()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(brokers: brokers), logger: testLogger(),
            deliveryHandler: collector.handler
        )
        defer { producer.shutdown() }
        let count = 3000
        for sequence in 0 ..< count {
            let key = Array("customer-\(sequence % 7)".utf8)
            let value = Array(String(sequence).utf8)
            #expect(produceWaiting(producer, topic: topic, key: key, value: value, correlation: UInt64(sequence + 1)) == .enqueued)
        }
        #expect(producer.flush(timeout: .seconds(30)))
        #expect(collector.all.allSatisfy { $0.error == nil })

        let consumer = try KafkaConsumer(brokers: brokers, logger: testLogger())
        defer { consumer.close() }
        try consumer.assign(topic: topic)
        let records = try consumer.consume(count: count, timeout: .seconds(30))
        #expect(records.count == count)
        for (key, group) in Dictionary(grouping: records, by: { $0.key ?? [] }) {
            #expect(Set(group.map(\.partition)).count == 1, "key \(String(decoding: key, as: UTF8.self)) in one partition")
            let sequences = group.sorted { $0.offset < $1.offset }.map { Int(String(decoding: $0.value ?? [], as: UTF8.self))! }
            #expect(sequences == sequences.sorted(), "key \(String(decoding: key, as: UTF8.self)) in order")
        }
    }

    @Test func fullQueueIsReportedThenClearsAfterWaiting() throws {
        let brokers = try testBrokers()
        let topic = uniqueTopic("backpressure")
        let collector = DeliveryCollector()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(brokers: brokers, ["queue.buffering.max.messages": "10"]),
            logger: testLogger(), deliveryHandler: collector.handler
        )
        defer { producer.shutdown() }

        var correlation: UInt64 = 0
        var sawQueueFull = false
        for _ in 0 ..< 100_000 {
            correlation += 1
            let result = producer.produce(topic: topic, key: nil, value: [0x42], correlation: correlation)
            if result == .queueFull {
                sawQueueFull = true
                break
            }
            #expect(result == .enqueued)
        }
        #expect(sawQueueFull)
        #expect(correlation <= 11, "a queue of 10 was full after \(correlation - 1) messages")

        #expect(producer.waitForQueueSpace(timeout: .seconds(10)))
        // The same message (same correlation) is accepted now; a second report may race for the slot, so
        // allow a few rounds, as a real producer loop would.
        var retried = ProduceResult.queueFull
        for _ in 0 ..< 100 where retried == .queueFull {
            retried = producer.produce(topic: topic, key: nil, value: [0x42], correlation: correlation)
            if retried == .queueFull { producer.waitForQueueSpace(timeout: .seconds(10)) }
        }
        #expect(retried == .enqueued)
        #expect(producer.flush(timeout: .seconds(30)))
        let reports = collector.all
        #expect(reports.count == Int(correlation))
        #expect(reports.allSatisfy { $0.error == nil })
    }

    @Test func unreachableBrokerKeepsMessagesUntilShutdownReportsThem() throws {
        let port = try closedLoopbackPort()
        let collector = DeliveryCollector()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(brokers: "127.0.0.1:\(port)", ["log_level": "0"]),
            logger: testLogger(level: .critical), deliveryHandler: collector.handler
        )
        let topic = uniqueTopic("unreachable")
        for index in 1 ... 5 {
            let headers = [KafkaHeader(name: "id", string: "event-\(index)")]
            #expect(producer.produce(topic: topic, key: [1], value: [2], headers: headers, correlation: UInt64(index)) == .enqueued)
        }

        #expect(!producer.flush(timeout: .seconds(2)))
        #expect(producer.outstandingMessageCount >= 5)
        #expect(collector.count == 0, "with message.timeout.ms=0 nothing fails while the broker is away")
        #expect(producer.fatalError == nil)

        producer.shutdown()
        let reports = collector.all.sorted { $0.correlation < $1.correlation }
        #expect(reports.map(\.correlation) == [1, 2, 3, 4, 5], "every message gets a report at shutdown")
        for report in reports {
            let error = try #require(report.error)
            #expect(error.name == "_PURGE_QUEUE" || error.name == "_PURGE_INFLIGHT", "\(error)")
            #expect(error.isRetriable)
            #expect(report.idHeaderString == "event-\(report.correlation)")
        }
        producer.shutdown()  // idempotent
        #expect(producer.outstandingMessageCount == 0)
        #expect(producer.flush(timeout: .milliseconds(10)))
        guard case .failed(let error) = producer.produce(topic: topic, key: nil, value: nil, correlation: 9) else {
            Issue.record("produce after shutdown must fail")
            return
        }
        #expect(error.code == -197)  // _DESTROY
    }

    @Test func unknownPropertyIsNamed() throws {
        #expect {
            _ = try KafkaProducer(configuration: ["no.such.property": "1"], logger: testLogger()) { _ in }
        } throws: { error in
            guard let error = error as? KafkaError else { return false }
            return error.property == "no.such.property" && error.description.contains("no.such.property")
        }
    }

    @Test func invalidValueIsNamedWithItsProperty() throws {
        #expect {
            _ = try KafkaProducer(configuration: ["acks": "banana"], logger: testLogger()) { _ in }
        } throws: { error in
            guard let error = error as? KafkaError else { return false }
            return error.property == "acks" && error.description.contains("acks")
        }
    }

    @Test func secretValuesStayOutOfErrorsAndLogs() throws {
        let logs = CapturedLogs()
        let secrets = ["hunter2-password-value", "topsecret-value", "jaas-secret-value"]
        let configuration = [
            "sasl.password": secrets[0],
            "my.client.secret": secrets[1],  // unknown property whose name marks it sensitive
            "sasl.jaas.config": secrets[2],
        ]
        var thrown: KafkaError?
        do {
            _ = try KafkaProducer(configuration: configuration, logger: logs.logger()) { _ in }
        } catch {
            thrown = error
        }
        let error = try #require(thrown)
        #expect(error.property == "my.client.secret")
        for secret in secrets {
            #expect(!error.description.contains(secret))
            #expect(logs.all.allSatisfy { !$0.contains(secret) })
        }

        // librdkafka's own error text can quote a value; the redaction covers sensitive ones.
        let text = "Invalid value \"\(secrets[0])\" for configuration property \"sasl.password\""
        #expect(!LibrdkafkaConfiguration.redact(text, configuration: configuration).contains(secrets[0]))
        let partlyQuoted = "Unrecognized sasl.oauthbearer.config beginning at: clientSecret=abcd1234 scope=x"
        let redacted = LibrdkafkaConfiguration.redact(
            partlyQuoted, configuration: ["sasl.oauthbearer.config": "principal=me clientSecret=abcd1234 scope=x"]
        )
        #expect(!redacted.contains("abcd1234"), "\(redacted)")
        #expect(LibrdkafkaConfiguration.isSensitive("ssl.key.password"))
        #expect(!LibrdkafkaConfiguration.isSensitive("bootstrap.servers"))
    }

    @Test func secretsQuotedByLibrdkafkaLogsAreRedacted() throws {
        // librdkafka logs an unparsable sasl.oauthbearer.config verbatim while creating the client.
        let logs = CapturedLogs()
        let secret = "oauth-client-secret-4f9b"
        let producer = try KafkaProducer(
            configuration: [
                "bootstrap.servers": "127.0.0.1:\(try closedLoopbackPort())",
                "security.protocol": "sasl_plaintext",
                "sasl.mechanism": "OAUTHBEARER",
                "enable.sasl.oauthbearer.unsecure.jwt": "true",
                "sasl.oauthbearer.config": "principal=someone \(secret)",
            ],
            logger: logs.logger()
        ) { _ in }
        // librdkafka emits the line from its own thread: give it a bounded moment before shutting down.
        let deadline = ContinuousClock.now + .seconds(5)
        while !logs.all.contains(where: { $0.contains("[redacted]") }), ContinuousClock.now < deadline {
            usleep(10_000)
        }
        producer.shutdown()
        #expect(logs.all.contains { $0.contains("[redacted]") }, "librdkafka no longer quotes the value? \(logs.all)")
        #expect(logs.all.allSatisfy { !$0.contains(secret) }, "\(logs.all)")
    }

    @Test func deliveryReportsOfARunningProducerReachTheLogsOnlyAtTrace() throws {
        let brokers = try testBrokers()
        let logs = CapturedLogs()
        var logger = logs.logger()
        logger.logLevel = .debug
        let collector = DeliveryCollector()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(brokers: brokers), logger: logger, deliveryHandler: collector.handler
        )
        let topic = uniqueTopic("quiet")
        for index in 1 ... 50 {
            #expect(producer.produce(topic: topic, key: nil, value: [1], correlation: UInt64(index)) == .enqueued)
        }
        #expect(producer.flush(timeout: .seconds(30)))
        producer.shutdown()
        // Startup and shutdown lines only: nothing per message above trace.
        #expect(logs.all.count < 10, "\(logs.all)")
    }
}

@Suite("librdkafka timeouts")
struct TimeoutConversionTests {
    @Test func durationsRoundUpToWholeMillisecondsAndClamp() {
        #expect(Duration.zero.librdkafkaMilliseconds == 0)
        #expect(Duration.milliseconds(-5).librdkafkaMilliseconds == 0)
        #expect(Duration.nanoseconds(1).librdkafkaMilliseconds == 1)
        #expect(Duration.milliseconds(1500).librdkafkaMilliseconds == 1500)
        #expect(Duration.microseconds(1500).librdkafkaMilliseconds == 2)
        #expect(Duration.seconds(1_000_000_000).librdkafkaMilliseconds == Int32.max)
    }

    /// Asking whether a topic exists must not create it, even on a broker that creates topics on first use
    /// (Tansu does); reading it does create it there.
    @Test func topicExistsAsksWithoutCreatingTheTopic() throws {
        let consumer = try KafkaConsumer(brokers: try testBrokers(), logger: testLogger())
        defer { consumer.close() }
        let topic = uniqueTopic("exists")
        #expect(try !consumer.topicExists(topic))
        #expect(try !consumer.topicExists(topic), "the first question did not create it")
        #expect(try consumer.partitionCount(topic: topic) > 0)
        #expect(try consumer.topicExists(topic))
    }
}

@Suite("KafkaProducer.partitionCount")
struct PartitionCountTests {
    @Test func theCountIsTheClustersAndAnUnreachableClusterIsAnErrorThatPacesItself() throws {
        let brokers = try testBrokers()
        let topic = uniqueTopic("partition-count")
        let producer = try KafkaProducer(
            configuration: producerConfiguration(brokers: brokers), logger: testLogger(), deliveryHandler: { _ in }
        )
        defer { producer.shutdown() }
        let consumer = try KafkaConsumer(brokers: brokers, logger: testLogger())
        defer { consumer.close() }
        let count = try producer.partitionCount(topic: topic)
        #expect(Int(count) == (try consumer.partitionCount(topic: topic)))
        #expect(producer.partitionCountFailing(topic: topic) == nil)

        let port = try closedLoopbackPort()
        let unreachable = try KafkaProducer(
            configuration: producerConfiguration(brokers: "127.0.0.1:\(port)", ["log_level": "0"]), logger: testLogger(level: .critical),
            deliveryHandler: { _ in }
        )
        defer { unreachable.shutdown() }
        #expect(throws: KafkaError.self) { try unreachable.partitionCount(topic: topic, timeout: .milliseconds(200)) }
        let failingSince = try #require(unreachable.partitionCountFailing(topic: topic))
        // Asked again at once, it waits out the second since the last try rather than spin.
        let start = ContinuousClock.now
        #expect(throws: KafkaError.self) { try unreachable.partitionCount(topic: topic, timeout: .milliseconds(10)) }
        #expect(start.duration(to: .now) >= .milliseconds(500))
        #expect(unreachable.partitionCountFailing(topic: topic) == failingSince, "still failing since the first try")
    }
}
