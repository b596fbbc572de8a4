import Glibc
import WALReader

/// Reads `OUTBOX_CDC_*` variables: each option falls back to its variable, then to its default.
struct Environment {
    var values: [String: String]
    /// `kafka-property` from the configuration file, applied before the flags' and the variable's.
    var configKafkaProperties: [String] = []

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

    /// A boolean variable: 1/true/yes/on or 0/false/no/off.
    /// A whole-number setting: the flag, else the variable, checked against `range`; nil when neither is set.
    func integer(_ flag: Int?, _ variable: String, _ name: String, range: ClosedRange<Int>) throws -> Int? {
        let value: Int
        if let flag {
            value = flag
        } else if let text = self[variable] {
            guard let parsed = Int(text) else { throw UsageError("\(variable) must be a whole number, not '\(text)'") }
            value = parsed
        } else {
            return nil
        }
        guard range.contains(value) else {
            throw UsageError("\(name) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
        }
        return value
    }

    func bool(_ variable: String) throws -> Bool? {
        guard let value = self[variable] else { return nil }
        switch value.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw UsageError("\(variable) must be true or false, not '\(value)'")
        }
    }
}

extension Environment {
    /// `--db`, else `OUTBOX_CDC_DB`, parsed; `purpose` finishes the "required" message.
    func databaseSettings(_ flag: String?, purpose: String) throws -> ConnectionSettings {
        guard let text = resolve(flag, "OUTBOX_CDC_DB") else {
            throw UsageError("--db is required (or set OUTBOX_CDC_DB): \(purpose)")
        }
        do {
            return try ConnectionSettings(text)
        } catch {
            throw UsageError("--db: \(error)")
        }
    }
}

/// `--kafka-property` values, `key=value` each (spaces around the key ignored); later ones win.
func parseKafkaProperties(_ texts: [String]) throws -> [String: String] {
    var properties: [String: String] = [:]
    for text in texts {
        guard let separator = text.firstIndex(of: "="), separator != text.startIndex else {
            throw UsageError("--kafka-property must be key=value, not '\(text.prefix(while: { $0 != "=" }))…'")
        }
        properties[String(text[..<separator]).trimmingSpaces] = String(text[text.index(after: separator)...])
    }
    return properties
}

/// A bad input, reported as one line that names what to fix.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
