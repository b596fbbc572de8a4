@testable import Connector
import TestSupport
import Testing

/// The reader under the header columns and the logical message envelope: the shapes, the raw text of
/// values, and what its errors say and where.
@Suite("JSONScanner")
struct JSONScannerTests {
    private func headers(_ text: String) throws(RowHeadersError) -> [String] {
        try RowHeaders.jsonObject(utf8(text), column: "h").map { "\($0.name)=\($0.value.map { String(decoding: $0, as: UTF8.self) } ?? "nil")" }
    }

    @Test func valuesOtherThanStringsAreTheirTextAsWritten() throws {
        #expect(try headers(#"{"o": { "x" : [ 1 ,2 ] } , "n": -1.5e3, "t": true, "z": null, "s": "a\"b"}"#) == [
            #"o={ "x" : [ 1 ,2 ] }"#, "n=-1.5e3", "t=true", "z=nil", #"s=a"b"#,
        ])
    }

    /// Leading zeros, which RFC 8259 does not allow, were always taken as part of the number here.
    @Test func leadingZerosStayInTheNumber() throws {
        #expect(try headers(#"{"a": 007, "b": -00.5e1, "c": [0, 00]}"#) == ["a=007", "b=-00.5e1", "c=[0, 00]"])
        #expect(throws: RowHeadersError.notJSON(column: "h", offset: 9, reason: "a number without digits after '.'")) {
            try headers(#"{"a": 00.}"#)
        }
        #expect(throws: RowHeadersError.notJSON(column: "h", offset: 8, reason: "expected ',' or '}'")) { try headers(#"{"a": 0-1}"#) }
    }

    @Test(arguments: [
        (#"{"a" 1}"#, RowHeadersError.notJSON(column: "h", offset: 5, reason: "expected ':'")),
        (#"{"a": 1 "b"}"#, .notJSON(column: "h", offset: 9, reason: "expected ',' or '}'")),
        (#"{"a": 1"#, .notJSON(column: "h", offset: 7, reason: "the object is not closed")),
        (#"{"a": tru}"#, .notJSON(column: "h", offset: 6, reason: "expected true")),
        (#"{"a": -}"#, .notJSON(column: "h", offset: 7, reason: "a number without digits")),
        (#"{"a": 1e}"#, .notJSON(column: "h", offset: 8, reason: "a number without exponent digits")),
        (#"{"a": "\u12"}"#, .notJSON(column: "h", offset: 11, reason: "a \\u escape has a non-hex digit")),
        (#"{"a": "\u1"#, .notJSON(column: "h", offset: 9, reason: "a \\u escape is cut short")),
        (#"{"a": "\q"}"#, .notJSON(column: "h", offset: 9, reason: "an unknown escape")),
        ("{\"a\": \"x\u{1}\"}", .notJSON(column: "h", offset: 9, reason: "a control character inside a string")),
        (#"{"a": "x"#, .notJSON(column: "h", offset: 8, reason: "a string is not closed")),
        (#"{1: 2}"#, .notJSON(column: "h", offset: 1, reason: "expected a member name")),
        (#"{"a": ]}"#, .notJSON(column: "h", offset: 6, reason: "expected a value")),
        (#"{"a": 1} x"#, .notJSON(column: "h", offset: 9, reason: "text after the value")),
        (#"["a"]"#, .wrongShape(column: "h", expected: "a JSON object")),
    ])
    func errorsSayWhatAndWhere(text: String, error: RowHeadersError) {
        #expect(throws: error) { try headers(text) }
    }

    @Test func nestingIsCapped() throws {
        let deep = { (levels: Int) in #"{"a": "# + String(repeating: "[", count: levels) + String(repeating: "]", count: levels) + "}" }
        #expect(try headers(deep(64)).count == 1)
        #expect(throws: RowHeadersError.notJSON(column: "h", offset: 70, reason: "nested deeper than 64 levels")) { try headers(deep(65)) }
    }

    /// Seeded random damage to a valid envelope and header column: a typed error or headers, never a trap.
    @Test func damagedInputEndsInATypedErrorOrAValue() {
        var random = SplitMix64(seed: 0x5CA7)
        let valid = Array(#"{"key": "k", "headers": {"a": "x\u00e9", "b": null}, "value": {"total": [1, 2.5e3, true]}}"#.utf8)
        let significant = Array(#"{}[]:,"\u0-.e1tn "#.utf8) + [0x00, 0xFF]
        var outcomes = (values: 0, errors: 0)
        for _ in 0..<2_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...3, using: &random) where !bytes.isEmpty {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[position] = significant[Int.random(in: 0..<significant.count, using: &random)]
                case 1: bytes.insert(significant[Int.random(in: 0..<significant.count, using: &random)], at: position)
                case 2: bytes.remove(at: position)
                default: bytes.removeSubrange(position...)
                }
            }
            do {
                _ = try RowHeaders.jsonObject(bytes[...], column: "h")
                outcomes.values += 1
            } catch {
                outcomes.errors += 1
            }
        }
        #expect(outcomes.values > 50)
        #expect(outcomes.errors > 50)
    }
}
