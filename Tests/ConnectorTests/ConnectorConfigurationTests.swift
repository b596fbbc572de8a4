import Connector
import KafkaClient
import PostgresNames
import Testing
import WALReader

@Suite("Backoff")
struct BackoffTests {
    @Test func doublesFromInitialUpToTheCap() {
        var backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(30))
        let delays = (0..<10).map { _ in backoff.next() }
        #expect(delays == [
            .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16),
            .seconds(30), .seconds(30), .seconds(30), .seconds(30),
        ])
    }

    @Test func capIsExactWhenNotAPowerOfTwoMultiple() {
        var backoff = Backoff(initial: .milliseconds(300), maximum: .seconds(1))
        #expect((0..<5).map { _ in backoff.next() } == [
            .milliseconds(300), .milliseconds(600), .seconds(1), .seconds(1), .seconds(1),
        ])
    }

    @Test func resetStartsOverAtInitial() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(10))
        _ = backoff.next()
        _ = backoff.next()
        #expect(backoff.next() == .milliseconds(400))
        backoff.reset()
        #expect(backoff.next() == .milliseconds(100))
        #expect(backoff.next() == .milliseconds(200))
        backoff.reset()
        backoff.reset()
        #expect(backoff.next() == .milliseconds(100))
    }

    @Test func resetBeforeFirstUseIsHarmless() {
        var backoff = Backoff(initial: .seconds(1), maximum: .seconds(4))
        backoff.reset()
        #expect(backoff.next() == .seconds(1))
    }

    @Test func equalInitialAndMaximumIsConstant() {
        var backoff = Backoff(initial: .seconds(2), maximum: .seconds(2))
        #expect((0..<4).map { _ in backoff.next() } == [.seconds(2), .seconds(2), .seconds(2), .seconds(2)])
    }

    @Test func manyAttemptsStayAtTheCapWithoutOverflow() {
        var backoff = Backoff(initial: .nanoseconds(1), maximum: .seconds(3_600))
        var last = Duration.zero
        for _ in 0..<500 {
            let delay = backoff.next()
            #expect(delay >= last, "never shrinks without a reset")
            #expect(delay <= .seconds(3_600))
            last = delay
        }
        #expect(last == .seconds(3_600))
    }

    /// A copy carries its own progress: the configuration's template is not advanced by a connector's use.
    @Test func isAValueType() {
        let template = Backoff(initial: .seconds(1), maximum: .seconds(8))
        var used = template
        _ = used.next()
        _ = used.next()
        var fresh = template
        #expect(fresh.next() == .seconds(1))
        #expect(used.next() == .seconds(4))
    }
}

@Suite("ConnectorConfiguration.producerProperties")
struct ProducerPropertiesTests {
    static func configuration(brokers: String = "kafka-1:9092,kafka-2:9092", _ properties: [String: String] = [:]) throws -> ConnectorConfiguration {
        ConnectorConfiguration(
            database: try ConnectionSettings("host=localhost dbname=app"), brokers: brokers, kafkaProperties: properties
        )
    }

    @Test func defaultsMakeDeliveryAtLeastOnceAndOrdered() throws {
        let properties = try Self.configuration().producerProperties
        #expect(properties["enable.idempotence"] == "true")
        #expect(properties["acks"] == "all")
        #expect(properties["message.timeout.ms"] == "0")
        #expect(properties["partitioner"] == "murmur2_random")
        #expect(properties["linger.ms"] == "0")
        // One request in flight: more makes librdkafka's broker thread spin (see the defaults' comment).
        #expect(properties["max.in.flight.requests.per.connection"] == "1")
        #expect(properties["queue.buffering.max.messages"] == "20000")
        #expect(properties["queue.buffering.max.kbytes"] == "16384")
    }

    @Test func brokersAndClientIdAreSet() throws {
        let properties = try Self.configuration(brokers: "b1:9092,b2:9093").producerProperties
        #expect(properties["bootstrap.servers"] == "b1:9092,b2:9093")
        #expect(properties["client.id"] == "outbox-cdc")
        // Exactly the eight defaults plus those two: nothing else sneaks in.
        #expect(properties.count == 10)
    }

    @Test func userPropertiesOverrideDefaultsAndAddNewKeys() throws {
        let properties = try Self.configuration([
            "linger.ms": "5", "acks": "1", "compression.type": "zstd", "security.protocol": "SASL_SSL",
        ]).producerProperties
        #expect(properties["linger.ms"] == "5")
        #expect(properties["acks"] == "1")
        #expect(properties["compression.type"] == "zstd")
        #expect(properties["security.protocol"] == "SASL_SSL")
        // Untouched defaults stay.
        #expect(properties["enable.idempotence"] == "true")
        #expect(properties["message.timeout.ms"] == "0")
        #expect(properties["bootstrap.servers"] == "kafka-1:9092,kafka-2:9092")
        #expect(properties.count == 12)
    }

    /// Documented order: defaults, then the brokers, then the user's properties.
    @Test func userPropertiesWinOverBrokersAndClientId() throws {
        let properties = try Self.configuration(brokers: "from-flag:9092", [
            "bootstrap.servers": "from-property:9092", "client.id": "billing-relay",
        ]).producerProperties
        #expect(properties["bootstrap.servers"] == "from-property:9092")
        #expect(properties["client.id"] == "billing-relay")
    }

    @Test func defaultsTableIsNotChangedByAConfiguration() throws {
        _ = try Self.configuration(["acks": "0"]).producerProperties
        #expect(KafkaProducer.defaultConfiguration["acks"] == "all")
        #expect(KafkaProducer.defaultConfiguration["bootstrap.servers"] == nil)
    }
}
