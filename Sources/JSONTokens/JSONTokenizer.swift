/// Splits JSON text (UTF-8 bytes) into the tokens of RFC 8259, each with the span of its text, or stops at a
/// typed error that says what is wrong and where. It is total: any bytes end in tokens or an error, never in
/// a trap.
///
/// Only the lexical grammar is checked here: which tokens follow which (and how deep they nest) is the
/// reader's to decide, and so is what a value means, since the readers built on this differ in that (one
/// keeps a number's text, another types it as Jackson does; one keeps every member of an object, another
/// only the last of a repeated name). A reader that needs only to know whether a comma comes still gets
/// the whole next token, errors included: a token's error carries where the token starts, so the reader
/// can report "expected ','" there instead.
///
/// Offsets count bytes from the start of the input. Whitespace is space, tab, line feed and carriage
/// return. A number is `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, so `01` is two numbers, `0`
/// and `1`; what follows a token (a letter after `true`, a digit after `0`) is the next token's business.
public struct JSONTokenizer: Sendable {
    /// What a token is.
    public enum Kind: Sendable, Equatable {
        case beginObject, endObject, beginArray, endArray, colon, comma
        /// A string, its quotes included in the span; `string(_:)` gives its value.
        case string
        case number
        case `true`, `false`, null

        /// The word of a literal: `true`, `false` or `null`; nil for other kinds.
        public var literalWord: String? {
            switch self {
            case .true: return "true"
            case .false: return "false"
            case .null: return "null"
            default: return nil
            }
        }
    }

    public struct Token: Sendable, Equatable {
        public var kind: Kind
        /// The token's text, as offsets in the input.
        public var range: Range<Int>
        /// A string with at least one escape: its value is not its raw bytes.
        public var hasEscapes: Bool

        public init(kind: Kind, range: Range<Int>, hasEscapes: Bool = false) {
            self.kind = kind
            self.range = range
            self.hasEscapes = hasEscapes
        }

        public var start: Int { range.lowerBound }
        public var end: Int { range.upperBound }
    }

    /// The part of a number that needs a digit.
    public enum NumberPart: Sendable, Equatable {
        /// The integer part, after a minus sign.
        case integer
        /// The fraction, after the point.
        case fraction
        /// The exponent, after `e` or `E` and an optional sign.
        case exponent
    }

    /// Why the input is not JSON, at `offset`, in the token that starts at `tokenStart`.
    public struct Error: Swift.Error, Sendable, Equatable {
        public enum Reason: Sendable, Equatable {
            /// No token starts with the byte at `offset` (which is `tokenStart`).
            case unexpectedByte
            /// The literal of this kind (`true`, `false` or `null`) differs from its word at `offset`, which
            /// may be the end of the input.
            case invalidLiteral(Kind)
            /// A number has no digit at `offset` where this part needs one (`-x`, `1.`, `1e+`).
            case missingDigits(NumberPart)
            /// The input ends inside a string; `offset` is its end.
            case unterminatedString
            /// A byte below 0x20 at `offset`, inside a string (it must be written as an escape).
            case controlCharacterInString
            /// The input ends right after a backslash in a string; `offset` is its end.
            case unterminatedEscape
            /// The byte at `offset`, after a backslash, starts no escape.
            case invalidEscape
            /// The byte at `offset` (or the end of the input) is not one of the four hex digits the `\u`
            /// escape that starts at `escapeStart` (its backslash) needs.
            case invalidUnicodeEscape(escapeStart: Int)
        }

        public var reason: Reason
        /// Where the problem is.
        public var offset: Int
        /// Where the token with the problem starts.
        public var tokenStart: Int

        public init(reason: Reason, offset: Int, tokenStart: Int) {
            self.reason = reason
            self.offset = offset
            self.tokenStart = tokenStart
        }
    }

    /// One step through the input: a token, the end (after any whitespace), or the error that stops it.
    public enum Step: Sendable, Equatable {
        case token(Token)
        case end(offset: Int)
        case failure(Error)

