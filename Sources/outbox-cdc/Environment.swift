import Foundation
import Glibc
import OperatorSettings
import WALReader

/// Reads `OUTBOX_CDC_*` variables: each option falls back to its variable, then to its default.
struct Environment {
    var values: [String: String]
    /// Where the configuration file holds each variable it supplied (a variable set in the process wins
    /// over the file), so that a bad value is named by its key and line rather than by a variable never set.
    var fileOrigins: [String: SettingOrigin] = [:]
    /// `kafka-property` from the configuration file, its lowest layer of librdkafka properties.
    var configKafkaProperties: [ConfigFile.KafkaEntry] = []
    /// `kafka-secret-file` from the configuration file: property → path.
    var configKafkaSecretFiles: [ConfigFile.KafkaEntry] = []

    static var current: Environment {
        var values: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let separator = pair.firstIndex(of: "=") {
                values[String(pair[..<separator])] = String(pair[pair.index(after: separator)...])
            }
            entry += 1
        }
        return Environment(values: values)
    }

    subscript(name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    /// A flag's value, else its variable's, else nil.
    func resolve(_ flag: String?, _ variable: String) -> String? {
        flag ?? self[variable]
    }

    /// Where `variable`'s value came from: the process environment, or a key of the configuration file.
    func origin(of variable: String) -> SettingOrigin {
        fileOrigins[variable] ?? .variable(variable)
    }

    /// Where `resolve(flag, variable)` takes its value from.
    func origin(flag: String?, named flagName: String, variable: String) -> SettingOrigin {
        flag == nil ? origin(of: variable) : .flag(flagName)
    }

    /// A whole-number setting: the flag, else the variable, checked against `range`; nil when neither is set.
    func integer(_ flag: Int?, _ variable: String, _ name: String, range: ClosedRange<Int>) throws -> Int? {
        let value: Int
        if let flag {
            value = flag
        } else if let text = self[variable] {
            guard let parsed = Int(text) else { throw UsageError("\(origin(of: variable)) must be a whole number, not '\(text)'") }
            value = parsed
        } else {
            return nil
        }
        guard range.contains(value) else {
            let named = flag == nil ? origin(of: variable).description : name
            throw UsageError("\(named) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
        }
        return value
    }

    /// A boolean variable: 1/true/yes/on or 0/false/no/off.
    func bool(_ variable: String) throws -> Bool? {
        guard let value = self[variable] else { return nil }
        switch value.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw UsageError("\(origin(of: variable)) must be true or false, not '\(value)'")
        }
    }

    /// The flag's value, else the variable's; nil when neither is set. A value that is empty or only blanks
    /// is refused: `--brokers "$KAFKA"` with KAFKA unset gives an empty argument, which would otherwise
    /// be taken for a setting. (An empty variable counts as unset, as everywhere; an empty key in the
    /// configuration file does not, because someone wrote it.)
    func nonBlank(_ flag: String?, named flagName: String, variable: String, needs: String) throws -> String? {
        let text: String
        if let flag {
            text = flag
        } else if let value = values[variable], !value.isEmpty || fileOrigins[variable] != nil {
            text = value
        } else {
            return nil
        }
        guard text.contains(where: { !$0.isWhitespace }) else {
            throw UsageError("\(origin(flag: flag, named: flagName, variable: variable)) is blank: \(flagName) / \(variable) needs \(needs) (a shell variable that is not set expands to nothing)")
        }
        return text
    }

    /// `--brokers`, else `OUTBOX_CDC_BROKERS`; nil when neither is set.
    func brokers(_ flag: String?) throws -> String? {
        try nonBlank(flag, named: "--brokers", variable: "OUTBOX_CDC_BROKERS", needs: "Kafka bootstrap servers, e.g. kafka:9092")
    }

    /// `--db`, else `OUTBOX_CDC_DB`, parsed; `purpose` finishes the "required" message.
    /// The password comes from `--db-password-file` / `OUTBOX_CDC_DB_PASSWORD_FILE` when given, so that it
    /// need not appear in the URL, the environment or the process list.
    func databaseSettings(_ flag: String?, passwordFile: String? = nil, purpose: String) throws -> ConnectionSettings {
        guard let text = try nonBlank(flag, named: "--db", variable: "OUTBOX_CDC_DB", needs: "the PostgreSQL connection URL, e.g. postgres://app@db:5432/app") else {
            throw UsageError("--db is required (or set OUTBOX_CDC_DB): \(purpose)")
        }
        var settings: ConnectionSettings
        do {
            settings = try ConnectionSettings(text)
        } catch {
            throw UsageError("\(origin(flag: flag, named: "--db", variable: "OUTBOX_CDC_DB")): \(error)")
        }
        if let path = resolve(passwordFile, "OUTBOX_CDC_DB_PASSWORD_FILE") {
            let origin = origin(flag: passwordFile, named: "--db-password-file", variable: "OUTBOX_CDC_DB_PASSWORD_FILE")
            settings.password = try readSecret(path, for: origin.description)
            settings.passwordOrigin = "\(origin) \(path)"
        }
        return settings
    }
}

