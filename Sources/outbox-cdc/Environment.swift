import Glibc

/// Reads `OUTBOX_CDC_*` variables: each option falls back to its variable, then to its default.
struct Environment {
    var values: [String: String]

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
    func bool(_ variable: String) throws -> Bool? {
        guard let value = self[variable] else { return nil }
        switch value.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw UsageError("\(variable) must be true or false, not '\(value)'")
        }
    }
}

/// A bad input, reported as one line that names what to fix.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
