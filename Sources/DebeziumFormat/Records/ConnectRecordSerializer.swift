/// A value of the EventRouter's record key or value, as Kafka Connect holds it before a converter runs.
public enum ConnectData: Sendable, Equatable {
    case null
    case string(String)
    case bytes([UInt8])
}

/// The Kafka Connect schema of a key or value, as far as `JsonConverter` writes it into its envelope.
public struct ConnectSchema: Sendable, Equatable {
    public enum FieldType: String, Sendable {
        case string
        case bytes
    }

    public var type: FieldType
    /// Debezium makes a column's schema optional when the column is nullable (from the catalog, not the
    /// WAL: pgoutput's Relation message carries no NOT NULL).
    public var optional: Bool
    /// A logical type, e.g. `io.debezium.data.Json` for json and jsonb columns.
    public var name: String?
    public var version: Int?

    public init(type: FieldType, optional: Bool, name: String? = nil, version: Int? = nil) {
        self.type = type
        self.optional = optional
        self.name = name
        self.version = version
    }

    /// The schema Debezium gives a `json` or `jsonb` column.
    public static func json(optional: Bool) -> ConnectSchema {
        ConnectSchema(type: .string, optional: optional, name: "io.debezium.data.Json", version: 1)
    }
}

/// Why a value cannot be written by the configured converter (Kafka Connect fails such a record too).
public enum ConnectSerializationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `ByteArrayConverter` and `BinaryDataConverter` take bytes only; the column is text.
    case bytesConverterGotText(ConverterKind)
    /// `StringConverter` would write Java's `byte[].toString()`, an object address, for a bytea column.
    case stringConverterGotBytes

    public var description: String {
        switch self {
        case .bytesConverterGotText(let kind):
            return "\(kind.rawValue) writes only byte arrays, but the column is text; use StringConverter or JsonConverter"
        case .stringConverterGotBytes:
            return "StringConverter cannot write a bytea column (Kafka Connect would write the array's object address); use ByteArrayConverter or JsonConverter"
        }
    }
}

/// Turns a key or value into the bytes one Kafka Connect converter writes for it.
public struct ConnectRecordSerializer: Sendable {
    public let converter: ConverterSetting

    public init(converter: ConverterSetting) {
        self.converter = converter
    }

    /// The record bytes, or nil for a null record key or value (no bytes at all on the wire).
    public func serialize(_ data: ConnectData, schema: ConnectSchema) throws(ConnectSerializationError) -> [UInt8]? {
        switch converter.kind {
        case .string, .simpleHeader:
            switch data {
            case .null: return nil
            case .string(let text): return Array(text.utf8)
            case .bytes: throw .stringConverterGotBytes
            }
        case .byteArray, .binaryData:
            switch data {
            case .null: return nil
            case .bytes(let bytes): return bytes
            case .string: throw .bytesConverterGotText(converter.kind)
            }
        case .json:
            var json = JacksonJSONWriter(reservingCapacity: 64)
            if converter.schemasEnabled ?? true {
                json.object { envelope in
                    envelope.field("schema") { Self.write(schema, to: &$0) }
                    envelope.field("payload") { Self.write(data, to: &$0) }
                }
            } else {
                // Without schemas a null is still written, as the JSON literal `null`.
                Self.write(data, to: &json)
            }
            return json.bytes
        }
    }

    private static func write(_ data: ConnectData, to json: inout JacksonJSONWriter) {
        switch data {
        case .null: json.null()
        case .string(let text): json.string(text)
        // Jackson writes a byte[] as a base64 string (MIME-less, padded).
        case .bytes(let bytes): json.string(Base64.encode(bytes))
        }
    }

    /// Field order as Kafka Connect's `JsonConverter.asJsonSchema` writes it.
    private static func write(_ schema: ConnectSchema, to json: inout JacksonJSONWriter) {
        json.object { object in
            object.field("type") { $0.string(schema.type.rawValue) }
            object.field("optional") { $0.bool(schema.optional) }
            if let name = schema.name { object.field("name") { $0.string(name) } }
            if let version = schema.version { object.field("version") { $0.integer(version) } }
        }
    }
}

/// Standard base64 with padding (RFC 4648 §4), as `java.util.Base64.getEncoder()` writes it.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { output.append(alphabet[Int((group >> UInt32(shift)) & 0x3F)]) }
            index += 3
        }
        let remaining = bytes.count - index
        if remaining > 0 {
            let first = UInt32(bytes[index]) << 16
            let group = remaining == 2 ? first | UInt32(bytes[index + 1]) << 8 : first
            output.append(alphabet[Int((group >> 18) & 0x3F)])
            output.append(alphabet[Int((group >> 12) & 0x3F)])
            output.append(remaining == 2 ? alphabet[Int((group >> 6) & 0x3F)] : UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        }
        return String(decoding: output, as: UTF8.self)
    }
}
