import JSONTokens

/// A forward-only reader over JSON text, enough to pull header names and values out of one column (or an
/// envelope out of a logical message) without building a tree. Strict RFC 8259, except that an integer
/// may have leading zeros (`01`), as this reader always took them; nesting is capped so that a hostile row
/// cannot exhaust the stack.
///
/// The tokens are `JSONTokenizer`'s; the shapes the callers ask for and the messages are this reader's.
struct JSONScanner {
    enum Scalar {
        case string(String)
        case null
        /// A number, a boolean, an object or an array: its text as written.
        case other(ArraySlice<UInt8>)
    }

    private static let maximumDepth = 64
    private var tokenizer: JSONTokenizer
    private let column: String
    /// The next step, once looked at.
    private var lookahead: JSONTokenizer.Step?
    /// Where the last token taken ends.
    private var consumed = 0
    /// Where reading stands, for the depth error: after the last token taken, or at the next one once it
    /// has been looked at.
    private var position = 0

    init(bytes: ArraySlice<UInt8>, column: String) {
        self.tokenizer = JSONTokenizer(bytes)
        self.column = column
    }

    private func fail(_ reason: String, at offset: Int) -> RowHeadersError {
        .notJSON(column: column, offset: offset, reason: reason)
    }

    private mutating func peek() -> JSONTokenizer.Step {
        let step = lookahead ?? tokenizer.step()
        lookahead = step
        position = step.start
        return step
    }

    private mutating func take() -> JSONTokenizer.Step {
        let step = peek()
        lookahead = nil
        if case .token(let token) = step {
            consumed = token.end
            position = token.end
        }
        return step
    }

    /// Whether the next token is of `kind` (and takes it if so).
    private mutating func take(_ kind: JSONTokenizer.Kind) -> Bool {
        guard case .token(let token) = peek(), token.kind == kind else { return false }
        _ = take()
        return true
    }

    /// Whether only white space is left.
    mutating func isAtEnd() -> Bool {
        if case .end = peek() { return true }
        return false
    }

    /// Takes a `null` when it comes next; whether it did.
    mutating func takeNull() -> Bool {
        take(.null)
    }

    mutating func end() throws(RowHeadersError) {
        let step = take()
        guard case .end = step else { throw fail("text after the value", at: step.start) }
    }

    /// Calls `member` for each member name, positioned at its value, which `member` must consume.
    mutating func object(_ member: (inout JSONScanner, String) throws(RowHeadersError) -> Void) throws(RowHeadersError) {
        guard take(.beginObject) else { throw .wrongShape(column: column, expected: "a JSON object") }
        if take(.endObject) { return }
        while true {
            let name: String
            switch take() {
            case .token(let token) where token.kind == .string:
                name = tokenizer.string(token)
            case .failure(let failure) where tokenizer.byte(at: failure.tokenStart) == UInt8(ascii: "\""):
                throw stringError(failure)
            case let step:
                throw fail("expected a member name", at: step.start)
            }
            let colon = take()
            guard case .token(let token) = colon, token.kind == .colon else { throw fail("expected ':'", at: colon.start) }
            try member(&self, name)
            switch take() {
            case .end(let offset): throw fail("the object is not closed", at: offset)
            case .token(let token) where token.kind == .endObject: return
            case .token(let token) where token.kind == .comma: continue
            // Past the byte that is neither.
            case let step: throw fail("expected ',' or '}'", at: step.start + 1)
            }
        }
    }

    /// Calls `element` for each element, which it must consume.
    mutating func array(_ element: (inout JSONScanner) throws(RowHeadersError) -> Void) throws(RowHeadersError) {
        guard take(.beginArray) else { throw .wrongShape(column: column, expected: "a JSON array") }
        if take(.endArray) { return }
        while true {
            try element(&self)
            switch take() {
            case .end(let offset): throw fail("the array is not closed", at: offset)
            case .token(let token) where token.kind == .endArray: return
            case .token(let token) where token.kind == .comma: continue
            case let step: throw fail("expected ',' or ']'", at: step.start + 1)
            }
        }
    }

