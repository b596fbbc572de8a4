import JSONTokens

/// Why Jackson would not read a payload (Debezium then logs `JSON expansion failed` and keeps the string).
struct JacksonParseError: Error, Sendable, Equatable {
    var reason: String
    /// Offset in UTF-8 bytes from the start of the text.
    var offset: Int
}

/// Jackson 2.x's reader with `ObjectMapper`'s defaults: strict JSON (no comments, no leading zeros, no NaN,
/// no unescaped control characters), `StreamReadConstraints` of 1000 nesting levels and 1000 digits per
/// number, and anything after the first value ignored (`FAIL_ON_TRAILING_TOKENS` is off).
///
/// The tokens are `JSONTokenizer`'s; what Jackson adds is here: a token must end where a word or number
/// ends (`truex` and `01` are errors, not two tokens), the node types of numbers, a repeated member name
/// taking the last value, and Jackson's messages. It keeps the open containers on a stack of its own
/// rather than recursing, so that no input can exhaust the thread's stack.
struct JacksonTreeParser {
    static let maximumDepth = 1000
    static let maximumNumberLength = 1000

    private var tokenizer: JSONTokenizer

    /// A container being read.
    private struct Frame {
        var isObject: Bool
        var object = JacksonObject()
        var elements: [JacksonNode] = []
        /// The member whose value is being read.
        var name = ""
    }

    /// The document and its nesting depth (Jackson's count: the root object or array is level 1).
    static func parse(_ text: String) throws(JacksonParseError) -> (node: JacksonNode, depth: Int) {
        var parser = JacksonTreeParser(tokenizer: JSONTokenizer(Array(text.utf8)[...]))
        return try parser.readDocument()
    }

    private init(tokenizer: JSONTokenizer) {
        self.tokenizer = tokenizer
    }

    private func error(_ reason: String, at offset: Int) -> JacksonParseError {
        JacksonParseError(reason: reason, offset: offset)
    }

