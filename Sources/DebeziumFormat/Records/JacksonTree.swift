/// A JSON document as Jackson's `ObjectMapper.readTree` builds it, which is what Debezium's
/// `table.expand.json.payload` works on. The node kinds matter because Debezium picks Connect types from
/// them: an integer that fits 32 bits is an `IntNode` (INT32), one that fits 64 bits a `LongNode` (INT64),
/// a longer one a `BigIntegerNode`, and any number with a point or an exponent a `DoubleNode`.
enum JacksonNode: Sendable {
    case object(JacksonObject)
    case array([JacksonNode])
    case string(String)
    case int(Int32)
    case long(Int64)
    /// An integer beyond 64 bits, as written.
    case bigInteger(String)
    case double(Double)
    case boolean(Bool)
    case null

    /// Jackson's `JsonNodeType`: arrays must hold one kind of node (nulls aside).
    var nodeType: String {
        switch self {
        case .object: return "OBJECT"
        case .array: return "ARRAY"
        case .string: return "STRING"
        case .int, .long, .bigInteger, .double: return "NUMBER"
        case .boolean: return "BOOLEAN"
        case .null: return "NULL"
        }
    }

    /// Jackson's `asText()`, as Debezium's messages quote it: a container's is empty.
    var text: String {
        switch self {
        case .object, .array: return ""
        case .string(let text): return text
        case .int(let number): return String(number)
        case .long(let number): return String(number)
        case .bigInteger(let digits): return digits
        case .double(let number): return JavaDouble.string(number)
        case .boolean(let flag): return flag ? "true" : "false"
        case .null: return "null"
        }
    }
}

/// An `ObjectNode`: members in first-appearance order; a repeated name keeps its first position and takes
/// the last value (Jackson's `LinkedHashMap.put`; duplicate detection is off by default).
struct JacksonObject: Sendable {
    private(set) var names: [String] = []
    private(set) var values: [JacksonNode] = []
    private var positions: [String: Int] = [:]

    mutating func set(_ name: String, _ value: JacksonNode) {
        if let position = positions[name] {
            values[position] = value
        } else {
            positions[name] = names.count
            names.append(name)
            values.append(value)
        }
    }

    subscript(name: String) -> JacksonNode? {
        positions[name].map { values[$0] }
    }
}

/// Why Jackson would not read a payload (Debezium then logs `JSON expansion failed` and keeps the string).
struct JacksonParseError: Error, Sendable, Equatable {
    var reason: String
    /// Offset in UTF-8 bytes from the start of the text.
    var offset: Int
}

/// Jackson 2.x's reader with `ObjectMapper`'s defaults: strict JSON (no comments, no leading zeros, no NaN,
/// no unescaped control characters), `StreamReadConstraints` of 1000 nesting levels and 1000 digits per
/// number, and anything after the first value ignored (`FAIL_ON_TRAILING_TOKENS` is off).
///
/// It keeps the open containers on a stack of its own rather than recursing, so that no input can
/// exhaust the thread's stack.
struct JacksonTreeParser {
    static let maximumDepth = 1000
    static let maximumNumberLength = 1000

    private let bytes: [UInt8]
    private var index = 0

    /// A container being read.
    private struct Frame {
        var isObject: Bool
        var object = JacksonObject()
        var elements: [JacksonNode] = []
        /// The member whose value is being read.
        var name = ""
    }