    /// A header value: a string's bytes, nil for null, any other value's text.
    mutating func headerValue() throws(RowHeadersError) -> [UInt8]? {
        switch try scalar() {
        case .string(let text): return Array(text.utf8)
        case .null: return nil
        case .other(let text): return Array(text)
        }
    }

    mutating func scalar() throws(RowHeadersError) -> Scalar {
        let step = peek()
        switch step {
        case .end(let offset): throw fail("expected a value", at: offset)
        case .token(let token) where token.kind == .string:
            _ = take()
            return .string(tokenizer.string(token))
        case .token(let token) where token.kind == .null:
            _ = take()
            return .null
        default:
            let start = step.start
            try skipValue()
            return .other(tokenizer.text(start..<consumed))
        }
    }

    mutating func skipValue(depth: Int = 0) throws(RowHeadersError) {
        guard depth < Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth) levels", at: position) }
        switch peek() {
        case .end(let offset):
            throw fail("expected a value", at: offset)
        case .failure(let failure):
            throw valueError(failure)
        case .token(let token):
            switch token.kind {
            case .beginObject: try object { reader, _ throws(RowHeadersError) in try reader.skipValue(depth: depth + 1) }
            case .beginArray: try array { reader throws(RowHeadersError) in try reader.skipValue(depth: depth + 1) }
            case .string, .true, .false, .null: _ = take()
            case .number:
                _ = take()
                try continueLeadingZeros(after: token)
            case .endObject, .endArray, .colon, .comma: throw fail("expected a value", at: token.start)
            }
        }
    }

    /// An integer part of `0` directly followed by digits (`01`, `-00.5`) is one number here, as it always
    /// was: the tokenizer's further numbers that touch it are taken with it.
    private mutating func continueLeadingZeros(after token: JSONTokenizer.Token) throws(RowHeadersError) {
        var last = token
        // Only a number that is all zeros (`0`, `-0`, or zeros taken so far) can be followed by a digit.
        while tokenizer.text(last.range).allSatisfy({ $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: "-") }),
              let digit = tokenizer.byte(at: last.end), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) {
            switch peek() {
            case .token(let next):
                _ = take()
                last = next
            case .failure(let failure):
                throw valueError(failure)
            case .end:
                return
            }
        }
    }

    /// What is wrong with a token where a value may start.
    private func valueError(_ failure: JSONTokenizer.Error) -> RowHeadersError {
        switch failure.reason {
        case .unexpectedByte: return fail("expected a value", at: failure.offset)
        case .invalidLiteral(let kind): return fail("expected \(kind.literalWord ?? "a literal")", at: failure.tokenStart)
        case .missingDigits(.integer): return fail("a number without digits", at: failure.offset)
        case .missingDigits(.fraction): return fail("a number without digits after '.'", at: failure.offset)
        case .missingDigits(.exponent): return fail("a number without exponent digits", at: failure.offset)
        case .unterminatedString, .controlCharacterInString, .unterminatedEscape, .invalidEscape, .invalidUnicodeEscape:
            return stringError(failure)
        }
    }

    /// What is wrong with a string token.
    private func stringError(_ failure: JSONTokenizer.Error) -> RowHeadersError {
        switch failure.reason {
        case .unterminatedString: return fail("a string is not closed", at: failure.offset)
        case .unterminatedEscape: return fail("a string ends in an escape", at: failure.offset)
        // Past the byte refused.
        case .controlCharacterInString: return fail("a control character inside a string", at: failure.offset + 1)
        case .invalidEscape: return fail("an unknown escape", at: failure.offset + 1)
        case .invalidUnicodeEscape(let escapeStart):
            let digitsStart = escapeStart + 2
            if tokenizer.count - digitsStart < 4 { return fail("a \\u escape is cut short", at: digitsStart) }
            return fail("a \\u escape has a non-hex digit", at: failure.offset)
        case .unexpectedByte, .invalidLiteral, .missingDigits:
            return valueError(failure)
        }
    }
}
