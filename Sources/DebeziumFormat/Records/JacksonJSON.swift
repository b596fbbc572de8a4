/// JSON text the way Kafka Connect's `JsonConverter` writes it: Jackson's `ObjectMapper` with its default
/// generator settings, no whitespace. Only the pieces the outbox records need: strings, null, booleans,
/// integers, doubles (as Java's `Double.toString`), objects and arrays.
///
/// Jackson's string escaping (`JacksonString`, characters outside the BMP as surrogate escapes), as the golden
/// records show it (Tests/DebeziumFormatTests/Fixtures/goldens):
/// - `"` and `\` are escaped with a backslash;
/// - control characters below U+0020 use `\b \t \n \f \r` where those exist and `\u00XX` (upper-case hex)
///   otherwise;
/// - characters outside the Basic Multilingual Plane are written as their UTF-16 surrogate pair, two
///   `\uXXXX` escapes in upper-case hex (Jackson 2.17+ leaves `COMBINE_UNICODE_SURROGATES_IN_UTF8` off);
/// - everything else, `/`, `<` and U+2028 included, is written as plain UTF-8.
struct JacksonJSONWriter {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func null() {
        raw("null")
    }

    mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    mutating func integer(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Jackson's `writeNumber(double)`: Java's `Double.toString`; NaN and the infinities, which JSON has no
    /// number for, as strings (`QUOTE_NON_NUMERIC_NUMBERS`, on by default).
    mutating func double(_ value: Double) {
        if value.isFinite {
            bytes.append(contentsOf: JavaDouble.string(value).utf8)
        } else {
            string(JavaDouble.string(value))
        }
    }

    /// Jackson's `writeNumber(float)`: `Float.toString`, quoted when not finite, as for doubles.
    mutating func float(_ value: Float) {
        if value.isFinite {
            bytes.append(contentsOf: JavaFloat.string(value).utf8)
        } else {
            string(JavaFloat.string(value))
        }
    }

    // Structure for writers that decide the members at run time; the caller places the commas.
    mutating func openObject() { bytes.append(UInt8(ascii: "{")) }
    mutating func closeObject() { bytes.append(UInt8(ascii: "}")) }
    mutating func openArray() { bytes.append(UInt8(ascii: "[")) }
    mutating func closeArray() { bytes.append(UInt8(ascii: "]")) }
    mutating func comma() { bytes.append(UInt8(ascii: ",")) }

    /// A member name and its colon.
    mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    /// A JSON string of `text`'s Unicode scalars.
    mutating func string(_ text: String) {
        JacksonString.append(text, supplementaryAsSurrogateEscapes: true, to: &bytes)
    }

    /// A JSON string of UTF-8 bytes; invalid sequences become U+FFFD, as Java's decoder makes them.
    mutating func string(utf8: some Collection<UInt8>) {
        string(String(decoding: utf8, as: UTF8.self))
    }

    /// `{` … `}` around `body`, which writes its fields with `field(_:)`.
    mutating func object(_ body: (inout ObjectWriter) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        var writer = ObjectWriter(json: self)
        // Hand the buffer over, so that appending inside `body` does not copy it.
        self = JacksonJSONWriter()
        body(&writer)
        self = writer.json
        bytes.append(UInt8(ascii: "}"))
    }

    struct ObjectWriter {
        fileprivate var json: JacksonJSONWriter
        private var isFirst = true

        fileprivate init(json: JacksonJSONWriter) {
            self.json = json
        }

        mutating func field(_ name: StaticString, _ value: (inout JacksonJSONWriter) -> Void) {
            if !isFirst { json.bytes.append(UInt8(ascii: ",")) }
            isFirst = false
            json.bytes.append(UInt8(ascii: "\""))
            json.raw(name)
            json.raw("\":")
            value(&json)
        }
    }
}

/// A JSON string as Jackson escapes it: `"` and `\` with a backslash; the control characters below U+0020 as
/// `\b \t \n \f \r` where those exist and `\u00XX` (upper-case hex) otherwise; everything else (`/`, `<`,
/// U+2028, non-ASCII) as plain UTF-8 — except characters outside the Basic Multilingual Plane when Jackson
/// writes UTF-8 bytes itself (Kafka Connect's converters, Jackson 2.17+ with
/// `COMBINE_UNICODE_SURROGATES_IN_UTF8` off): then each is its UTF-16 surrogate pair, two `\uXXXX` escapes.
/// Through `writeValueAsString` (outbox-event-bus) they stay plain.
public enum JacksonString {
    public static func append(_ text: String, supplementaryAsSurrogateEscapes: Bool, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case 0x5C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x00 ..< 0x20:
                unicodeEscape(UInt16(scalar.value), to: &bytes)
            case 0x10000... where supplementaryAsSurrogateEscapes:
                let offset = scalar.value - 0x10000
                unicodeEscape(UInt16(0xD800 + (offset >> 10)), to: &bytes)
                unicodeEscape(UInt16(0xDC00 + (offset & 0x3FF)), to: &bytes)
            default:
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func unicodeEscape(_ unit: UInt16, to bytes: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u")])
        for shift in stride(from: 12, through: 0, by: -4) {
            bytes.append(hex[Int((unit >> UInt16(shift)) & 0xF)])
        }
    }
}

/// A flat JSON object of text members (`null` for nil), compact, escaped as Jackson escapes: for records
/// that describe something (a dead-lettered row) rather than reproduce one.
public enum CompactJSON {
    public static func object(_ members: [(name: String, value: String?)]) -> [UInt8] {
        var json = JacksonJSONWriter(reservingCapacity: 64 * members.count + 2)
        json.openObject()
        for (index, member) in members.enumerated() {
            if index > 0 { json.comma() }
            json.key(member.name)
            if let value = member.value { json.string(value) } else { json.null() }
        }
        json.closeObject()
        return json.bytes
    }
}
