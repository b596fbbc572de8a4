/// A JSON value as read from a Kafka Connect REST body. Numbers keep their text as written, because Kafka
/// Connect turns a number into the string of its token (`10000` stays `10000`, `1.50` stays `1.50`), and
/// objects keep their member order, so that warnings list keys in file order.
enum JSONValue {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Members in order; a repeated name appears once per occurrence.
    case object([(name: String, value: JSONValue)])

    /// How the value reads in a message: "null", "an object", "an array", "a string"…
    var kindDescription: String {
        switch self {
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A strict RFC 8259 reader: one value, whitespace around it, nothing else. Errors carry a 1-based line and
/// column (counted in Unicode scalars). Nesting is capped so that hostile input cannot exhaust the stack.
struct JSONReader {
    static let maximumDepth = 64

    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var column = 1

    static func parse(_ text: String) throws(DebeziumConfigError) -> JSONValue {
        var reader = JSONReader(scalars: Array(text.unicodeScalars))
        reader.skipWhitespace()
        let value = try reader.readValue(depth: 0)
        reader.skipWhitespace()
        guard reader.index == reader.scalars.count else {
            throw reader.error("unexpected \(reader.describeCurrent()) after the end of the JSON value")
        }
        return value
    }

    private init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    private func error(_ reason: String) -> DebeziumConfigError {
        .invalidJSON(line: line, column: column, reason: reason)
    }

    private var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private func describeCurrent() -> String {
        guard let current else { return "end of text" }
        if current.value < 0x20 || current.value == 0x7F {
            return "control character U+" + String(current.value, radix: 16, uppercase: true)
        }
        return "'\(Character(current))'"
    }

    private mutating func advance() {
        guard let scalar = current else { return }
        index += 1
        if scalar == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
    }

    private mutating func skipWhitespace() {
        while let scalar = current, scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
            advance()
        }
    }

    private mutating func expect(_ scalar: Unicode.Scalar, _ what: String) throws(DebeziumConfigError) {
        guard current == scalar else { throw error("expected \(what), found \(describeCurrent())") }
        advance()
    }

    private mutating func readValue(depth: Int) throws(DebeziumConfigError) -> JSONValue {
        guard let scalar = current else { throw error("expected a value, found end of text") }
        switch scalar {
        case "{": return try readObject(depth: depth + 1)
        case "[": return try readArray(depth: depth + 1)
        case "\"": return .string(try readString())
        case "t": try readLiteral("true"); return .bool(true)
        case "f": try readLiteral("false"); return .bool(false)
        case "n": try readLiteral("null"); return .null
        case "-", "0"..."9": return .number(try readNumber())
        default: throw error("expected a value, found \(describeCurrent())")
        }
    }

    private mutating func readObject(depth: Int) throws(DebeziumConfigError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        advance()
        var members: [(name: String, value: JSONValue)] = []
        skipWhitespace()
        if current == "}" {
            advance()
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard current == "\"" else { throw error("expected a member name in quotes, found \(describeCurrent())") }
            let name = try readString()
            skipWhitespace()
            try expect(":", "':' after the member name")
            skipWhitespace()
            members.append((name: name, value: try readValue(depth: depth)))
            skipWhitespace()
            if current == "," {
                advance()
                continue
            }
            try expect("}", "',' or '}' in an object")
            return .object(members)
        }
    }

    private mutating func readArray(depth: Int) throws(DebeziumConfigError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        advance()
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == "]" {
            advance()
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try readValue(depth: depth))
            skipWhitespace()
            if current == "," {
                advance()
                continue
            }
            try expect("]", "',' or ']' in an array")
            return .array(elements)
        }
    }

    private mutating func readLiteral(_ word: String) throws(DebeziumConfigError) {
        for expected in word.unicodeScalars {
            guard current == expected else { throw error("expected \(word), found \(describeCurrent())") }
            advance()
        }
    }

    private mutating func readNumber() throws(DebeziumConfigError) -> String {
        let start = index
        if current == "-" { advance() }
        guard let first = current, ("0"..."9").contains(first) else {
            throw error("expected a digit, found \(describeCurrent())")
        }
        advance()
        if first != "0" { skipDigits() }
        if current == "." {
            advance()
            try requireDigit()
        }
        if current == "e" || current == "E" {
            advance()
            if current == "+" || current == "-" { advance() }
            try requireDigit()
        }
        var text = ""
        text.unicodeScalars.append(contentsOf: scalars[start..<index])
        return text
    }

    private mutating func requireDigit() throws(DebeziumConfigError) {
        guard let digit = current, ("0"..."9").contains(digit) else {
            throw error("expected a digit, found \(describeCurrent())")
        }
        skipDigits()
    }

    private mutating func skipDigits() {
        while let digit = current, ("0"..."9").contains(digit) { advance() }
    }

    private mutating func readString() throws(DebeziumConfigError) -> String {
        advance()
        var units: [UInt16] = []
        while true {
            guard let scalar = current else { throw error("unterminated string") }
            switch scalar {
            case "\"":
                advance()
                return String(decoding: units, as: UTF16.self)
            case "\\":
                advance()
                try readEscape(into: &units)
            default:
                guard scalar.value >= 0x20 else {
                    throw error("\(describeCurrent()) inside a string (write it as an escape)")
                }
                units.append(contentsOf: scalar.utf16)
                advance()
            }
        }
    }

    private mutating func readEscape(into units: inout [UInt16]) throws(DebeziumConfigError) {
        guard let escaped = current else { throw error("unterminated string") }
        switch escaped {
        case "\"", "\\", "/": units.append(UInt16(escaped.value))
        case "b": units.append(0x08)
        case "f": units.append(0x0C)
        case "n": units.append(0x0A)
        case "r": units.append(0x0D)
        case "t": units.append(0x09)
        case "u":
            advance()
            var value: UInt16 = 0
            for _ in 0..<4 {
                guard let scalar = current, let digit = Unit.hexValue(UInt16(truncatingIfNeeded: scalar.value)),
                    scalar.isASCII
                else {
                    throw error("\\u must be followed by four hex digits, found \(describeCurrent())")
                }
                value = value << 4 | digit
                advance()
            }
            // Surrogate halves are collected as UTF-16 and paired when the string is decoded; an unpaired
            // one becomes U+FFFD, as Jackson would pass it through as an unpaired char.
            units.append(value)
            return
        default:
            throw error("invalid escape \\\(Character(escaped)) in a string")
        }
        advance()
    }
}
