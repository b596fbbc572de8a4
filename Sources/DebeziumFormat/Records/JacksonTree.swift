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
