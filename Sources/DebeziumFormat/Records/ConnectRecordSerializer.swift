/// A value of the EventRouter's record key or value, as Kafka Connect holds it before a converter runs.
///
/// Each case stands for the Java class Kafka Connect would hold (`String`, `byte[]`, `Short`, `Integer`,
/// `Long`, `Double`, `Boolean`, `List`, `Struct`), because converters and `Struct.put` check that class
/// against the schema: a mismatch is how several of Debezium's fatal cases arise (see `ConnectValue`).
public enum ConnectData: Sendable, Hashable {
    case null
    case string(String)
    case bytes([UInt8])
    case boolean(Bool)
    /// A `smallint` column (Connect INT16).
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    /// A `real` column (Connect FLOAT32).
    case float32(Float)
    case float64(Double)
    case array([ConnectData])
    /// A Connect `Struct`: its values in the order of its schema's fields (a missing value is `.null`).
    case `struct`([ConnectData])

    /// The class Java would report for this value, for messages that quote Kafka Connect's own.
    var javaClassName: String {
        switch self {
        case .null: return "null"
        case .string: return "class java.lang.String"
        case .bytes: return "class [B"
        case .boolean: return "class java.lang.Boolean"
        case .int16: return "class java.lang.Short"
        case .int32: return "class java.lang.Integer"
        case .int64: return "class java.lang.Long"
        case .float32: return "class java.lang.Float"
        case .float64: return "class java.lang.Double"
        case .array: return "class java.util.ArrayList"
        case .struct: return "class org.apache.kafka.connect.data.Struct"
        }
    }
}

/// The Kafka Connect schema of a key or value, as far as `JsonConverter` writes it into its envelope.
public struct ConnectSchema: Sendable, Hashable {
    public enum FieldType: String, Sendable {
        case string
        case bytes
        case boolean
        case int16
        case int32
        case int64
        /// Connect's FLOAT32 (JsonConverter's `"float"`).
        case float32 = "float"
        /// Connect's FLOAT64 (JsonConverter's `"double"`).
        case float64 = "double"
        case array
        case `struct`

        /// Connect's `Schema.Type` name, as Kafka Connect's messages spell it.
        var connectName: String {
            switch self {
            case .float32: "FLOAT32"
            case .float64: "FLOAT64"
            default: rawValue.uppercased()
            }
        }
    }

    public var type: FieldType
    /// Debezium makes a column's schema optional when the column is nullable (from the catalog, not the
    /// WAL: pgoutput's Relation message carries no NOT NULL).
    public var optional: Bool
    /// A logical type, e.g. `io.debezium.data.Json` for json and jsonb columns.
    public var name: String?
    public var version: Int?
    /// The members few schemas have, kept out of line (an array, as `itemStorage`): schemas are copied at
    /// every level of the recursive builders and writers, whose frames must stay small for deep values.
    private var rareStorage: [RareMembers] = []
    private struct RareMembers: Sendable, Hashable {
        var doc: String?
        var parameters: [ConnectSchemaParameter] = []
        var defaultValue: ConnectData?
    }

    private var rare: RareMembers {
        get { rareStorage.first ?? RareMembers() }
        set { rareStorage = newValue == RareMembers() ? [] : [newValue] }
    }

    /// The schema's documentation (`io.debezium.data.VariableScaleDecimal` has one).
    public var doc: String? {
        get { rare.doc }
        set { rare.doc = newValue }
    }

    /// A logical type's parameters, in the order Debezium sets them (`scale`, `connect.decimal.precision`).
    public var parameters: [ConnectSchemaParameter] {
        get { rare.parameters }
        set { rare.parameters = newValue }
    }

    /// The schema's default value (Debezium's, from a column's default expression); nil for none.
    public var defaultValue: ConnectData? {
        get { rare.defaultValue }
        set { rare.defaultValue = newValue }
    }

    /// Whether the schema has a doc, parameters or a default.
    var hasRareMembers: Bool { !rareStorage.isEmpty }
    /// A struct's fields, in order; empty for the other types.
    public var fields: [ConnectField] = []
    // An array's element schema; an array, because a struct cannot hold itself directly.
    private var itemStorage: [ConnectSchema] = []

    public init(type: FieldType, optional: Bool, name: String? = nil, version: Int? = nil) {
        self.type = type
        self.optional = optional
        self.name = name
        self.version = version
    }

    /// An array's element schema; nil for the other types.
    public var items: ConnectSchema? {
        get { itemStorage.first }
        set { itemStorage = newValue.map { [$0] } ?? [] }
    }

