import DebeziumFormat
import KafkaClient

/// Why a row's header column(s) cannot become Kafka headers.
public enum RowHeadersError: Error, Sendable, Equatable, CustomStringConvertible {
    case notJSON(column: String, offset: Int, reason: String)
    case wrongShape(column: String, expected: String)
    case notTextArray(column: String, reason: String)
    case arrayLengthsDiffer(names: Int, values: Int)
    case nullHeaderName(column: String)

    public var description: String {
        switch self {
        case .notJSON(let column, let offset, let reason):
            return "the \(column) column is not valid JSON at byte \(offset): \(reason)"
        case .wrongShape(let column, let expected):
            return "the \(column) column must hold \(expected)"
        case .notTextArray(let column, let reason):
            return "the \(column) column is not a one-dimensional text array: \(reason)"
        case .arrayLengthsDiffer(let names, let values):
            return "the header name and value arrays differ in length (\(names) names, \(values) values)"
        case .nullHeaderName(let column):
            return "the \(column) column holds a header without a name"
        }
    }
}

/// Reads headers from an outbox row's columns, as PostgreSQL's text output writes them.
///
/// JSON values that are strings become their UTF-8 bytes, `null` a header without a value, and any other
/// value (a number, a boolean, an object) its JSON text as written.
enum RowHeaders {
    /// `{"name": "value", …}`, in the object's order (json keeps the writer's order, jsonb its own).
    static func jsonObject(_ text: ArraySlice<UInt8>, column: String) throws(RowHeadersError) -> [KafkaHeader] {
        var reader = JSONScanner(bytes: text, column: column)
        var headers: [KafkaHeader] = []
        try reader.object { reader, name throws(RowHeadersError) in
            headers.append(KafkaHeader(name: name, value: try reader.headerValue()))
        }
        try reader.end()
        return headers
    }

    /// `[{"key": "name", "value": "value"}, …]`, in the array's order (gox's headers column).
    static func jsonPairs(_ text: ArraySlice<UInt8>, column: String) throws(RowHeadersError) -> [KafkaHeader] {
        var reader = JSONScanner(bytes: text, column: column)
        var headers: [KafkaHeader] = []
        let shape = #"an array of {"key": …, "value": …} objects"#
        try reader.array { reader throws(RowHeadersError) in
            var name: String?
            var value: [UInt8]?
            try reader.object { reader, member throws(RowHeadersError) in
                switch member {
                case "key":
                    guard case .string(let text) = try reader.scalar() else { throw .wrongShape(column: column, expected: shape) }
                    name = text
                case "value":
                    value = try reader.headerValue()
                default:
                    try reader.skipValue()
                }
            }
            guard let name else { throw .nullHeaderName(column: column) }
            headers.append(KafkaHeader(name: name, value: value))
        }
        try reader.end()
        return headers
    }

    /// Two PostgreSQL text arrays, `{a,"b c",NULL}`, paired by position (goharvest's two columns).
    static func textArrays(names: ArraySlice<UInt8>?, values: ArraySlice<UInt8>?, columns: (String, String)) throws(RowHeadersError) -> [KafkaHeader] {
        let nameList = try names.map { bytes throws(RowHeadersError) in try textArray(bytes, column: columns.0) } ?? []
        let valueList = try values.map { bytes throws(RowHeadersError) in try textArray(bytes, column: columns.1) } ?? []
        guard nameList.count == valueList.count else {
            throw .arrayLengthsDiffer(names: nameList.count, values: valueList.count)
        }
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(nameList.count)
        for (name, value) in zip(nameList, valueList) {
            guard let name else { throw .nullHeaderName(column: columns.0) }
            headers.append(KafkaHeader(name: String(decoding: name, as: UTF8.self), value: value))
        }
        return headers
    }

    /// PostgreSQL's array output: `{` elements `}` separated by commas; an element is `NULL`, a bare word, or
    /// a double-quoted string with `\` escaping the next byte.
    static func textArray(_ bytes: ArraySlice<UInt8>, column: String) throws(RowHeadersError) -> [[UInt8]?] {
        var index = bytes.startIndex
        func fail(_ reason: String) -> RowHeadersError { .notTextArray(column: column, reason: reason) }
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "{") else { throw fail("it does not start with {") }
        index += 1
        var elements: [[UInt8]?] = []
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "}") {
            index += 1
            guard index == bytes.endIndex else { throw fail("text after the closing }") }
            return elements
        }
        while true {
            guard index < bytes.endIndex else { throw fail("it ends inside an element") }
            if bytes[index] == UInt8(ascii: "{") { throw fail("it has more than one dimension") }
            if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                var element: [UInt8] = []
                while true {
                    guard index < bytes.endIndex else { throw fail("a quoted element is not closed") }
                    let byte = bytes[index]
                    index += 1
                    if byte == UInt8(ascii: "\"") { break }
                    if byte == UInt8(ascii: "\\") {
                        guard index < bytes.endIndex else { throw fail("it ends in an escape") }
                        element.append(bytes[index])
                        index += 1
                    } else {
                        element.append(byte)
                    }
                }
                elements.append(element)
            } else {
                let start = index
                while index < bytes.endIndex, bytes[index] != UInt8(ascii: ","), bytes[index] != UInt8(ascii: "}") {
                    index += 1
                }
                let word = bytes[start..<index]
                guard !word.isEmpty else { throw fail("an element is empty") }
                elements.append(word.elementsEqual("NULL".utf8) ? nil : Array(word))
            }
            guard index < bytes.endIndex else { throw fail("it is not closed with }") }
            let separator = bytes[index]
            index += 1
            if separator == UInt8(ascii: "}") { break }
            guard separator == UInt8(ascii: ",") else { throw fail("elements are not separated by commas") }
        }
        guard index == bytes.endIndex else { throw fail("text after the closing }") }
        return elements
    }
}

