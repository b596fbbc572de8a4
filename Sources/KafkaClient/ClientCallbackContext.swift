import CLibRdKafka
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

    init(configuration: [String: String], logger: Logger, fatalErrorHandler: (@Sendable (KafkaError) -> Void)?) {
        self.logger = logger
        self.fatalErrorHandler = fatalErrorHandler
        self.secrets = LibrdkafkaConfiguration.secretValues(of: configuration)
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
    }

    /// Routes a librdkafka log line (syslog severity levels) to the logger.
    private func librdkafkaLogged(client: String, level: Int32, facility: String, message: String) {
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
