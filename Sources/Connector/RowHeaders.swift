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

    /// kafka-outbox-relay's `payload_headers`: an object whose string values become their bytes, numbers
    /// their text as written, and any other value (true, false, null, an object, an array) a header without
    /// a value. Empty text, `null` and `{}` give no headers; a name given twice keeps its last value (the
    /// relay decodes into a map), at its first place. The relay's decoder reads the first value and ignores
    /// what follows it, and so does this.
    static func jsonObjectScalars(_ text: ArraySlice<UInt8>, column: String) throws(RowHeadersError) -> [KafkaHeader] {
        var reader = JSONScanner(bytes: text, column: column)
        if reader.isAtEnd() || reader.takeNull() { return [] }
        var headers: [KafkaHeader] = []
        var places: [String: Int] = [:]
        try reader.object { reader, name throws(RowHeadersError) in
            let value: [UInt8]?
            switch try reader.scalar() {
            case .string(let text): value = Array(text.utf8)
            case .null: value = nil
            case .other(let text):
                let first = text.first ?? 0
                value = first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) ? Array(text) : nil
            }
            if let place = places[name] {
                headers[place].value = value
            } else {
                places[name] = headers.count
                headers.append(KafkaHeader(name: name, value: value))
            }
        }
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
