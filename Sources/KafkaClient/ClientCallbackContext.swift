import CLibRdKafka
import Clocks
import Foundation
import Logging
import Synchronization

/// The Swift side of librdkafka's callbacks for one client instance, reached from C through the
/// configuration opaque (`rd_kafka_conf_set_opaque`).
///
/// librdkafka holds only an unretained pointer (`Unmanaged.passUnretained`); the owning client holds the
/// strong reference from before `rd_kafka_new` until after `rd_kafka_destroy` returns, so every callback
/// (including the log callback, which librdkafka calls from its own internal threads) sees a live object.
///
/// `@unchecked Sendable`: its stored properties are immutable and `Sendable`, or guarded by a `Mutex`;
/// subclasses document their own additional state.
class ClientCallbackContext: @unchecked Sendable {
    let logger: Logger
    private let fatalErrorHandler: (@Sendable (KafkaError) -> Void)?
    private let recordedFatalError = Mutex<KafkaError?>(nil)
    /// Values of sensitive properties, scrubbed from every librdkafka text before it is logged or thrown.
    private let secrets: [String]
    /// Which brokers are down, so that a broker refusing connections is logged once, not at every attempt.
    private let connectivity = Mutex(BrokerConnectivity())
    /// Some broker is down: only then are librdkafka's statistics read (for brokers coming back up).
    private let someBrokerDown = Atomic(false)
    /// The configuration leaves `statistics.interval.ms` to us.
    private let setsStatisticsInterval: Bool

    /// How often librdkafka reports its brokers' states, which is how a broker coming back is noticed
    /// (librdkafka logs no line when a connection succeeds). Its statistics are read only while a broker is down.
    static let statisticsInterval = "1000"

    init(configuration: [String: String], logger: Logger, fatalErrorHandler: (@Sendable (KafkaError) -> Void)?) {
        self.logger = logger
        self.fatalErrorHandler = fatalErrorHandler
        self.secrets = LibrdkafkaConfiguration.secretValues(of: configuration)
        self.setsStatisticsInterval = configuration["statistics.interval.ms"] == nil
    }

    /// The first fatal error raised by librdkafka, if any.
    var fatalError: KafkaError? { recordedFatalError.withLock { $0 } }