    /// The schema Debezium gives a `json` or `jsonb` column.
    public static func json(optional: Bool) -> ConnectSchema {
        ConnectSchema(type: .string, optional: optional, name: "io.debezium.data.Json", version: 1)
    }

    /// A Connect struct schema.
    public static func `struct`(name: String?, optional: Bool, version: Int? = nil, fields: [ConnectField]) -> ConnectSchema {
        var schema = ConnectSchema(type: .struct, optional: optional, name: name, version: version)
        schema.fields = fields
        return schema
    }

    /// A Connect array schema.
    public static func array(of items: ConnectSchema, optional: Bool) -> ConnectSchema {
        var schema = ConnectSchema(type: .array, optional: optional)
        schema.items = items
        return schema
    }

    /// The index of the struct field `name`.
    public func fieldIndex(_ name: String) -> Int? {
        fields.firstIndex { $0.name == name }
    }
}

/// One parameter of a Connect schema: a name and its text.
public struct ConnectSchemaParameter: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One field of a struct schema.
public struct ConnectField: Sendable, Hashable {
    public var name: String
    public var schema: ConnectSchema

    public init(name: String, schema: ConnectSchema) {
        self.name = name
        self.schema = schema
    }
}

/// A value with its schema, as a Kafka Connect record carries it. The schema is nil where Debezium leaves a
/// record without one (an expanded JSON payload whose schema came out empty); JsonConverter then writes
/// `"schema":null` and infers the JSON from the value.
///
/// The schema and the data need not agree: when Debezium's JSON expansion replaces the schema but cannot
/// build the value, it publishes the new schema with the old string, and the converter then fails the
/// record (expand-json-fatal). `ConnectRecordSerializer` reports such a record as Kafka Connect does.
public struct ConnectValue: Sendable, Equatable {
    public var schema: ConnectSchema?
    public var data: ConnectData

    public init(schema: ConnectSchema?, data: ConnectData) {
        self.schema = schema
        self.data = data
    }
}

/// Why a value cannot be written by the configured converter (Kafka Connect fails such a record too).
public enum ConnectSerializationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `ByteArrayConverter` and `BinaryDataConverter` take bytes only; the column is text.
    case bytesConverterGotText(ConverterKind)
    /// `StringConverter` would write Java's `byte[].toString()`, an object address, for a bytea column.
    case stringConverterGotBytes
    /// `ByteArrayConverter` or `BinaryDataConverter` got a value that is neither bytes nor text
    /// (`DataException` in Kafka Connect: the task dies).
    case bytesConverterGotValue(ConverterKind, javaClass: String)
    /// JsonConverter's `DataException: Invalid type for <TYPE>: <class>`: the value is not of the schema's
    /// type. The task dies.
    case invalidType(schemaType: String, javaClass: String)
    /// JsonConverter's `DataException: Conversion error: null value for field that is required and has no
    /// default value`. The task dies.
    case nullForRequiredValue
    /// A struct's values do not fit its schema's fields (JsonConverter's `Mismatching schema.`).
    case mismatchingSchema
    /// Jackson refuses to write JSON nested deeper than 1000 levels (`StreamWriteConstraints`); Kafka
    /// Connect then fails the record. The task dies.
    case nestingTooDeep(limit: Int)

    public var description: String {
        switch self {
        case .bytesConverterGotText(let kind):
            return "\(kind.rawValue) writes only byte arrays, but the column is text; use StringConverter or JsonConverter"
        case .stringConverterGotBytes:
            return "StringConverter cannot write a bytea column (Kafka Connect would write the array's object address); use ByteArrayConverter or JsonConverter"
        case .bytesConverterGotValue(let kind, let javaClass):
            return "\(kind.rawValue) writes only byte arrays, but the value is a \(javaClass); Kafka Connect would fail the task"
        case .invalidType(let schemaType, let javaClass):
            return "JsonConverter: Invalid type for \(schemaType): \(javaClass) (Kafka Connect would fail the task)"
        case .nullForRequiredValue:
            return "JsonConverter: Conversion error: null value for field that is required and has no default value"
        case .mismatchingSchema:
            return "JsonConverter: Mismatching schema. (a struct's values do not fit its fields)"
        case .nestingTooDeep(let limit):
            return "JsonConverter: the JSON would be nested deeper than Jackson's limit of \(limit) levels"
        }
    }
}

