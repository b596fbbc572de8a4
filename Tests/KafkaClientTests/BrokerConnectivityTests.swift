@testable import KafkaClient
import Testing

@Suite("BrokerConnectivity")
struct BrokerConnectivityTests {
    let start = ContinuousClock.now
    func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    @Test func aBrokerGoingDownIsSaidOnceThenAtTheReminderPaceThenItsReturn() {
        var connectivity = BrokerConnectivity(reminderInterval: .seconds(30))
        let broker = "kafka-1:9092/1"
        #expect(connectivity.failed(broker: broker, reason: "refused", at: at(0)) == .wentDown(broker: broker, reason: "refused"))
        for second in 1 ..< 30 {
            #expect(connectivity.failed(broker: broker, reason: "refused", at: at(second)) == nil, "attempt at \(second) s")
        }
        #expect(connectivity.failed(broker: broker, reason: "timed out", at: at(30)) == .stillDown(broker: broker, reason: "timed out", downFor: .seconds(30), attempts: 31))
        #expect(connectivity.failed(broker: broker, reason: "refused", at: at(31)) == nil)
        let both: Set = [broker, "kafka-2:9092/2"]
        #expect(connectivity.brokersReported(up: ["kafka-2:9092/2"], known: both, at: at(40)).isEmpty, "another broker being up ends nothing")
        #expect(connectivity.brokersReported(up: [broker], known: both, at: at(41)) == [.cameBack(broker: broker, downFor: .seconds(41), attempts: 32)])
        #expect(connectivity.brokersReported(up: [broker], known: both, at: at(42)).isEmpty, "back once")
        #expect(connectivity.downBrokers.isEmpty)
        #expect(connectivity.failed(broker: broker, reason: "refused", at: at(50)) == .wentDown(broker: broker, reason: "refused"), "a new outage")
    }

    @Test func eachBrokerHasItsOwnOutage() {
        var connectivity = BrokerConnectivity()
        #expect(connectivity.failed(broker: "a:1/1", reason: "x", at: at(0)) != nil)
        #expect(connectivity.failed(broker: "b:1/2", reason: "x", at: at(1)) != nil)
        #expect(connectivity.downBrokers == ["a:1/1", "b:1/2"])
        #expect(connectivity.brokersReported(up: ["b:1/2"], known: ["a:1/1", "b:1/2"], at: at(2)).count == 1)
        #expect(connectivity.downBrokers == ["a:1/1"])
    }

    @Test func aBootstrapBrokerReplacedByTheClustersOwnEndsItsOutage() {
        var connectivity = BrokerConnectivity()
        _ = connectivity.failed(broker: "k:9/bootstrap", reason: "refused", at: at(0))
        _ = connectivity.failed(broker: "", reason: "no broker named", at: at(0))
        #expect(connectivity.brokersReported(up: [], known: ["k:9/bootstrap"], at: at(3)).isEmpty, "still down")
        #expect(connectivity.brokersReported(up: [], known: [], at: at(4)).isEmpty, "gone, but none is up: nothing is known to answer")
        #expect(connectivity.brokersReported(up: ["k:9/1"], known: ["k:9/1"], at: at(5)) == [
            .cameBack(broker: "", downFor: .seconds(5), attempts: 1),
            .cameBack(broker: "k:9/bootstrap", downFor: .seconds(5), attempts: 1),
        ])
        #expect(connectivity.downBrokers.isEmpty)
    }

    @Test func theBrokerIsNamedFromLibrdkafkasText() {
        #expect(BrokerConnectivity.brokerName(in: "[thrd:127.0.0.1:9/bootstrap]: 127.0.0.1:9/bootstrap: Connect to ipv4#127.0.0.1:9 failed: Connection refused") == "127.0.0.1:9/bootstrap")
        #expect(BrokerConnectivity.brokerName(in: "kafka-1:9092/1: Disconnected (after 12ms in state UP)") == "kafka-1:9092/1")
        #expect(BrokerConnectivity.brokerName(in: "[::1]:9092/bootstrap: Connect to ipv6#[::1]:9092 failed") == "[::1]:9092/bootstrap")
        #expect(BrokerConnectivity.brokerName(in: "1/1 brokers are down") == nil)
        #expect(BrokerConnectivity.withoutThreadName("[thrd:a:1/1]: a:1/1: refused") == "a:1/1: refused")
    }
}
