import ArgumentParser
import Clocks
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
        switch LogFormat(rawValue: formatText.lowercased()) {
        case .text:
            LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: .text, logLevel: level) }
        case .json:
            LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: .json, logLevel: level) }
        case nil:
            throw UsageError("--log-format must be text or json, not '\(formatText)'")
        }
        return Logger(label: "outbox-cdc")
    }

    /// The format asked for by the command line, the environment or the `--config` file, read before the
    /// arguments are parsed: a command line that does not parse is reported in it too.
    static func requestedFormat(arguments: [String], environment: Environment) -> LogFormat {
        func value(of flag: String) -> String? {
            var found: String?
            for (index, argument) in arguments.enumerated() {
                if argument == flag, index + 1 < arguments.count {
                    found = arguments[index + 1]
                } else if argument.hasPrefix(flag + "=") {
                    found = String(argument.dropFirst(flag.count + 1))
                }
            }
            return found
        }
        var environment = environment
        if let path = value(of: "--config") ?? environment["OUTBOX_CDC_CONFIG"], let file = try? ConfigFile(path: path) {
            environment.layer(file)
        }
        let text = value(of: "--log-format") ?? environment["OUTBOX_CDC_LOG_FORMAT"] ?? "text"
        return LogFormat(rawValue: text.lowercased()) ?? .text
    }
}

enum LogFormat: String {
    case text, json
}

/// One line a log event on standard error, written with one write(2) so that concurrent lines never
/// interleave. Both formats carry a UTC timestamp with milliseconds, and neither lets a newline inside a
/// message or a value (libpq's messages have them) start a line of its own.
///
/// - text: `<time> <level> <label>: <key=value …> [<module>] <message>`.
/// - json: `{"ts":…,"level":…,"logger":…,"msg":…,<metadata>…}`; a value logged as a number (or a Bool) is
///   written as one, every other value as a string.
struct LineLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, format: LogFormat, logLevel: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        let line: String
        switch format {
        case .json:
            line = Self.jsonLine(level: event.level, label: label, message: event.message.description, metadata: fields)
        case .text:
            line = Self.textLine(level: event.level, label: label, source: event.source, message: event.message.description, metadata: fields)
        }
        Self.writeToStandardError(line)
    }

    static func writeToStandardError(_ line: String) {
        var bytes = Array(line.utf8)
        _ = Glibc.write(STDERR_FILENO, &bytes, bytes.count)
    }

    static func jsonLine(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var line = "{\"ts\":\(quoted(timestamp())),\"level\":\(quoted(level.rawValue)),\"logger\":\(quoted(label)),\"msg\":\(quoted(message))"
        for key in metadata.keys.sorted() {
            if let value = metadata[key] {
                line += ",\(quoted(key)):\(json(value))"
            }
        }
        return line + "}\n"
    }

    static func textLine(level: Logger.Level, label: String, source: String, message: String, metadata: Logger.Metadata) -> String {
        var line = "\(timestamp()) \(level) \(label):"
        for key in metadata.keys.sorted() {
            if let value = metadata[key] { line += " \(key)=\(escapingLineBreaks(value.description))" }
        }
        return line + " [\(source)] \(escapingLineBreaks(message))\n"
    }

    /// A metadata value as JSON: numbers and Bools logged as such (`.stringConvertible(count)`) stay numbers
    /// and Bools; a non-finite number, and everything else, is a string.
    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text):
            return quoted(text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let integer as any BinaryInteger:
                return integer.description
            case let real as any BinaryFloatingPoint where Double(real).isFinite:
                return Double(real).description
            case let truth as Bool:
                return truth ? "true" : "false"
            default:
                return quoted(convertible.description)
            }
        case .array(let values):
            return "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let values):
            return "{" + values.keys.sorted().compactMap { key in values[key].map { quoted(key) + ":" + json($0) } }.joined(separator: ",") + "}"
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

    /// Line breaks written as `\n` and `\r`, so that a text line stays one line (a tab is harmless).
    private static func escapingLineBreaks(_ text: String) -> String {
        guard text.contains(where: { $0.isNewline }) else { return text }
        var output = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}": output += "\\u{\(String(scalar.value, radix: 16))}"
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output
    }

    /// RFC 3339 UTC time with milliseconds.
    static func timestamp() -> String {
        let time = WallClock.now()
        var seconds = time_t(time.seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(time.nanoseconds / 1_000_000), 3))Z"
    }
}