/// A forward-only reader over JSON text, enough to pull header names and values out of one column without
/// building a tree. Strict RFC 8259; nesting is capped so that a hostile row cannot exhaust the stack.
struct JSONScanner {
    enum Scalar {
        case string(String)
        case null
        /// A number, a boolean, an object or an array: its text as written.
        case other(ArraySlice<UInt8>)
    }

    private static let maximumDepth = 64
    private let bytes: ArraySlice<UInt8>
    private let column: String
    private var index: Int

    init(bytes: ArraySlice<UInt8>, column: String) {
        self.bytes = bytes
        self.column = column
        self.index = bytes.startIndex
    }

    func fail(_ reason: String) -> RowHeadersError {
        .notJSON(column: column, offset: index - bytes.startIndex, reason: reason)
    }

    private mutating func skipWhitespace() {
        while index < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws(RowHeadersError) {
        skipWhitespace()
        guard index < bytes.endIndex, bytes[index] == byte else {
            throw fail("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    private mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.endIndex ? bytes[index] : nil
    }

    mutating func end() throws(RowHeadersError) {
        skipWhitespace()
        guard index == bytes.endIndex else { throw fail("text after the value") }
    }

    /// Calls `member` for each member name, positioned at its value, which `member` must consume.
    mutating func object(_ member: (inout JSONScanner, String) throws(RowHeadersError) -> Void) throws(RowHeadersError) {
        guard peek() == UInt8(ascii: "{") else { throw .wrongShape(column: column, expected: "a JSON object") }
        index += 1
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let name = try string()
            try expect(UInt8(ascii: ":"))
            try member(&self, name)
            guard let next = peek() else { throw fail("the object is not closed") }
            index += 1
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw fail("expected ',' or '}'") }
        }
    }

    /// Calls `element` for each element, which it must consume.
    mutating func array(_ element: (inout JSONScanner) throws(RowHeadersError) -> Void) throws(RowHeadersError) {
        guard peek() == UInt8(ascii: "[") else { throw .wrongShape(column: column, expected: "a JSON array") }
        index += 1
        if peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            try element(&self)
            guard let next = peek() else { throw fail("the array is not closed") }
            index += 1
            if next == UInt8(ascii: "]") { return }
            guard next == UInt8(ascii: ",") else { throw fail("expected ',' or ']'") }
        }
    }

    /// A header value: a string's bytes, nil for null, any other value's text.
    mutating func headerValue() throws(RowHeadersError) -> [UInt8]? {
        switch try scalar() {
        case .string(let text): return Array(text.utf8)
        case .null: return nil
        case .other(let text): return Array(text)
        }
    }

    mutating func scalar() throws(RowHeadersError) -> Scalar {
        guard let first = peek() else { throw fail("expected a value") }
        switch first {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            let start = index
            try skipValue()
            return .other(bytes[start..<index])
        }
    }

    mutating func skipValue(depth: Int = 0) throws(RowHeadersError) {
        guard depth < Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth) levels") }
        guard let first = peek() else { throw fail("expected a value") }
        switch first {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "{"): try object { reader, _ throws(RowHeadersError) in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["): try array { reader throws(RowHeadersError) in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw fail("expected a value")
        }
    }

    private mutating func literal(_ word: String) throws(RowHeadersError) {
        let count = word.utf8.count
        guard bytes.endIndex - index >= count, bytes[index..<index + count].elementsEqual(word.utf8) else {
            throw fail("expected \(word)")
        }
        index += count
    }

    private mutating func number() throws(RowHeadersError) {
        func digits() -> Int {
            let start = index
            while index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - start
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digits() > 0 else { throw fail("a number without digits") }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw fail("a number without digits after '.'") }
        }
        if index < bytes.endIndex, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw fail("a number without exponent digits") }
        }
    }

    /// A string token, escapes resolved (`\uXXXX` pairs included).
    private mutating func string() throws(RowHeadersError) -> String {
        index += 1
        var units: [UInt16] = []
        var raw: [UInt8] = []
        func flushRaw() {
            units.append(contentsOf: String(decoding: raw, as: UTF8.self).utf16)
            raw.removeAll(keepingCapacity: true)
        }
        while true {
            guard index < bytes.endIndex else { throw fail("a string is not closed") }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                flushRaw()
                return String(decoding: units, as: UTF16.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.endIndex else { throw fail("a string ends in an escape") }
                let escape = bytes[index]
                index += 1
                flushRaw()
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): units.append(UInt16(escape))
                case UInt8(ascii: "b"): units.append(0x08)
                case UInt8(ascii: "f"): units.append(0x0C)
                case UInt8(ascii: "n"): units.append(0x0A)
                case UInt8(ascii: "r"): units.append(0x0D)
                case UInt8(ascii: "t"): units.append(0x09)
                case UInt8(ascii: "u"):
                    guard bytes.endIndex - index >= 4 else { throw fail("a \\u escape is cut short") }
                    var unit: UInt16 = 0
                    for _ in 0..<4 {
                        guard let digit = HexText.digitValue(bytes[index]) else { throw fail("a \\u escape has a non-hex digit") }
                        unit = unit << 4 | UInt16(digit)
                        index += 1
                    }
                    units.append(unit)
                default:
                    throw fail("an unknown escape")
                }
            case 0..<0x20:
                throw fail("a control character inside a string")
            default:
                raw.append(byte)
            }
        }
    }
}