/// Turns a key or value into the bytes one Kafka Connect converter writes for it.
public struct ConnectRecordSerializer: Sendable {
    public let converter: ConverterSetting

    /// Jackson 2.16+'s `StreamWriteConstraints` default: deeper output fails.
    static let maximumWriteDepth = 1000

    public init(converter: ConverterSetting) {
        self.converter = converter
    }

    /// The record bytes, or nil for a null record key or value (no bytes at all on the wire).
    public func serialize(_ data: ConnectData, schema: ConnectSchema) throws(ConnectSerializationError) -> [UInt8]? {
        try serialize(ConnectValue(schema: schema, data: data))
    }

    /// The record bytes, or nil for a null record key or value. A nil schema with a null value is a Kafka
    /// tombstone under every converter (JsonConverter returns null for it).
    public func serialize(_ value: ConnectValue) throws(ConnectSerializationError) -> [UInt8]? {
        let data = value.data
        switch converter.kind {
        case .string, .simpleHeader:
            // StringConverter writes `value.toString()` whatever the schema.
            switch data {
            case .null: return nil
            case .string(let text): return Array(text.utf8)
            default: return Array(try JavaToString.render(data, schema: value.schema).utf8)
            }
        case .byteArray, .binaryData:
            switch data {
            case .null: return nil
            case .bytes(let bytes): return bytes
            case .string: throw .bytesConverterGotText(converter.kind)
            default: throw .bytesConverterGotValue(converter.kind, javaClass: data.javaClassName)
            }
        case .json:
            if value.schema == nil, data == .null { return nil }
            var json = JacksonJSONWriter(reservingCapacity: 64)
            if converter.schemasEnabled ?? true {
                json.openObject()
                json.key("schema")
                if let schema = value.schema { try Self.write(schema, fieldName: nil, to: &json, depth: 2) } else { json.null() }
                json.comma()
                json.key("payload")
                try Self.write(data, schema: value.schema, to: &json, depth: 1)
                json.closeObject()
            } else {
                // Without schemas a null is still written, as the JSON literal `null`.
                try Self.write(data, schema: value.schema, to: &json, depth: 0)
            }
            return json.bytes
        }
    }

    /// Jackson counts the nesting of the container being opened; past the limit it refuses to write.
    static func open(depth: Int) throws(ConnectSerializationError) {
        guard depth <= maximumWriteDepth else { throw .nestingTooDeep(limit: maximumWriteDepth) }
    }

    /// JsonConverter's `convertToJson`: the value as its schema says, checked as Java's casts check it.
    /// `depth` is the nesting of the enclosing JSON container (0 at the top).
    static func write(
        _ data: ConnectData, schema: ConnectSchema?, to json: inout JacksonJSONWriter, depth: Int
    ) throws(ConnectSerializationError) {
        if case .null = data {
            // Without a schema a null is written as is; with one, only an optional schema allows it.
            guard schema?.optional ?? true else { throw .nullForRequiredValue }
            json.null()
            return
        }
        switch (schema?.type, data) {
        case (.string?, .string(let text)), (nil, .string(let text)): json.string(text)
        // Jackson writes a byte[] as a base64 string (MIME-less, padded).
        case (.bytes?, .bytes(let bytes)), (nil, .bytes(let bytes)): json.string(Base64.encode(bytes))
        case (.boolean?, .boolean(let flag)), (nil, .boolean(let flag)): json.bool(flag)
        case (.int16?, .int16(let number)), (nil, .int16(let number)): json.integer(Int(number))
        case (.int32?, .int32(let number)), (nil, .int32(let number)): json.integer(Int(number))
        case (.int64?, .int64(let number)), (nil, .int64(let number)): json.integer(Int(number))
        case (.float32?, .float32(let number)), (nil, .float32(let number)): json.float(number)
        case (.float64?, .float64(let number)), (nil, .float64(let number)): json.double(number)
        case (.array?, .array(let elements)), (nil, .array(let elements)):
            try open(depth: depth + 1)
            json.openArray()
            for (index, element) in elements.enumerated() {
                if index > 0 { json.comma() }
                try write(element, schema: schema?.items, to: &json, depth: depth + 1)
            }
            json.closeArray()
        case (.struct?, .struct(let values)):
            guard let schema, values.count == schema.fields.count else { throw .mismatchingSchema }
            try open(depth: depth + 1)
            json.openObject()
            for (index, field) in schema.fields.enumerated() {
                if index > 0 { json.comma() }
                json.key(field.name)
                try write(values[index], schema: field.schema, to: &json, depth: depth + 1)
            }
            json.closeObject()
        // Without a schema JsonConverter cannot write a Struct (its schema never equals null).
        case (nil, _):
            throw .mismatchingSchema
        case (.bytes?, _):
            throw .invalidType(schemaType: "bytes type", javaClass: data.javaClassName)
        case (let type?, _):
            throw .invalidType(schemaType: type.connectName, javaClass: data.javaClassName)
        }
    }