        /// Where the step starts: the token's first byte, the end of the input, or the failed token's
        /// first byte.
        public var start: Int {
            switch self {
            case .token(let token): return token.start
            case .end(let offset): return offset
            case .failure(let error): return error.tokenStart
            }
        }
    }

    /// The input.
    public let bytes: ArraySlice<UInt8>
    /// The index in `bytes` of the next byte to look at.
    private var index: Int

    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    /// The input's length in bytes.
    public var count: Int { bytes.count }

    /// The offset of the next byte to look at: after the last token read (before the whitespace after it), or
    /// where an error stopped the reading.
    public var offset: Int { index - bytes.startIndex }

    /// The byte at `offset`; nil outside the input.
    public func byte(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < bytes.count else { return nil }
        return bytes[bytes.startIndex + offset]
    }

    /// The bytes at `range` (offsets), clamped to the input.
    public func text(_ range: Range<Int>) -> ArraySlice<UInt8> {
        let lower = bytes.startIndex + min(max(range.lowerBound, 0), bytes.count)
        let upper = bytes.startIndex + min(max(range.upperBound, 0), bytes.count)
        return bytes[lower..<max(lower, upper)]
    }

    /// The next token, or nil at the end of the input.
    public mutating func next() throws(Error) -> Token? {
        switch step() {
        case .token(let token): return token
        case .end: return nil
        case .failure(let error): throw error
        }
    }

