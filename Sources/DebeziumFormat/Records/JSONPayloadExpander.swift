/// `table.expand.json.payload=true`: Debezium parses the payload string with Jackson and replaces it by a
/// Connect struct whose schema it infers from the JSON (`EventRouterDelegate` + `JsonSchemaData`).
///
/// What the captures show (expand-json, expand-json-noschemas, expand-json-optional-bytes, expand-json-fatal)
/// and this type reproduces:
/// - The top struct is named after the payload column (`payload`), nested ones `payload.<field>…`; every
///   inferred schema is optional. Fields follow the JSON's member order (jsonb's own order for jsonb).
/// - Integers that fit 32 bits → int32, 64 bits → int64; numbers with a point or exponent → double.
/// - JSON nulls and empty arrays are dropped, or with `optional_bytes` nulls become optional bytes fields.
/// - An array of objects gets one element struct, named like the array's field, with the fields of all its
///   elements merged (see `mergedElementSchema`).
/// - Where inference fails (mixed array, int and double in one array, an empty member name, an array of
///   nulls) Debezium logs `WARN JSON expansion failed` and publishes the string unexpanded.
/// - Where inference succeeds but the value cannot be built (a top-level array, an integer beyond 64 bits,
///   conflicting element types) Debezium has already replaced the schema: it publishes the new schema with
///   the old string, and JsonConverter then kills the task (`Invalid type for ARRAY/STRUCT: class
///   java.lang.String`). `expand` returns exactly that pair; `ConnectRecordSerializer` raises the error.
///
/// Differences from the code as read (debezium-core `EventRouterDelegate.parseJsonPayload`): a payload that
/// does not start with `{` or `[` (a scalar, or text with leading blanks) is not parsed at all and goes out
/// unexpanded; the goldens' README says a top-level scalar kills the task, which the code does not do.
public struct JSONPayloadExpander: Sendable {
    /// `table.json.payload.null.behavior`.
    public var nullBehavior: EventRouterSettings.JSONPayloadNullBehavior
    /// `table.field.event.payload`: Debezium names the top struct after the payload column.
    public var payloadColumn: String

    public init(nullBehavior: EventRouterSettings.JSONPayloadNullBehavior = .ignore, payloadColumn: String = "payload") {
        self.nullBehavior = nullBehavior
        self.payloadColumn = payloadColumn
    }

    public init(settings: EventRouterSettings) {
        self.init(nullBehavior: settings.jsonPayloadNullBehavior, payloadColumn: settings.payloadColumn)
    }

    /// What Debezium carries on as the payload after trying to expand it.
    public struct Result: Sendable, Equatable {
        /// The expanded struct; or the payload unchanged; or, where Debezium replaced the schema but could
        /// not build the value, the new schema (possibly nil) with the old string.
        public var value: ConnectValue
        /// The text of Debezium's WARN line, nil when the payload expanded cleanly.
        public var warning: String?
    }

    /// The deepest payload expanded here. Debezium expands up to Jackson's 1000 levels; inferring and
    /// writing the struct recurses once per level, which past this depth could exhaust a small thread stack,
    /// so a deeper payload is refused with `OutboxRecordError.payloadTooDeepToExpand` (publishing it
    /// unexpanded would not be what Debezium wrote). Payloads Jackson cannot read at all (deeper than 1000)
    /// go out unexpanded, as in Debezium.
    public static let maximumExpansionDepth = 100