    private mutating func readDocument() throws(JacksonParseError) -> (node: JacksonNode, depth: Int) {
        var stack: [Frame] = []
        var deepest = 0
        var step = tokenizer.step()
        while true {
            // Read a value: a scalar completes at once; `{` or `[` opens a frame, or completes if empty.
            var completed: JacksonNode
            let token: JSONTokenizer.Token
            switch step {
            case .end(let offset): throw error("unexpected end of input: expected a value", at: offset)
            case .failure(let failure): throw error(in: failure)
            case .token(let next): token = next
            }
            switch token.kind {
            case .beginObject, .beginArray:
                let isObject = token.kind == .beginObject
                guard stack.count < Self.maximumDepth else {
                    throw error("document nesting depth exceeds the maximum allowed (\(Self.maximumDepth))", at: token.start)
                }
                deepest = max(deepest, stack.count + 1)
                let next = tokenizer.step()
                if case .token(let closing) = next, closing.kind == (isObject ? .endObject : .endArray) {
                    completed = isObject ? .object(JacksonObject()) : .array([])
                } else {
                    var frame = Frame(isObject: isObject)
                    if isObject {
                        frame.name = try readMemberName(next)
                        step = tokenizer.step()
                    } else {
                        step = next
                    }
                    stack.append(frame)
                    continue
                }
            case .string: completed = .string(tokenizer.string(token))
            case .true: try endOfWord(token); completed = .boolean(true)
            case .false: try endOfWord(token); completed = .boolean(false)
            case .null: try endOfWord(token); completed = .null
            case .number: completed = try number(token)
            case .endObject, .endArray, .colon, .comma:
                throw error("unexpected character 0x\(String(tokenizer.byte(at: token.start) ?? 0, radix: 16)): expected a value", at: token.start)
            }
            // Put the value into its container; close every container that ends here.
            while true {
                guard !stack.isEmpty else { return (completed, deepest) }
                let last = stack.count - 1
                if stack[last].isObject {
                    stack[last].object.set(stack[last].name, completed)
                } else {
                    stack[last].elements.append(completed)
                }
                let next = tokenizer.step()
                let closing: JSONTokenizer.Kind = stack[last].isObject ? .endObject : .endArray
                guard case .token(let separator) = next, separator.kind == .comma || separator.kind == closing else {
                    throw error(stack[last].isObject ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array", at: next.start)
                }
                if separator.kind == .comma {
                    if stack[last].isObject { stack[last].name = try readMemberName(tokenizer.step()) }
                    step = tokenizer.step()
                    break
                }
                let frame = stack.removeLast()
                completed = frame.isObject ? .object(frame.object) : .array(frame.elements)
            }
        }
    }

    /// `"name"` and its colon, leaving the reader at the value.
    private mutating func readMemberName(_ step: JSONTokenizer.Step) throws(JacksonParseError) -> String {
        let name: String
        switch step {
        case .token(let token) where token.kind == .string:
            name = tokenizer.string(token)
        case .failure(let failure) where tokenizer.byte(at: failure.tokenStart) == UInt8(ascii: "\""):
            throw error(in: failure)
        default:
            throw error("expected a member name in double quotes", at: step.start)
        }
        let colon = tokenizer.step()
        guard case .token(let token) = colon, token.kind == .colon else {
            throw error("expected ':' after a member name", at: colon.start)
        }
        return name
    }

    /// What is wrong with a token where a value may start, in Jackson's words.
    private func error(in failure: JSONTokenizer.Error) -> JacksonParseError {
        switch failure.reason {
        case .unexpectedByte:
            let byte = tokenizer.byte(at: failure.offset) ?? 0
            return error("unexpected character 0x\(String(byte, radix: 16)): expected a value", at: failure.offset)
        case .invalidLiteral(let kind):
            // Jackson reads the whole word before it judges it.
            return error("unrecognized token: expected \(kind.literalWord ?? "a literal")", at: failure.tokenStart)
        case .missingDigits(.integer): return error("expected a digit after '-'", at: failure.offset)
        case .missingDigits: return error("expected a digit in a number", at: failure.offset)
        case .unterminatedString: return error("unexpected end of input in a string", at: failure.offset)
        case .controlCharacterInString: return error("illegal unquoted control character in a string", at: failure.offset)
        case .unterminatedEscape: return error("unexpected end of input in an escape", at: failure.offset)
        // Jackson has read the escaped character when it refuses it.
        case .invalidEscape: return error("unrecognized character escape", at: failure.offset + 1)
        case .invalidUnicodeEscape: return error("expected a hex digit in a \\u escape", at: failure.offset)
        }
    }

    /// Jackson reads a token to its end: `truex` is one bad token, not `true` and garbage.
    private func endOfWord(_ token: JSONTokenizer.Token) throws(JacksonParseError) {
        if let next = tokenizer.byte(at: token.end), next.isASCIILetterOrDigit { throw error("unrecognized token", at: token.end) }
    }

    private func number(_ token: JSONTokenizer.Token) throws(JacksonParseError) -> JacksonNode {
        let text = tokenizer.text(token.range)
        if let next = tokenizer.byte(at: token.end) {
            // A digit can follow only an integer part of `0`.
            if next.isASCIIDigit { throw error("leading zeroes not allowed", at: token.end) }
            if next.isASCIILetterOrDigit || next == UInt8(ascii: ".") {
                throw error("unexpected character in a number", at: token.end)
            }
        }
        guard text.count(where: \.isASCIIDigit) <= Self.maximumNumberLength else {
            throw error("number value length exceeds the maximum allowed (\(Self.maximumNumberLength))", at: token.end)
        }
        let string = String(decoding: text, as: UTF8.self)
        if text.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            // Jackson's `Double.parseDouble`, correctly rounded like Swift's; out of range gives ±Infinity.
            guard let value = Double(string) else { throw error("malformed number", at: token.end) }
            return .double(value)
        }
        if let value = Int32(string) { return .int(value) }
        if let value = Int64(string) { return .long(value) }
        return .bigInteger(string)
    }
}

/// ASCII classification of UTF-8 bytes, for Jackson's ends of tokens.
extension UInt8 {
    var isASCIIDigit: Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) }

    var isASCIILetterOrDigit: Bool {
        isASCIIDigit || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
    }
}