/// Where a setting's value came from, as a message about a bad value names it.
enum SettingOrigin: CustomStringConvertible {
    /// A command-line flag, `--db`.
    case flag(String)
    /// A variable of the process environment, `OUTBOX_CDC_DB`.
    case variable(String)
    /// A key of the YAML configuration file (for Kafka maps, the key and the property: `kafka-property linger.ms`).
    case configFile(key: String, path: String, line: Int?)

    var description: String {
        switch self {
        case .flag(let name), .variable(let name): name
        case .configFile(let key, let path, let line): "\(key) (\(path)\(line.map { ", line \($0)" } ?? ""))"
        }
    }
}

extension ConnectionSettings {
    /// A warning when the connection string holds a password and `--db-password-file` gave one too; neither
    /// is shown. libpq takes the password keyword given apart over the string's (later keywords win, and the
    /// file's is passed after the string), so the file's is the one used.
    var passwordGivenTwiceWarning: String? {
        guard password != nil, connectionStringHasPassword else { return nil }
        return "the PostgreSQL password is given twice, in the --db connection string and in --db-password-file: the file's is used (libpq takes a password given apart over one in the connection string); remove the one in the connection string"
    }
}

/// `key=value` texts (spaces around the key ignored), as `--kafka-property` takes them; later ones win.
/// `source` names where they came from in a message.
func parseKafkaProperties(_ texts: [String], source: String = "--kafka-property") throws -> [(name: String, value: String)] {
    try texts.map { text in
        guard let separator = text.firstIndex(of: "="), separator != text.startIndex else {
            throw UsageError("\(source) must be key=value, not '\(text.prefix(while: { $0 != "=" }))…'")
        }
        return (String(text[..<separator]).trimmingSpaces, String(text[text.index(after: separator)...]))
    }
}

/// `property=path` texts, as `--kafka-secret-file` takes them: each librdkafka property's value read from
/// its file. `source` names where they came from in a message.
func readKafkaSecrets(_ texts: [String], source: String) throws -> [(name: String, value: String)] {
    try texts.map { text in
        guard let separator = text.firstIndex(of: "="), separator != text.startIndex, text.index(after: separator) != text.endIndex else {
            throw UsageError("\(source) must be property=path (e.g. sasl.password=/run/secrets/kafka), not '\(text)'")
        }
        let name = String(text[..<separator]).trimmingSpaces
        return (name, try readSecret(String(text[text.index(after: separator)...]), for: "\(source) \(name)"))
    }
}

/// The librdkafka properties of every layer: the configuration file's, then `OUTBOX_CDC_KAFKA_PROPERTIES`
/// and `OUTBOX_CDC_KAFKA_SECRET_FILES`, then the flags; merged property by property (see
/// `KafkaPropertyLayers`), secret files read.
func kafkaPropertyLayers(propertyFlags: [String], secretFileFlags: [String], _ environment: Environment) throws -> KafkaPropertyLayers {
    var layers = KafkaPropertyLayers()
    for entry in environment.configKafkaProperties {
        layers.set(entry.name, to: entry.value, in: .configFile)
    }
    for entry in environment.configKafkaSecretFiles {
        layers.set(entry.name, to: try readSecret(entry.value, for: entry.origin.description), in: .configFile, fromSecretFile: true)
    }
    let commaSeparated = { (variable: String) in environment[variable].map { $0.split(separator: ",").map(String.init) } ?? [] }
    layers.set(try parseKafkaProperties(commaSeparated("OUTBOX_CDC_KAFKA_PROPERTIES"), source: "OUTBOX_CDC_KAFKA_PROPERTIES"), in: .environment)
    layers.set(try readKafkaSecrets(commaSeparated("OUTBOX_CDC_KAFKA_SECRET_FILES"), source: "OUTBOX_CDC_KAFKA_SECRET_FILES"),
               in: .environment, fromSecretFile: true)
    layers.set(try parseKafkaProperties(propertyFlags), in: .flag)
    layers.set(try readKafkaSecrets(secretFileFlags, source: "--kafka-secret-file"), in: .flag, fromSecretFile: true)
    return layers
}

/// A secret file's content without its trailing line breaks (editors and `echo` add one; Windows, CRLF).
func readSecret(_ path: String, for setting: String) throws -> String {
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
        // The path, not its content: a secret given by mistake in place of its file's path would be
        // shown here, so say only that no such file exists when the text does not even look like a path.
        let shown = path.contains("/") ? path : "(the value given)"
        throw UsageError("\(setting): cannot read \(shown): \(isDirectory.boolValue ? "a directory" : exists ? "permission denied" : "no such file")")
    }
    return SecretFileText.secret(fromContent: String(decoding: data, as: UTF8.self))
}

/// A bad input, reported as one line that names what to fix.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