    public func expand(_ payload: ConnectValue) throws(OutboxRecordError) -> Result {
        guard case .string(let text) = payload.data else {
            return Result(value: payload, warning: "Expand JSON payload is turned on but payload is not a string")
        }
        // `parseJsonPayload`: only text that starts with `{` or `[` reaches Jackson.
        guard let first = text.utf8.first else {
            return Result(value: payload, warning: "JSON expansion failed: the payload is empty")
        }
        guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            return Result(value: payload, warning: "JSON expansion failed: Unable to parse payload starting with '\(text.prefix(1))'")
        }
        let parsed: (node: JacksonNode, depth: Int)
        do {
            parsed = try JacksonTreeParser.parse(text)
        } catch {
            return Result(value: payload, warning: "JSON expansion failed: \(error.reason) at byte \(error.offset)")
        }
        guard parsed.depth <= Self.maximumExpansionDepth else {
            throw .payloadTooDeepToExpand(depth: parsed.depth, limit: Self.maximumExpansionDepth)
        }
        let document = parsed.node
        let schema: ConnectSchema?
        do {
            schema = try inferSchema(of: document, key: payloadColumn)
        } catch {
            return Result(value: payload, warning: "JSON expansion failed: \(error)")
        }
        // From here on Debezium has replaced the schema; a failure keeps the string under the new schema.
        guard let schema, case .object(let object) = document else {
            let reason = schema.map { "Not a struct schema: Schema{\($0.type.connectName)}" } ?? "no schema inferred"
            return Result(value: ConnectValue(schema: schema, data: payload.data), warning: "JSON expansion failed: \(reason)")
        }
        do {
            return Result(value: ConnectValue(schema: schema, data: try structData(object, schema: schema)), warning: nil)
        } catch {
            return Result(value: ConnectValue(schema: schema, data: payload.data), warning: "JSON expansion failed: \(error.reason)")
        }
    }

    // MARK: Schema inference (JsonSchemaData.toConnectSchema)

    private struct InferenceError: Error, CustomStringConvertible {
        var description: String
    }

    /// The schema of `node`, nil where Debezium leaves a member out (a null, an empty array).
    private func inferSchema(of node: JacksonNode, key: String?) throws(InferenceError) -> ConnectSchema? {
        switch node {
        case .string: return ConnectSchema(type: .string, optional: true)
        case .boolean: return ConnectSchema(type: .boolean, optional: true)
        case .int: return ConnectSchema(type: .int32, optional: true)
        case .long: return ConnectSchema(type: .int64, optional: true)
        // Debezium types a BigInteger as a double too (its value then fails: see `fieldData`).
        case .double, .bigInteger: return ConnectSchema(type: .float64, optional: true)
        case .null:
            return nullBehavior == .optionalBytes ? ConnectSchema(type: .bytes, optional: true) : nil
        case .array(let elements):
            guard !elements.isEmpty else { return nil }
            return .array(of: try elementSchema(of: elements, key: key), optional: true)
        case .object(let object):
            var fields: [ConnectField] = []
            let prefix = key.map { JavaString.trimsToEmpty($0) ? "" : $0 + "." } ?? ""
            // Jackson's object holds each name once, so Debezium's `hasField` check never skips one here.
            for (name, value) in zip(object.names, object.values) {
                guard let schema = try inferSchema(of: value, key: prefix + name) else { continue }
                // Kafka's SchemaBuilder.field rejects an empty name.
                guard !name.isEmpty else { throw InferenceError(description: "fieldName cannot be null.") }
                fields.append(ConnectField(name: name, schema: schema))
            }
            return .struct(name: key, optional: true, fields: fields)
        }
    }

    /// `toConnectSchemaWithCycles`: the element schema of a non-empty array.
    private func elementSchema(of elements: [JacksonNode], key: String?) throws(InferenceError) -> ConnectSchema {
        let sample = try homogeneousSample(of: elements)
        guard case .object = sample else {
            guard let schema = try inferSchema(of: sample, key: nil) else {
                throw InferenceError(description: "Array '' has unrecognized member schema.")
            }
            return schema
        }
        var distinct: [ConnectSchema] = []
        var seen: Set<ConnectSchema> = []
        for element in elements {
            guard case .object = element, let schema = try inferSchema(of: element, key: key) else { continue }
            if seen.insert(schema).inserted { distinct.append(schema) }
        }
        return mergedElementSchema(distinct)
    }

    /// `getFirstArrayElement`: the first non-null element, after checking that every non-null element is
    /// of its kind and, for numbers, of its Connect type (int32, int64 and double do not mix).
    private func homogeneousSample(of elements: [JacksonNode]) throws(InferenceError) -> JacksonNode {
        var sample = JacksonNode.null
        var sampleNumberType: ConnectSchema.FieldType?
        for element in elements {
            if case .null = element { continue }
            if case .null = sample { sample = element }
            guard element.nodeType == sample.nodeType else {
                throw InferenceError(description: "Field is not a homogenous array (\(sample.text) x \(element.nodeType)).")
            }
            guard sample.nodeType == "NUMBER" else { continue }
            let sampleType = sampleNumberType ?? Self.numberType(of: sample)
            sampleNumberType = sampleType
            guard Self.numberType(of: element) == sampleType else {
                throw InferenceError(description: "Field is not a homogenous array (\(sample.text) x \(element.text)), different number types")
            }
        }
        return sample
    }

    private static func numberType(of node: JacksonNode) -> ConnectSchema.FieldType {
        switch node {
        case .int: return .int32
        case .long: return .int64
        default: return .float64
        }
    }

    /// The element struct of an array of objects.
    ///
    /// Debezium collects the elements' schemas in a `java.util.HashSet` and folds them with `mergeSchema`:
    /// the first schema's fields, then each further schema's new fields (a `bytes` field, from a null, gives
    /// way to a typed one in place). A single distinct schema is used as is (optional); a merged one is
    /// built by `copySchemaBasics`, which does not copy `optional`, so it is required (`"optional":false`).
    ///
    /// The HashSet's order depends on Java identity hash codes (`Schema.Type` is an enum inside
    /// `ConnectSchema.hashCode`), so it is not a function of the JSON. This takes the schemas with the most
    /// fields first, ties in array order, which gives the order every capture shows
    /// (expand-json: `a, b`; expand-json-optional-bytes: `a, c, b`).
    private func mergedElementSchema(_ schemas: [ConnectSchema]) -> ConnectSchema {
        let ordered = schemas.enumerated().sorted { left, right in
            left.element.fields.count != right.element.fields.count
                ? left.element.fields.count > right.element.fields.count : left.offset < right.offset
        }.map(\.element)
        guard var merged = ordered.first, ordered.count > 1 else { return ordered.first ?? .struct(name: nil, optional: true, fields: []) }
        merged.optional = false
        var positions = Dictionary(merged.fields.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { first, _ in first })
        for schema in ordered.dropFirst() {
            for field in schema.fields {
                if let index = positions[field.name] {
                    let old = merged.fields[index].schema
                    if old != field.schema, old.type == .bytes, field.schema.type != .bytes {
                        merged.fields[index].schema = field.schema
                    }
                } else {
                    positions[field.name] = merged.fields.count
                    merged.fields.append(field)
                }
            }
        }
        return merged
    }

    // MARK: Value conversion (JsonSchemaData.toConnectData, checked as Struct.put checks it)

    private struct ConversionError: Error {
        var reason: String
    }

    private func structData(_ object: JacksonObject, schema: ConnectSchema) throws(ConversionError) -> ConnectData {
        guard schema.type == .struct else {
            throw ConversionError(reason: "Not a struct schema: Schema{\(schema.type.connectName)}")
        }
        var values: [ConnectData] = []
        values.reserveCapacity(schema.fields.count)
        for field in schema.fields {
            // `document.has(name)`: a missing member stays null.
            if let node = object[field.name] {
                values.append(try fieldData(node, schema: field.schema))
            } else {
                values.append(.null)
            }
        }
        return .struct(values)
    }

    /// `getStructFieldValue`, then the class check of `ConnectSchema.validateValue`.
    private func fieldData(_ node: JacksonNode, schema: ConnectSchema) throws(ConversionError) -> ConnectData {
        let data: ConnectData
        switch node {
        case .null:
            guard schema.optional else {
                throw ConversionError(reason: "Invalid value: null used for required field, schema type: \(schema.type.connectName)")
            }
            return .null
        case .string(let text): data = .string(text)
        case .boolean(let flag): data = .boolean(flag)
        case .int(let number): data = .int32(number)
        case .long(let number): data = .int64(number)
        case .double(let number): data = .float64(number)
        // `node.decimalValue()`: a BigDecimal, which no inferred schema takes.
        case .bigInteger:
            throw ConversionError(reason: "Invalid Java object for schema with type \(schema.type.connectName): class java.math.BigDecimal")
        case .array(let elements):
            guard schema.type == .array, let items = schema.items else { throw mismatch(schema, "class java.util.ArrayList") }
            var converted: [ConnectData] = []
            converted.reserveCapacity(elements.count)
            for element in elements { converted.append(try fieldData(element, schema: items)) }
            return .array(converted)
        case .object(let object):
            return try structData(object, schema: schema)
        }
        guard ConnectSchemaCheck.accepts(schema.type, data) else { throw mismatch(schema, data.javaClassName) }
        return data
    }

    private func mismatch(_ schema: ConnectSchema, _ javaClass: String) -> ConversionError {
        ConversionError(reason: "Invalid Java object for schema with type \(schema.type.connectName): \(javaClass)")
    }
}

/// The class check of Kafka Connect's `ConnectSchema.validateValue`, which `Struct.put` runs.
enum ConnectSchemaCheck {
    static func accepts(_ type: ConnectSchema.FieldType, _ data: ConnectData) -> Bool {
        switch (type, data) {
        case (_, .null), (.string, .string), (.bytes, .bytes), (.boolean, .boolean), (.int16, .int16),
             (.int32, .int32), (.int64, .int64), (.float64, .float64), (.array, .array), (.struct, .struct):
            return true
        default:
            return false
        }
    }
}
