/// One login module entry of a Kafka client's `sasl.jaas.config`:
/// `<module class> <flag> name="value" name=value …;`.
///
/// Tokens follow Kafka's parser (a `java.io.StreamTokenizer`): words of letters, digits, `.`, `-`, `_`, `$`;
/// values in double or single quotes with backslash escapes; `//` and `/* */` comments. A client takes
/// exactly one module. Errors never quote option values, which hold passwords.
struct JAASLoginModule: Equatable {
    var moduleClass: String
    var controlFlag: String
    var options: [String: String]

    static let controlFlags: Set<String> = ["required", "requisite", "sufficient", "optional"]

    /// Parses `text`; a failure is described by a reason that names no value.
    static func parse(_ text: String) -> Result<JAASLoginModule, JAASError> {
        var tokens = JAASTokenizer(text)
        do throws(JAASError) {
            guard case .word(let moduleClass) = try tokens.next() else {
                throw JAASError("no login module class")
            }
            guard case .word(let flag) = try tokens.next(), controlFlags.contains(flag.lowercased()) else {
                throw JAASError("the login module class must be followed by required, requisite, sufficient or optional")
            }
            var options: [String: String] = [:]
            while true {
                let token = try tokens.next()
                switch token {
                case nil, .symbol(";"):
                    if token != nil, try tokens.next() != nil {
                        throw JAASError("more than one login module (a Kafka client takes exactly one)")
                    }
                    return .success(JAASLoginModule(moduleClass: moduleClass, controlFlag: flag, options: options))
                case .word(let name):
                    guard try tokens.next() == .symbol("=") else {
                        throw JAASError("option \(name) has no '=' and value")
                    }
                    switch try tokens.next() {
                    case .word(let value), .quoted(let value): options[name] = value
                    default: throw JAASError("option \(name) has no value")
                    }
                case .quoted, .symbol:
                    throw JAASError("expected an option name or ';'")
                }
            }
        } catch {
            return .failure(error)
        }
    }
}

struct JAASError: Error, Equatable {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

enum JAASToken: Equatable {
    case word(String)
    case quoted(String)
    case symbol(Character)
}

struct JAASTokenizer {
    private let scalars: [Unicode.Scalar]
    private var index = 0

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || ".-_$".unicodeScalars.contains(scalar)
            || scalar.value >= 0xA0
    }

    private var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }
    private func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    mutating func next() throws(JAASError) -> JAASToken? {
        try skipBlanksAndComments()
        guard let scalar = current else { return nil }
        if scalar == "\"" || scalar == "'" {
            return .quoted(try readQuoted(closing: scalar))
        }
        if Self.isWordScalar(scalar) {
            var word = String.UnicodeScalarView()
            while let next = current, Self.isWordScalar(next) {
                word.append(next)
                index += 1
            }
            return .word(String(word))
        }
        if scalar == "=" || scalar == ";" {
            index += 1
            return .symbol(Character(scalar))
        }
        throw JAASError("unexpected character U+\(String(scalar.value, radix: 16, uppercase: true)) outside quotes")
    }

    private mutating func skipBlanksAndComments() throws(JAASError) {
        while let scalar = current {
            if scalar.value <= 0x20 {
                index += 1
            } else if scalar == "/" && peek(1) == "/" {
                while let next = current, next != "\n" && next != "\r" { index += 1 }
            } else if scalar == "/" && peek(1) == "*" {
                index += 2
                while current != nil && !(current == "*" && peek(1) == "/") { index += 1 }
                guard current != nil else { throw JAASError("unterminated /* comment") }
                index += 2
            } else {
                return
            }
        }
    }

    /// A quoted value with StreamTokenizer's escapes: `\n \t \b \r \f \a \v`, octal `\ooo`, and `\x` → `x`.
    private mutating func readQuoted(closing: Unicode.Scalar) throws(JAASError) -> String {
        index += 1
        var value = String.UnicodeScalarView()
        while let scalar = current {
            index += 1
            if scalar == closing { return String(value) }
            if scalar == "\n" || scalar == "\r" { break }
            guard scalar == "\\", let escaped = current else {
                value.append(scalar)
                continue
            }
            index += 1
            switch escaped {
            case "n": value.append("\n")
            case "t": value.append("\t")
            case "b": value.append("\u{08}")
            case "r": value.append("\r")
            case "f": value.append("\u{0C}")
            case "a": value.append("\u{07}")
            case "v": value.append("\u{0B}")
            case "0"..."7":
                var code = escaped.value - 0x30
                // Up to three octal digits, the first at most 3, as StreamTokenizer reads them.
                let maximumDigits = escaped <= "3" ? 3 : 2
                var digits = 1
                while digits < maximumDigits, let next = current, ("0"..."7").contains(next) {
                    code = code * 8 + (next.value - 0x30)
                    index += 1
                    digits += 1
                }
                value.append(Unicode.Scalar(UInt8(truncatingIfNeeded: code)))
            default: value.append(escaped)
            }
        }
        throw JAASError("a quoted value is not closed on its line")
    }
}
