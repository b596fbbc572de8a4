import Foundation
import KafkaClient
import Logging
import Synchronization
import Testing
import TestSupport

/// The broker under test, from `eval "$(scripts/dev-stack env)"`. Missing is a failure, never a skip.
func testBrokers() throws -> String {
    let value = ProcessInfo.processInfo.environment["OUTBOX_CDC_BROKERS"]
    try #require(
        !KafkaProducer.librdkafkaVersion.hasPrefix("2.0."),
        "librdkafka \(KafkaProducer.librdkafkaVersion) is loaded; it fails Tansu's ApiVersions handshake. Run `eval \"$(scripts/dev-stack env)\"` to put librdkafka 2.16 on LD_LIBRARY_PATH"
    )
    return try #require(
        value.flatMap { $0.isEmpty ? nil : $0 },
        "OUTBOX_CDC_BROKERS is not set: run `eval \"$(scripts/dev-stack env)\"` (which also puts librdkafka 2.16 on LD_LIBRARY_PATH) before `swift test`"
    )
}

func uniqueTopic(_ purpose: String) -> String {
    "kafkaclient-\(purpose)-\(UInt32.random(in: 0 ... .max))"
}

/// Warnings and above to standard error, without bootstrapping the process-wide logging system.
func testLogger(_ label: String = "KafkaClientTests", level: Logger.Level = .warning) -> Logger {
    var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = level
    return logger
}

/// `KafkaProducer.defaultConfiguration` pointed at the test broker, with `overrides` applied.
func producerConfiguration(brokers: String, _ overrides: [String: String] = [:]) -> [String: String] {
    var configuration = KafkaProducer.defaultConfiguration
    configuration["bootstrap.servers"] = brokers
    configuration.merge(overrides) { _, override in override }
    return configuration
}

/// Collects delivery reports from the poll thread.
final class DeliveryCollector: Sendable {
    private let reports = Mutex<[DeliveryReport]>([])

    var handler: @Sendable (DeliveryReport) -> Void {
        { report in self.reports.withLock { $0.append(report) } }
    }

    var all: [DeliveryReport] { reports.withLock { $0 } }
    var count: Int { reports.withLock { $0.count } }
}

/// Keeps every log message, to check what a component logged.
final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }

    func logger() -> Logger {
        var logger = Logger(label: "captured") { _ in CapturingLogHandler(sink: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        sink.append("\(event.level) \(event.message) \(event.metadata ?? [:])")
    }
}

/// Produces, waiting on `.queueFull` as a real producer would. Returns the non-queue-full result.
@discardableResult
func produceWaiting(
    _ producer: KafkaProducer, topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = [],
    correlation: UInt64
) -> ProduceResult {
    while true {
        let result = producer.produce(topic: topic, key: key, value: value, headers: headers, correlation: correlation)
        guard result == .queueFull else { return result }
        producer.waitForQueueSpace(timeout: .seconds(1))
    }
}


/// The partition the Java client's default partitioner picks for a non-null key.
func javaPartition(forKey key: [UInt8], partitionCount: Int) -> Int32 {
    Int32((kafkaMurmur2(key) & 0x7fff_ffff) % UInt32(partitionCount))
}

/// A loopback port with nothing listening: bound to learn a free port, then closed.
func closedLoopbackPort() throws -> UInt16 {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try #require(descriptor >= 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
        }
    }
    try #require(bound)
    return UInt16(bigEndian: address.sin_port)
}