    /// Registers this context and the log and error callbacks on `conf`. The caller must keep the context
    /// alive for as long as any client made from `conf` exists (see the type's documentation).
    func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_log_cb(conf) { handle, level, facility, message in
            guard let handle, let opaque = rd_kafka_opaque(handle) else { return }
            let context = Unmanaged<ClientCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
            context.librdkafkaLogged(
                client: String(cString: rd_kafka_name(handle)),
                level: level,
                facility: facility.map { String(cString: $0) } ?? "",
                message: message.map { String(cString: $0) } ?? ""
            )
        }
        rd_kafka_conf_set_error_cb(conf) { handle, code, reason, opaque in
            guard let opaque else { return }
            let context = Unmanaged<ClientCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
            context.errorReported(handle: handle, code: code, reason: reason.map { String(cString: $0) } ?? "")
        }
        if setsStatisticsInterval {
            var reason = [CChar](repeating: 0, count: 256)
            // A valid value of a known property: it cannot fail.
            _ = rd_kafka_conf_set(conf, "statistics.interval.ms", Self.statisticsInterval, &reason, reason.count)
        }
        rd_kafka_conf_set_stats_cb(conf) { _, json, length, opaque in
            guard let json, let opaque else { return 0 }
            let context = Unmanaged<ClientCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
            context.statisticsReceived(UnsafeRawBufferPointer(start: json, count: length))
            // 0: librdkafka frees the text.
            return 0
        }
    }

    /// A connection to a broker failed or was lost: logged when the broker goes down, then every
    /// `BrokerConnectivity.reminderInterval` while it stays down; the attempts between at debug level.
    private func connectionFailed(_ librdkafkaText: String) {
        let text = BrokerConnectivity.withoutThreadName(librdkafkaText)
        let broker = BrokerConnectivity.brokerName(in: text) ?? ""
        let change = connectivity.withLock { $0.failed(broker: broker, reason: text, at: .now) }
        someBrokerDown.store(true, ordering: .relaxed)
        guard let change else {
            logger.debug("\(text)", metadata: ["kafka.broker": "\(broker)"])
            return
        }
        log(change)
    }

    /// librdkafka's statistics (JSON), on the thread that polls: while a broker is down, whether it is up
    /// again (see `BrokerConnectivity.brokersReported`).
    private func statisticsReceived(_ json: UnsafeRawBufferPointer) {
        guard someBrokerDown.load(ordering: .relaxed),
              let statistics = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let brokers = statistics["brokers"] as? [String: Any]
        else { return }
        let up = brokers.compactMap { name, value in ((value as? [String: Any])?["state"] as? String) == "UP" ? name : nil }
        guard !up.isEmpty else { return }
        let changes = connectivity.withLock { connectivity in
            let changes = connectivity.brokersReported(up: Set(up), known: Set(brokers.keys), at: .now)
            someBrokerDown.store(!connectivity.downBrokers.isEmpty, ordering: .relaxed)
            return changes
        }
        changes.forEach(log)
    }

    private func log(_ change: BrokerConnectivity.Change) {
        switch change {
        case .wentDown(let broker, let reason):
            logger.warning("cannot reach Kafka broker \(broker.isEmpty ? "(unnamed)" : broker); retrying, and saying so again every \(BrokerConnectivity.defaultReminderInterval.secondsText) s while it fails: \(reason)", metadata: [
                "kafka.broker": "\(broker)",
            ])
        case .stillDown(let broker, let reason, let downFor, let attempts):
            logger.warning("still cannot reach Kafka broker \(broker.isEmpty ? "(unnamed)" : broker), for \(downFor.secondsText) s and \(attempts) attempts: \(reason)", metadata: [
                "kafka.broker": "\(broker)", "kafka.down_ms": .stringConvertible(downFor.milliseconds), "kafka.attempts": .stringConvertible(attempts),
            ])
        case .cameBack(let broker, let downFor, let attempts):
            logger.info("Kafka broker \(broker.isEmpty ? "" : broker + " ")is reachable again after \(downFor.secondsText) s and \(attempts) failed attempts", metadata: [
                "kafka.broker": "\(broker)", "kafka.down_ms": .stringConvertible(downFor.milliseconds), "kafka.attempts": .stringConvertible(attempts),
            ])
        }
    }

    /// Routes a librdkafka log line (syslog severity levels) to the logger.
    private func librdkafkaLogged(client: String, level: Int32, facility: String, message: String) {
        // FAIL: a connection attempt failed or a connection was lost; the error callback reports the same.
        if facility == "FAIL" {
            connectionFailed(LibrdkafkaConfiguration.redact(message, secrets: secrets))
            return
        }
        let logLevel: Logger.Level
        switch level {
        case ...2: logLevel = .critical
        case 3: logLevel = .error
        case 4: logLevel = .warning
        case 5: logLevel = .notice
        case 6: logLevel = .info
        default: logLevel = .debug
        }
        logger.log(
            level: logLevel, "\(LibrdkafkaConfiguration.redact(message, secrets: secrets))",
            metadata: ["kafka.client": "\(client)", "kafka.log.facility": "\(facility)"]
        )
    }

    /// Served by the client's poll call. librdkafka reports most errors here as informational (it retries on
    /// its own); only `_FATAL` means the instance is unusable, and then `rd_kafka_fatal_error` names the cause.
    private func errorReported(handle: OpaquePointer?, code: Int32, reason: String) {
        switch code {
        case RD_KAFKA_RESP_ERR__TRANSPORT.rawValue, RD_KAFKA_RESP_ERR__RESOLVE.rawValue:
            connectionFailed(LibrdkafkaConfiguration.redact(reason, secrets: secrets))
            return
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue:
            // Each broker's own outage is logged as it begins.
            logger.debug("librdkafka: \(LibrdkafkaConfiguration.redact(reason, secrets: secrets))")
            return
        default:
            break
        }
        guard code == RD_KAFKA_RESP_ERR__FATAL.rawValue, let handle else {
            logger.warning(
                "librdkafka reported an error: \(LibrdkafkaConfiguration.redact(reason, secrets: secrets))",
                metadata: [
                    "kafka.error.code": .stringConvertible(code),
                    "kafka.error.name": "\(String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code))))",
                ]
            )
            return
        }
        var text = [CChar](repeating: 0, count: 512)
        let cause = rd_kafka_fatal_error(handle, &text, text.count)
        let error = KafkaError(
            code: cause.rawValue,
            message: LibrdkafkaConfiguration.redact(String(nulTerminated: text), secrets: secrets),
            isFatal: true,
            isRetriable: false
        )
        let isFirst = recordedFatalError.withLock { recorded in
            guard recorded == nil else { return false }
            recorded = error
            return true
        }
        guard isFirst else { return }
        logger.error(
            "librdkafka raised a fatal error; the client must be shut down: \(error.message)",
            metadata: ["kafka.error.code": .stringConvertible(error.code), "kafka.error.name": "\(error.name)"]
        )
        fatalErrorHandler?(error)
    }
}