    /// Member order as Kafka Connect's `JsonConverter.asJsonSchema` writes it: type, then a struct's fields
    /// or an array's items, then optional, name, version, doc, parameters, default; a struct field's schema
    /// ends with its `field` name. `depth` is the nesting of the schema's own object.
    static func write(
        _ schema: ConnectSchema, fieldName: String?, to json: inout JacksonJSONWriter, depth: Int
    ) throws(ConnectSerializationError) {
        try open(depth: depth)
        json.openObject()
        json.key("type")
        json.string(schema.type.rawValue)
        if schema.type == .struct {
            try open(depth: depth + 1)
            json.comma()
            json.key("fields")
            json.openArray()
            for (index, field) in schema.fields.enumerated() {
                if index > 0 { json.comma() }
                try write(field.schema, fieldName: field.name, to: &json, depth: depth + 2)
            }
            json.closeArray()
        } else if let items = schema.items {
            json.comma()
            json.key("items")
            try write(items, fieldName: nil, to: &json, depth: depth + 1)
        }
        json.comma()
        json.key("optional")
        json.bool(schema.optional)
        if let name = schema.name {
            json.comma()
            json.key("name")
            json.string(name)
        }
        if let version = schema.version {
            json.comma()
            json.key("version")
            json.integer(version)
        }
        if schema.hasRareMembers {
            try writeDocParametersAndDefault(of: schema, to: &json, depth: depth)
        }
        if let fieldName {
            json.comma()
            json.key("field")
            json.string(fieldName)
        }
        json.closeObject()
    }
}

extension ConnectRecordSerializer {
    /// The schema members few schemas have, out of line: `write(_:fieldName:to:depth:)` recurses once per
    /// nesting level, and its frame must stay small for deep schemas on a secondary thread's stack.
    @inline(never)
    static func writeDocParametersAndDefault(
        of schema: ConnectSchema, to json: inout JacksonJSONWriter, depth: Int
    ) throws(ConnectSerializationError) {
        if let doc = schema.doc {
            json.comma()
            json.key("doc")
            json.string(doc)
        }
        if !schema.parameters.isEmpty {
            try open(depth: depth + 1)
            json.comma()
            json.key("parameters")
            json.openObject()
            for (index, parameter) in schema.parameters.enumerated() {
                if index > 0 { json.comma() }
                json.key(parameter.name)
                json.string(parameter.value)
            }
            json.closeObject()
        }
        if let defaultValue = schema.defaultValue {
            json.comma()
            json.key("default")
            try write(defaultValue, schema: schema, to: &json, depth: depth)
        }
    }
}

/// Java's `toString()` of the value classes Kafka Connect holds, which `StringConverter` writes.
enum JavaToString {
    static func render(_ data: ConnectData, schema: ConnectSchema?) throws(ConnectSerializationError) -> String {
        switch data {
        case .null: return "null"
        case .string(let text): return text
        // `byte[].toString()` is a class name and an identity hash: nothing to reproduce.
        case .bytes: throw .stringConverterGotBytes
        case .boolean(let flag): return flag ? "true" : "false"
        case .int16(let number): return String(number)
        case .int32(let number): return String(number)
        case .int64(let number): return String(number)
        case .float32(let number): return JavaFloat.string(number)
        case .float64(let number): return JavaDouble.string(number)
        // `AbstractCollection.toString()`.
        case .array(let elements):
            var parts: [String] = []
            for element in elements { parts.append(try render(element, schema: schema?.items)) }
            return "[" + parts.joined(separator: ", ") + "]"
        // Connect's `Struct.toString()`: `Struct{name=value,…}` with only the non-null fields.
        case .struct(let values):
            guard let schema, values.count == schema.fields.count else { throw .mismatchingSchema }
            var parts: [String] = []
            for (field, value) in zip(schema.fields, values) where value != .null {
                parts.append(field.name + "=" + (try render(value, schema: field.schema)))
            }
            return "Struct{" + parts.joined(separator: ",") + "}"
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