    /// The document and its nesting depth (Jackson's count: the root object or array is level 1).
    static func parse(_ text: String) throws(JacksonParseError) -> (node: JacksonNode, depth: Int) {
        var parser = JacksonTreeParser(bytes: Array(text.utf8))
        return try parser.readDocument()
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func error(_ reason: String) -> JacksonParseError {
        JacksonParseError(reason: reason, offset: index)
    }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    private mutating func readDocument() throws(JacksonParseError) -> (node: JacksonNode, depth: Int) {
        var stack: [Frame] = []
        var deepest = 0
        skipWhitespace()
        while true {
            // Read a value: a scalar completes at once; `{` or `[` opens a frame, or completes if empty.
            var completed: JacksonNode
            guard let byte = current else { throw error("unexpected end of input: expected a value") }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = byte == UInt8(ascii: "{")
                guard stack.count < Self.maximumDepth else {
                    throw error("document nesting depth exceeds the maximum allowed (\(Self.maximumDepth))")
                }
                index += 1
                skipWhitespace()
                deepest = max(deepest, stack.count + 1)
                if current == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    index += 1
                    completed = isObject ? .object(JacksonObject()) : .array([])
                } else {
                    var frame = Frame(isObject: isObject)
                    if isObject { frame.name = try readMemberName() }
                    stack.append(frame)
                    continue
                }
            case UInt8(ascii: "\""): completed = .string(try readString())
            case UInt8(ascii: "t"): try readLiteral("true"); completed = .boolean(true)
            case UInt8(ascii: "f"): try readLiteral("false"); completed = .boolean(false)
            case UInt8(ascii: "n"): try readLiteral("null"); completed = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): completed = try readNumber()
            default: throw error("unexpected character 0x\(String(byte, radix: 16)): expected a value")
            }
            // Put the value into its container; close every container that ends here.
            while true {
                guard !stack.isEmpty else { return (completed, deepest) }
                let last = stack.count - 1
                if stack[last].isObject {
                    stack[last].object.set(stack[last].name, completed)
                } else {
                    stack[last].elements.append(completed)
                }
                skipWhitespace()
                let closing = stack[last].isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if current == UInt8(ascii: ",") {
                    index += 1
                    skipWhitespace()
                    if stack[last].isObject { stack[last].name = try readMemberName() }
                    break
                }
                guard current == closing else {
                    throw error(stack[last].isObject ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array")
                }
                index += 1
                let frame = stack.removeLast()
                completed = frame.isObject ? .object(frame.object) : .array(frame.elements)
            }
        }
    }

    /// `"name"` and its colon, leaving the reader at the value.
    private mutating func readMemberName() throws(JacksonParseError) -> String {
        guard current == UInt8(ascii: "\"") else { throw error("expected a member name in double quotes") }
        let name = try readString()
        skipWhitespace()
        guard current == UInt8(ascii: ":") else { throw error("expected ':' after a member name") }
        index += 1
        skipWhitespace()
        return name
    }

    private mutating func readLiteral(_ word: StaticString) throws(JacksonParseError) {
        let expected = word.withUTF8Buffer { Array($0) }
        guard index + expected.count <= bytes.count, Array(bytes[index ..< index + expected.count]) == expected else {
            throw error("unrecognized token: expected \(word)")
        }
        index += expected.count
        // Jackson reads a token to its end: `truex` is one bad token, not `true` and garbage.
        if let next = current, next.isASCIILetterOrDigit { throw error("unrecognized token") }
    }

    private mutating func readNumber() throws(JacksonParseError) -> JacksonNode {
        let start = index
        let negative = current == UInt8(ascii: "-")
        if negative { index += 1 }
        let integerStart = index
        guard let first = current, first.isASCIIDigit else { throw error("expected a digit after '-'") }
        index += 1
        if first == UInt8(ascii: "0") {
            if let next = current, next.isASCIIDigit { throw error("leading zeroes not allowed") }
        } else {
            skipDigits()
        }
        let integerDigits = index - integerStart
        var isFloat = false
        var otherDigits = 0
        if current == UInt8(ascii: ".") {
            isFloat = true
            index += 1
            otherDigits += try requireDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isFloat = true
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            otherDigits += try requireDigits()
        }
        if let next = current, next.isASCIILetterOrDigit || next == UInt8(ascii: ".") {
            throw error("unexpected character in a number")
        }
        guard integerDigits + otherDigits <= Self.maximumNumberLength else {
            throw error("number value length exceeds the maximum allowed (\(Self.maximumNumberLength))")
        }
        let text = String(decoding: bytes[start ..< index], as: UTF8.self)
        if isFloat {
            // Jackson's `Double.parseDouble`, correctly rounded like Swift's; out of range gives ±Infinity.
            guard let value = Double(text) else { throw error("malformed number") }
            return .double(value)
        }
        if let value = Int32(text) { return .int(value) }
        if let value = Int64(text) { return .long(value) }
        return .bigInteger(text)
    }

    private mutating func skipDigits() {
        while let byte = current, byte.isASCIIDigit { index += 1 }
    }

    private mutating func requireDigits() throws(JacksonParseError) -> Int {
        let start = index
        skipDigits()
        guard index > start else { throw error("expected a digit in a number") }
        return index - start
    }

    private mutating func readString() throws(JacksonParseError) -> String {
        index += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = current else { throw error("unexpected end of input in a string") }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                try readEscape(into: &utf8)
            case 0x00 ..< 0x20:
                throw error("illegal unquoted control character in a string")
            default:
                utf8.append(byte)
                index += 1
            }
        }
    }

    private mutating func readEscape(into utf8: inout [UInt8]) throws(JacksonParseError) {
        guard let escaped = current else { throw error("unexpected end of input in an escape") }
        index += 1
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try readHexUnit()
            var scalar = Unicode.Scalar(UInt32(unit))
            // A high surrogate escape followed by a low one is one character.
            if (0xD800 ..< 0xDC00).contains(unit), index + 6 <= bytes.count,
               bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                let saved = index
                index += 2
                let low = try readHexUnit()
                if (0xDC00 ..< 0xE000).contains(low) {
                    scalar = Unicode.Scalar(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00))
                } else {
                    index = saved
                }
            }
            // A lone surrogate cannot be held in a Swift string: it becomes U+FFFD, as a UTF-8 encoder writes it.
            utf8.append(contentsOf: String(Character(scalar ?? "\u{FFFD}")).utf8)
        default:
            throw error("unrecognized character escape")
        }
    }

    private mutating func readHexUnit() throws(JacksonParseError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0 ..< 4 {
            guard let byte = current, let digit = byte.hexDigitValue else {
                throw error("expected a hex digit in a \\u escape")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }
}

/// ASCII classification of UTF-8 bytes, for the readers of JSON and PostgreSQL text.
extension UInt8 {
    var isASCIIDigit: Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) }

    var isASCIILetterOrDigit: Bool {
        isASCIIDigit || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
    }

    var hexDigitValue: UInt8? { HexText.digitValue(self) }
}
