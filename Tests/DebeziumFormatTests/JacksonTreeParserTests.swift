@testable import DebeziumFormat
import Testing

/// The reader that stands in for Jackson's `readTree`: the node types Debezium infers schemas from,
/// repeated names, and Jackson's refusals.
@Suite("JacksonTreeParser")
struct JacksonTreeParserTests {
    private func dump(_ node: JacksonNode) -> String {
        switch node {
        case .object(let object): return "{" + zip(object.names, object.values).map { "\($0)=\(dump($1))" }.joined(separator: ",") + "}"
        case .array(let elements): return "[" + elements.map(dump).joined(separator: ",") + "]"
        case .string(let text): return "\"\(text)\""
        case .int(let number): return "int \(number)"
        case .long(let number): return "long \(number)"
        case .bigInteger(let digits): return "big \(digits)"
        case .double(let number): return "double \(number)"
        case .boolean(let flag): return "\(flag)"
        case .null: return "null"
        }
    }

    @Test func nodeTypesAndRepeatedNames() throws {
        let parsed = try JacksonTreeParser.parse(
            #"{"i": -2147483648, "l": 2147483648, "b": 12345678901234567890, "d": 1.0, "e": 1e2, "s": "\u00e9", "i": [true, null, {}]} trailing"#)
        #expect(dump(parsed.node)
            == #"{i=[true,null,{}],l=long 2147483648,b=big 12345678901234567890,d=double 1.0,e=double 100.0,s="é"}"#)
        #expect(parsed.depth == 3, "the empty object in the array is a third level")
        #expect(try JacksonTreeParser.parse("[[[]]]").depth == 3)
        #expect(try JacksonTreeParser.parse(#""x""#).depth == 0)
    }

    @Test(arguments: [
        (#"{"a": 01}"#, "leading zeroes not allowed", 7),
        ("[-01]", "leading zeroes not allowed", 3),
        ("[truex]", "unrecognized token", 5),
        ("[tru]", "unrecognized token: expected true", 1),
        ("[1 2]", "expected ',' or ']' in an array", 3),
        (#"{"a": 1 "b": 2}"#, "expected ',' or '}' in an object", 8),
        ("{'a': 1}", "expected a member name in double quotes", 1),
        (#"{"a" 1}"#, "expected ':' after a member name", 5),
        (#"["\q"]"#, "unrecognized character escape", 4),
        (#"["\u00g0"]"#, #"expected a hex digit in a \u escape"#, 6),
        ("[\"a\u{1}\"]", "illegal unquoted control character in a string", 3),
        (#"["open"#, "unexpected end of input in a string", 6),
        ("[\"a\\", "unexpected end of input in an escape", 4),
        ("[1.5.2]", "unexpected character in a number", 4),
        ("[1x]", "unexpected character in a number", 2),
        ("[-x]", "expected a digit after '-'", 2),
        ("[1.]", "expected a digit in a number", 3),
        ("]", "unexpected character 0x5d: expected a value", 0),
        ("[NaN]", "unexpected character 0x4e: expected a value", 1),
        ("[1,", "unexpected end of input: expected a value", 3),
    ])
    func refusalsSayWhatAndWhere(text: String, reason: String, offset: Int) {
        #expect(throws: JacksonParseError(reason: reason, offset: offset)) { try JacksonTreeParser.parse(text) }
    }

    @Test func limits() throws {
        let nested = { (levels: Int) in String(repeating: "[", count: levels) + String(repeating: "]", count: levels) }
        #expect(try JacksonTreeParser.parse(nested(JacksonTreeParser.maximumDepth)).depth == JacksonTreeParser.maximumDepth)
        #expect(throws: JacksonParseError(reason: "document nesting depth exceeds the maximum allowed (1000)", offset: 1000)) {
            try JacksonTreeParser.parse(nested(JacksonTreeParser.maximumDepth + 1))
        }
        let digits = { (count: Int) in "[" + String(repeating: "7", count: count) + "]" }
        #expect(dump(try JacksonTreeParser.parse(digits(1000)).node).hasPrefix("[big 777"))
        #expect(throws: JacksonParseError(reason: "number value length exceeds the maximum allowed (1000)", offset: 1002)) {
            try JacksonTreeParser.parse(digits(1001))
        }
    }
}
