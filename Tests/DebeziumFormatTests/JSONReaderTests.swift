@testable import DebeziumFormat
import Testing

/// The reader of Kafka Connect's JSON: numbers as written, members in order with repeats, and errors with
/// their line and column.
@Suite("JSONReader")
struct JSONReaderTests {
    private func dump(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return "\"\(text)\""
        case .number(let text): return text
        case .bool(let flag): return "\(flag)"
        case .null: return "null"
        case .array(let elements): return "[" + elements.map(dump).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.map { "\($0.name)=\(dump($0.value))" }.joined(separator: ",") + "}"
        }
    }

    @Test func numbersKeepTheirTextAndMembersTheirOrder() throws {
        let value = try JSONReader.parse(#" {"b": 1.50, "a": [10000, -0, 2E+3], "b": "\ud83d\ude00\ud800", "t": true, "n": null} "#)
        #expect(dump(value) == #"{b=1.50,a=[10000,-0,2E+3],b="😀\#u{FFFD}",t=true,n=null}"#)
    }

    @Test(arguments: [
        (#"{"a": tru}"#, 1, 10, "expected true, found '}'"),
        (#"{"a": 1,}"#, 1, 9, "expected a member name in quotes, found '}'"),
        ("[1 2]", 1, 4, "expected ',' or ']' in an array, found '2'"),
        (#"{"a" 1}"#, 1, 6, "expected ':' after the member name, found '1'"),
        (#"{"a": 1 "b": 2}"#, 1, 9, #"expected ',' or '}' in an object, found '"'"#),
        (#"{"é": "x\y"}"#, 1, 10, #"invalid escape \y in a string"#),
        (#"{"a": "\u12g4"}"#, 1, 12, #"\u must be followed by four hex digits, found 'g'"#),
        ("{} x", 1, 4, "unexpected 'x' after the end of the JSON value"),
        ("{\n\"a\": \u{1}}", 2, 6, "expected a value, found control character U+1"),
        ("{\"a\": \"x\ty\"}", 1, 9, "control character U+9 inside a string (write it as an escape)"),
        (#"{"a": "open"#, 1, 12, "unterminated string"),
        (#"{"a": -x}"#, 1, 8, "expected a digit, found 'x'"),
        (#"{"a": 01}"#, 1, 8, "expected ',' or '}' in an object, found '1'"),
        ("", 1, 1, "expected a value, found end of text"),
    ])
    func errorsSayWhatAndWhere(text: String, line: Int, column: Int, reason: String) {
        #expect(throws: DebeziumConfigError.invalidJSON(line: line, column: column, reason: reason)) { try JSONReader.parse(text) }
    }

    @Test func nestingIsCapped() throws {
        let nested = { (levels: Int) in String(repeating: "[", count: levels) + String(repeating: "]", count: levels) }
        _ = try JSONReader.parse(nested(JSONReader.maximumDepth))
        #expect(throws: DebeziumConfigError.invalidJSON(line: 1, column: 65, reason: "nesting deeper than 64 levels")) {
            try JSONReader.parse(nested(JSONReader.maximumDepth + 1))
        }
    }
}