    /// The next token, the end of the input, or why the next token is not one.
    public mutating func step() -> Step {
        while index < bytes.endIndex, Self.isWhitespace(bytes[index]) { index += 1 }
        guard index < bytes.endIndex else { return .end(offset: offset) }
        let start = index
        let single: Kind? = switch bytes[index] {
        case UInt8(ascii: "{"): .beginObject
        case UInt8(ascii: "}"): .endObject
        case UInt8(ascii: "["): .beginArray
        case UInt8(ascii: "]"): .endArray
        case UInt8(ascii: ":"): .colon
        case UInt8(ascii: ","): .comma
        default: nil
        }
        if let single {
            index += 1
            return .token(Token(kind: single, range: relative(start..<index)))
        }
        let result: Result<Token, Error>
        switch bytes[index] {
        case UInt8(ascii: "\""): result = string()
        case UInt8(ascii: "t"): result = literal(.true, "true")
        case UInt8(ascii: "f"): result = literal(.false, "false")
        case UInt8(ascii: "n"): result = literal(.null, "null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): result = number()
        default: result = .failure(failure(.unexpectedByte, tokenStart: start))
        }
        switch result {
        case .success(let token): return .token(token)
        case .failure(let error): return .failure(error)
        }
    }

    // MARK: - Values

    /// A string token's value: escapes resolved, a `\u` surrogate pair joined, and anything that is no
    /// Unicode scalar (a lone surrogate escape, bytes that are not UTF-8) replaced by U+FFFD.
    public func string(_ token: Token) -> String {
        // The span without its quotes.
        let content = text((token.start + 1)..<max(token.start + 1, token.end - 1))
        guard token.hasEscapes else { return String(decoding: content, as: UTF8.self) }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(content.count)
        var position = content.startIndex
        while position < content.endIndex {
            let byte = content[position]
            position += 1
            guard byte == UInt8(ascii: "\\"), position < content.endIndex else {
                utf8.append(byte)
                continue
            }
            let escaped = content[position]
            position += 1
            switch escaped {
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = Self.hexUnit(content, at: position) else {
                    utf8.append(contentsOf: Self.replacement)
                    continue
                }
                position += 4
                var scalar = Unicode.Scalar(UInt32(unit))
                // A high surrogate escape followed at once by a low one is one character.
                if (0xD800..<0xDC00).contains(unit), content.endIndex - position >= 6,
                   content[position] == UInt8(ascii: "\\"), content[position + 1] == UInt8(ascii: "u"),
                   let low = Self.hexUnit(content, at: position + 2), (0xDC00..<0xE000).contains(low) {
                    scalar = Unicode.Scalar(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00))
                    position += 6
                }
                if let scalar {
                    utf8.append(contentsOf: String(Character(scalar)).utf8)
                } else {
                    utf8.append(contentsOf: Self.replacement)
                }
            default:
                // `"`, `\` and `/` stand for themselves.
                utf8.append(escaped)
            }
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// U+FFFD in UTF-8.
    private static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    // MARK: - Scanning

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func hexValue(_ byte: UInt8) -> UInt16? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt16(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt16(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt16(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The four hex digits at `position` as one UTF-16 unit; nil when there are not four.
    private static func hexUnit(_ bytes: ArraySlice<UInt8>, at position: Int) -> UInt16? {
        guard position >= bytes.startIndex, bytes.endIndex - position >= 4 else { return nil }
        var unit: UInt16 = 0
        for digit in bytes[position..<(position + 4)] {
            guard let value = hexValue(digit) else { return nil }
            unit = unit << 4 | value
        }
        return unit
    }

    private func relative(_ range: Range<Int>) -> Range<Int> {
        (range.lowerBound - bytes.startIndex)..<(range.upperBound - bytes.startIndex)
    }

    /// The error at the current byte (or the end), for the token that starts at `tokenStart` (an index).
    private func failure(_ reason: Error.Reason, tokenStart: Int) -> Error {
        Error(reason: reason, offset: offset, tokenStart: tokenStart - bytes.startIndex)
    }

    private mutating func literal(_ kind: Kind, _ word: StaticString) -> Result<Token, Error> {
        let start = index
        let matched = word.withUTF8Buffer { expected -> Bool in
            for byte in expected {
                guard index < bytes.endIndex, bytes[index] == byte else { return false }
                index += 1
            }
            return true
        }
        guard matched else { return .failure(failure(.invalidLiteral(kind), tokenStart: start)) }
        return .success(Token(kind: kind, range: relative(start..<index)))
    }

    private mutating func number() -> Result<Token, Error> {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.endIndex, Self.isDigit(bytes[index]) else {
            return .failure(failure(.missingDigits(.integer), tokenStart: start))
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.endIndex, Self.isDigit(bytes[index]) else {
                return .failure(failure(.missingDigits(.fraction), tokenStart: start))
            }
            skipDigits()
        }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.endIndex, Self.isDigit(bytes[index]) else {
                return .failure(failure(.missingDigits(.exponent), tokenStart: start))
            }
            skipDigits()
        }
        return .success(Token(kind: .number, range: relative(start..<index)))
    }

    private mutating func skipDigits() {
        while index < bytes.endIndex, Self.isDigit(bytes[index]) { index += 1 }
    }

    private mutating func string() -> Result<Token, Error> {
        let start = index
        index += 1
        var hasEscapes = false
        while true {
            guard index < bytes.endIndex else { return .failure(failure(.unterminatedString, tokenStart: start)) }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return .success(Token(kind: .string, range: relative(start..<index), hasEscapes: hasEscapes))
            case UInt8(ascii: "\\"):
                hasEscapes = true
                let escapeStart = index - bytes.startIndex
                index += 1
                guard index < bytes.endIndex else { return .failure(failure(.unterminatedEscape, tokenStart: start)) }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    for _ in 0..<4 {
                        guard index < bytes.endIndex, Self.hexValue(bytes[index]) != nil else {
                            return .failure(failure(.invalidUnicodeEscape(escapeStart: escapeStart), tokenStart: start))
                        }
                        index += 1
                    }
                default:
                    return .failure(failure(.invalidEscape, tokenStart: start))
                }
            case 0x00..<0x20:
                return .failure(failure(.controlCharacterInString, tokenStart: start))
            default:
                index += 1
            }
        }
    }
}
