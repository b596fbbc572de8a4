import ArgumentParser
import Glibc
import Logging

/// `--log-level` and `--log-format`, shared by every command. Only the executable bootstraps swift-log.
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical. [env: OUTBOX_CDC_LOG_LEVEL] (default: info)")
    var level: String?

    @Option(name: .customLong("log-format"), help: "text or json. [env: OUTBOX_CDC_LOG_FORMAT] (default: text)")
    var format: String?

    func bootstrap(environment: Environment) throws -> Logger {
        let levelText = environment.resolve(level, "OUTBOX_CDC_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw UsageError("--log-level must be one of trace, debug, info, notice, warning, error, critical; not '\(levelText)'")
        }
        let formatText = environment.resolve(format, "OUTBOX_CDC_LOG_FORMAT") ?? "text"
        switch formatText.lowercased() {
        case "text":
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case "json":
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, logLevel: level) }
        default:
            throw UsageError("--log-format must be text or json, not '\(formatText)'")
        }
        return Logger(label: "outbox-cdc")
    }
}

/// One JSON object a line on standard error: `{"ts":…,"level":…,"msg":…,<metadata>…}`.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, logLevel: Logger.Level) {
        self.label = label
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        var line = "{\"ts\":\(Self.quoted(Self.timestamp())),\"level\":\(Self.quoted(event.level.rawValue)),\"logger\":\(Self.quoted(label)),\"msg\":\(Self.quoted(event.message.description))"
        for key in fields.keys.sorted() {
            if let value = fields[key] {
                line += ",\(Self.quoted(key)):\(Self.quoted(Self.render(value)))"
            }
        }
        line += "}\n"
        // One write(2) a line, so concurrent log lines never interleave.
        var bytes = Array(line.utf8)
        _ = Glibc.write(STDERR_FILENO, &bytes, bytes.count)
    }

    private static func render(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return "[" + values.map(render).joined(separator: ", ") + "]"
        case .dictionary(let values): return "{" + values.sorted { $0.key < $1.key }.map { "\($0.key): \(render($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    static func quoted(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }

    /// RFC 3339 UTC time with milliseconds.
    private static func timestamp() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var seconds = time_t(time.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(time.tv_nsec / 1_000_000), 3))Z"
    }
}
