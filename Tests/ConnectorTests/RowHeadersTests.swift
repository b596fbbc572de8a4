@testable import Connector
import Testing

@Suite("Header columns")
struct RowHeadersTests {
    @Test(arguments: [
        "", "{", #"{"a": }"#, #"{"a": "b""#, #"{"a": "b"} x"#, #"{"a": tru}"#, #"{"a": 01x}"#, #"{"a": "\x"}"#,
        #"{"a": "\u12"}"#, "[1]", String(repeating: "[", count: 100),
    ])
    func malformedJSONIsATypedError(text: String) {
        #expect(throws: RowHeadersError.self) { try RowHeaders.jsonObject(utf8(text), column: "h") }
        #expect(throws: RowHeadersError.self) { try RowHeaders.jsonPairs(utf8(text), column: "h") }
    }

    @Test func everyTruncationOfAValidColumnFailsCleanly() throws {
        let pairs = utf8(#"[{"key": "a", "value": "x\"y"}, {"key": "b", "value": {"c": [1, 2.5e3, null]}}]"#)
        #expect(try RowHeaders.jsonPairs(pairs, column: "h").count == 2)
        for end in pairs.indices.dropLast() {
            #expect(throws: RowHeadersError.self) { try RowHeaders.jsonPairs(pairs[..<end], column: "h") }
        }
        let array = utf8(#"{a,"b \"c\"",NULL}"#)
        #expect(try RowHeaders.textArray(array, column: "h") == [Array("a".utf8), Array(#"b "c""#.utf8), nil])
        for end in array.indices.dropLast() {
            #expect(throws: RowHeadersError.self) { try RowHeaders.textArray(array[..<end], column: "h") }
        }
    }

    @Test func textArraysOfOtherShapesAreRefused() {
        for text in ["{{a},{b}}", "a,b", "{a,,b}", "{a}x", "{\"a\"b}"] {
            #expect(throws: RowHeadersError.self, "\(text)") { try RowHeaders.textArray(utf8(text), column: "h") }
        }
        #expect((try? RowHeaders.textArray(utf8("{}"), column: "h"))?.isEmpty == true)
    }
}
