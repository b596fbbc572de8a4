import JSONTokens
import TestSupport
import Testing

/// UTF-8 bytes of a string.
private func utf8(_ text: String) -> ArraySlice<UInt8> {
    Array(text.utf8)[...]
}

/// Every step of a tokenizer over `bytes`, up to the end or the first error.
private func steps(_ bytes: ArraySlice<UInt8>) -> [JSONTokenizer.Step] {
    var tokenizer = JSONTokenizer(bytes)
    var steps: [JSONTokenizer.Step] = []
    while true {
        let step = tokenizer.step()
        steps.append(step)
        guard case .token = step else { return steps }
    }
}

private func kinds(_ text: String) -> [JSONTokenizer.Kind] {
    steps(utf8(text)).compactMap { if case .token(let token) = $0 { token.kind } else { nil } }
}

private func failure(_ text: String) -> JSONTokenizer.Error? {
    if case .failure(let error) = steps(utf8(text)).last { error } else { nil }
}

@Suite("JSONTokenizer")
struct JSONTokenizerTests {
    @Test func tokensAndTheirSpans() throws {
        let text = #" {"a": [1, -2.5e+3, true, false, null], "b\n": {}} "#
        var tokenizer = JSONTokenizer(utf8(text))
        var found: [(JSONTokenizer.Kind, String)] = []
        while let token = try tokenizer.next() {
            found.append((token.kind, String(decoding: tokenizer.text(token.range), as: UTF8.self)))
        }
        #expect(found.map(\.0) == [
            .beginObject, .string, .colon, .beginArray, .number, .comma, .number, .comma, .true, .comma, .false, .comma,
            .null, .endArray, .comma, .string, .colon, .beginObject, .endObject, .endObject,
        ])
        #expect(found.map(\.1) == [
            "{", #""a""#, ":", "[", "1", ",", "-2.5e+3", ",", "true", ",", "false", ",", "null", "]", ",", #""b\n""#, ":", "{",
            "}", "}",
        ])
        #expect(tokenizer.offset == text.utf8.count, "the whitespace at the end is read past")
        #expect(try tokenizer.next() == nil)
    }

    /// Offsets count from the start of the slice, wherever it lies in its array.
    @Test func offsetsAreRelativeToTheSlice() throws {
        let buffer = Array(#"xx ["é", 1] yy"#.utf8)
        let slice = buffer[2..<(buffer.count - 3)]
        var tokenizer = JSONTokenizer(slice)
        #expect(try tokenizer.next() == .init(kind: .beginArray, range: 1..<2))
        let string = try #require(try tokenizer.next())
        #expect(string.range == 2..<6)
        #expect(tokenizer.string(string) == "é")
        #expect(tokenizer.byte(at: 0) == UInt8(ascii: " "))
        #expect(tokenizer.byte(at: slice.count) == nil)
        #expect(try tokenizer.next()?.kind == .comma)
        #expect(try tokenizer.next()?.range == 8..<9)
        #expect(try tokenizer.next()?.kind == .endArray)
        #expect(tokenizer.step() == .end(offset: slice.count))
    }

    @Test(arguments: ["0", "-0", "12", "-12", "0.5", "1.25", "1e5", "1E+5", "1e-05", "-0.0e0", "123456789012345678901234567890"])
    func numbers(text: String) {
        #expect(steps(utf8(text)) == [.token(.init(kind: .number, range: 0..<text.utf8.count)), .end(offset: text.utf8.count)])
    }

    /// A number ends where the grammar says: what follows is another token (or no token at all).
    @Test func whatFollowsANumberIsTheNextToken() {
        #expect(kinds("01") == [.number, .number])
        #expect(kinds("-01.5") == [.number, .number])
        #expect(kinds("1true") == [.number, .true])
        #expect(failure("1x") == .init(reason: .unexpectedByte, offset: 1, tokenStart: 1))
        #expect(failure("1.5.3") == .init(reason: .unexpectedByte, offset: 3, tokenStart: 3))
    }

    @Test(arguments: [
        ("-", JSONTokenizer.NumberPart.integer, 1), ("-x", .integer, 1), ("- 1", .integer, 1), ("1.", .fraction, 2),
        ("1.e5", .fraction, 2), ("1e", .exponent, 2), ("1e+", .exponent, 3), ("1E-x", .exponent, 3), ("0.5e", .exponent, 4),
    ])
    func numbersWithoutTheirDigits(text: String, part: JSONTokenizer.NumberPart, offset: Int) {
        #expect(failure(text) == .init(reason: .missingDigits(part), offset: offset, tokenStart: 0))
    }

    @Test func literals() {
        #expect(kinds("true false null") == [.true, .false, .null])
        #expect(kinds("truefalse") == [.true, .false], "a literal ends after its word")
        #expect(failure("  tru") == .init(reason: .invalidLiteral(.true), offset: 5, tokenStart: 2))
        #expect(failure("[nul]") == .init(reason: .invalidLiteral(.null), offset: 4, tokenStart: 1))
        #expect(failure("fals e") == .init(reason: .invalidLiteral(.false), offset: 4, tokenStart: 0))
        #expect(failure("True") == .init(reason: .unexpectedByte, offset: 0, tokenStart: 0))
        #expect(JSONTokenizer.Kind.null.literalWord == "null")
        #expect(JSONTokenizer.Kind.comma.literalWord == nil)
    }

    @Test func bytesThatStartNoToken() {
        for text in ["'a'", "NaN", "+1", ".5", "/* */", "\u{FEFF}{}", "é", "\u{0}", "\u{0B}"] {
            #expect(failure(text) == .init(reason: .unexpectedByte, offset: 0, tokenStart: 0), "\(text)")
        }
    }

    @Test func stringValues() throws {
        let cases: [(String, String)] = [
            (#""""#, ""),
            (#""plain é 😀""#, "plain é 😀"),
            (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
            (#""\u0041\u00e9\u20AC""#, "Aé€"),
            (#""\ud83d\ude00""#, "😀"),
            (#""\uD83D\uDE00x""#, "😀x"),
            // Lone surrogates, and a high one followed by something that is not its low half.
            (#""\ud800""#, "\u{FFFD}"),
            (#""\udc00\ud800""#, "\u{FFFD}\u{FFFD}"),
            (#""\ud800\u0041""#, "\u{FFFD}A"),
            (#""\ud800\ud83d\ude00""#, "\u{FFFD}😀"),
            (#""\ud800😀""#, "\u{FFFD}😀"),
        ]
        for (text, value) in cases {
            var tokenizer = JSONTokenizer(utf8(text))
            let token = try #require(try tokenizer.next())
            #expect(token.kind == .string)
            #expect(token.range == 0..<text.utf8.count)
            #expect(token.hasEscapes == text.contains("\\"))
            #expect(tokenizer.string(token) == value, "\(text)")
        }
        // Bytes that are not UTF-8 are replaced, with or without escapes around them.
        let invalid: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0x5C, 0x6E, 0xC3, 0x22]
        var tokenizer = JSONTokenizer(invalid[...])
        let token = try #require(try tokenizer.next())
        #expect(tokenizer.string(token) == "a\u{FFFD}b\n\u{FFFD}")
    }

    @Test func brokenStrings() {
        #expect(failure(#"  "open"#) == .init(reason: .unterminatedString, offset: 7, tokenStart: 2))
        #expect(failure("\"a\\") == .init(reason: .unterminatedEscape, offset: 3, tokenStart: 0))
        #expect(failure(#""a\x""#) == .init(reason: .invalidEscape, offset: 3, tokenStart: 0))
        #expect(failure("\"a\u{1}\"") == .init(reason: .controlCharacterInString, offset: 2, tokenStart: 0))
        #expect(failure("\"\n\"") == .init(reason: .controlCharacterInString, offset: 1, tokenStart: 0))
        #expect(failure(#"["\u12"]"#) == .init(reason: .invalidUnicodeEscape(escapeStart: 2), offset: 6, tokenStart: 1))
        #expect(failure(#""\u12"#) == .init(reason: .invalidUnicodeEscape(escapeStart: 1), offset: 5, tokenStart: 0))
        #expect(failure(#""\ud800\uZZZZ""#) == .init(reason: .invalidUnicodeEscape(escapeStart: 7), offset: 9, tokenStart: 0))
        // DEL and bytes above are fine inside a string.
        #expect(kinds("\"\u{7F}é\"") == [.string])
    }

    @Test func theEndComesAfterTheWhitespace() {
        #expect(steps(utf8("")) == [.end(offset: 0)])
        #expect(steps(utf8(" \t\r\n")) == [.end(offset: 4)])
        #expect(JSONTokenizer.Step.end(offset: 4).start == 4)
        #expect(JSONTokenizer.Step.failure(.init(reason: .unexpectedByte, offset: 3, tokenStart: 3)).start == 3)
    }

    // MARK: - Damaged input

    static let documents = [
        #"{"name": "inventory-outbox", "config": {"tasks.max": 1, "ratio": -0.25e-3, "on": true, "off": false, "none": null}}"#,
        #"[{"key": "a", "value": "x\"y"}, {"key": "b", "value": {"c": [1, 2.5e3, null]}}]"#,
        #"{"é": "\ud83d\ude00 \u00e9\n\t", "list": [[], {}, [[0]]], "n": 1E+2}"#,
        #"  "just a string with \\ and \/"  "#,
    ]

    /// Every prefix of a valid document ends in tokens and then the end or an error, never a trap; every
    /// token and error lies inside the prefix.
    @Test(arguments: documents)
    func everyPrefixEndsInTokensOrATypedError(document: String) {
        let bytes = Array(document.utf8)
        for end in 0...bytes.count {
            Self.checkInvariants(bytes[..<end])
        }
    }

    /// Seeded random damage (byte flips, insertions, deletions, cuts) and pure noise: the same.
    @Test(arguments: [UInt64(1), 2, 0x15_0A])
    func randomDamageEndsInTokensOrATypedError(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let significant = Array(#"{}[]:,"\u0123456789-+.eEtrufalsn \/"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xFF]
        var outcomes = (ends: 0, errors: 0)
        for _ in 0..<3_000 {
            var bytes: [UInt8]
            if Int.random(in: 0..<10, using: &random) == 0 {
                bytes = (0..<Int.random(in: 0...30, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                bytes = Array(Self.documents[Int.random(in: 0..<Self.documents.count, using: &random)].utf8)
                for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
                    let position = Int.random(in: 0..<bytes.count, using: &random)
                    let replacement = significant[Int.random(in: 0..<significant.count, using: &random)]
                    switch Int.random(in: 0..<5, using: &random) {
                    case 0: bytes[position] ^= UInt8.random(in: 1...255, using: &random)
                    case 1: bytes[position] = replacement
                    case 2: bytes.insert(replacement, at: position)
                    case 3: bytes.remove(at: position)
                    default: bytes.removeSubrange(position...)
                    }
                }
            }
            let start = Int.random(in: 0...min(2, bytes.count), using: &random)
            switch Self.checkInvariants(bytes[start...]) {
            case .end: outcomes.ends += 1
            default: outcomes.errors += 1
            }
        }
        #expect(outcomes.ends > 100)
        #expect(outcomes.errors > 100)
    }

    /// Tokens come in order without overlapping, only whitespace lies between them, and the last step is
    /// the end or an error inside the input. Returns the last step.
    @discardableResult
    private static func checkInvariants(_ bytes: ArraySlice<UInt8>) -> JSONTokenizer.Step {
        var tokenizer = JSONTokenizer(bytes)
        var previousEnd = 0
        let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        while true {
            let step = tokenizer.step()
            switch step {
            case .token(let token):
                #expect(token.start >= previousEnd && token.end > token.start && token.end <= bytes.count)
                #expect(tokenizer.text(previousEnd..<token.start).allSatisfy(whitespace.contains))
                if token.kind == .string { _ = tokenizer.string(token) }
                previousEnd = token.end
            case .end(let offset):
                #expect(offset == bytes.count)
                #expect(tokenizer.text(previousEnd..<offset).allSatisfy(whitespace.contains))
                return step
            case .failure(let error):
                #expect(error.tokenStart >= previousEnd && error.tokenStart <= error.offset && error.offset <= bytes.count)
                #expect(tokenizer.text(previousEnd..<error.tokenStart).allSatisfy(whitespace.contains))
                return step
            }
        }
    }

    /// Random strings, written with a random choice of escapes, read back as themselves.
    @Test func escapedStringsReadBackAsWritten() throws {
        var random = SplitMix64(seed: 0x5751)
        let pool: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\u{0}", "\n", "\u{1F}", "\u{7F}", "é", "€", "\u{FFFD}", "😀", "\u{10FFFF}"]
        for _ in 0..<2_000 {
            let scalars = (0..<Int.random(in: 0...12, using: &random)).map { _ in pool[Int.random(in: 0..<pool.count, using: &random)] }
            var text = "\""
            for scalar in scalars {
                let mustEscape = scalar == "\"" || scalar == "\\" || scalar.value < 0x20
                if mustEscape || Bool.random(using: &random) {
                    for unit in String(scalar).utf16 {
                        let hex = String(unit, radix: 16)
                        text += "\\u" + String(repeating: "0", count: 4 - hex.count) + (Bool.random(using: &random) ? hex : hex.uppercased())
                    }
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
            text += "\""
            var tokenizer = JSONTokenizer(utf8(text))
            let token = try #require(try tokenizer.next(), "\(text)")
            var expected = ""
            expected.unicodeScalars.append(contentsOf: scalars)
            #expect(tokenizer.string(token) == expected, "\(text)")
            #expect(try tokenizer.next() == nil)
        }
    }
}
