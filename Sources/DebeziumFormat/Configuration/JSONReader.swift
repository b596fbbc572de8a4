import JSONTokens

/// A JSON value as read from a Kafka Connect REST body. Numbers keep their text as written, because Kafka
/// Connect turns a number into the string of its token (`10000` stays `10000`, `1.50` stays `1.50`), and
/// objects keep their member order, so that warnings list keys in file order.
enum JSONValue {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Members in order; a repeated name appears once per occurrence.
    case object([(name: String, value: JSONValue)])

    /// How the value reads in a message: "null", "an object", "an array", "a string"…
    var kindDescription: String {
        switch self {
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A strict RFC 8259 reader: one value, whitespace around it, nothing else. Errors carry a 1-based line and
/// column (counted in Unicode scalars). Nesting is capped so that hostile input cannot exhaust the stack.
///
/// The tokens are `JSONTokenizer`'s; what a value means (a number's text, every member in order) and
/// what an error says are this reader's.
struct JSONReader {
    static let maximumDepth = 64

    private var tokenizer: JSONTokenizer

    static func parse(_ text: String) throws(DebeziumConfigError) -> JSONValue {
        var reader = JSONReader(tokenizer: JSONTokenizer(Array(text.utf8)[...]))
        let value = try reader.readValue(reader.tokenizer.step(), depth: 0)
        let after = reader.tokenizer.step()
        if case .end = after { return value }
        throw reader.error(at: after.start, "unexpected \(reader.describe(at: after.start)) after the end of the JSON value")
    }

    private init(tokenizer: JSONTokenizer) {
        self.tokenizer = tokenizer
    }

    /// A value that starts with `step`; `depth` containers are open around it.
    private mutating func readValue(_ step: JSONTokenizer.Step, depth: Int) throws(DebeziumConfigError) -> JSONValue {
        let token: JSONTokenizer.Token
        switch step {
        case .end(let offset): throw error(at: offset, "expected a value, found end of text")
        case .failure(let failure): throw error(in: failure)
        case .token(let next): token = next
        }
        switch token.kind {
        case .beginObject: return try readObject(at: token.start, depth: depth + 1)
        case .beginArray: return try readArray(at: token.start, depth: depth + 1)
        case .string: return .string(tokenizer.string(token))
        case .number: return .number(String(decoding: tokenizer.text(token.range), as: UTF8.self))
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .null: return .null
        case .endObject, .endArray, .colon, .comma:
            throw error(at: token.start, "expected a value, found \(describe(at: token.start))")
        }
    }

    private mutating func readObject(at start: Int, depth: Int) throws(DebeziumConfigError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw error(at: start, "nesting deeper than \(Self.maximumDepth) levels") }
        var members: [(name: String, value: JSONValue)] = []
        var step = tokenizer.step()
        if case .token(let token) = step, token.kind == .endObject { return .object(members) }
        while true {
            let name = try readMemberName(step)
            try expect(.colon, "':' after the member name")
            members.append((name: name, value: try readValue(tokenizer.step(), depth: depth)))
            step = tokenizer.step()
            guard case .token(let token) = step, token.kind == .comma || token.kind == .endObject else {
                throw error(at: step.start, "expected ',' or '}' in an object, found \(describe(at: step.start))")
            }
            if token.kind == .endObject { return .object(members) }
            step = tokenizer.step()
        }
    }

    private mutating func readArray(at start: Int, depth: Int) throws(DebeziumConfigError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw error(at: start, "nesting deeper than \(Self.maximumDepth) levels") }
        var elements: [JSONValue] = []
        var step = tokenizer.step()
        if case .token(let token) = step, token.kind == .endArray { return .array(elements) }
        while true {
            elements.append(try readValue(step, depth: depth))
            step = tokenizer.step()
            guard case .token(let token) = step, token.kind == .comma || token.kind == .endArray else {
                throw error(at: step.start, "expected ',' or ']' in an array, found \(describe(at: step.start))")
            }
            if token.kind == .endArray { return .array(elements) }
            step = tokenizer.step()
        }
    }

    /// A member name: a string, and nothing else.
    private func readMemberName(_ step: JSONTokenizer.Step) throws(DebeziumConfigError) -> String {
        switch step {
        case .token(let token) where token.kind == .string:
            return tokenizer.string(token)
        case .failure(let failure) where tokenizer.byte(at: failure.tokenStart) == UInt8(ascii: "\""):
            // A name that is a broken string: what is wrong with the string.
            throw error(in: failure)
        default:
            throw error(at: step.start, "expected a member name in quotes, found \(describe(at: step.start))")
        }
    }

    private mutating func expect(_ kind: JSONTokenizer.Kind, _ what: String) throws(DebeziumConfigError) {
        let step = tokenizer.step()
        guard case .token(let token) = step, token.kind == kind else {
            throw error(at: step.start, "expected \(what), found \(describe(at: step.start))")
        }
    }

    /// What is wrong with a token that starts where a value may.
    private func error(in failure: JSONTokenizer.Error) -> DebeziumConfigError {
        let found = describe(at: failure.offset)
        let reason: String
        switch failure.reason {
        case .unexpectedByte: reason = "expected a value, found \(found)"
        case .invalidLiteral(let kind): reason = "expected \(kind.literalWord ?? "a literal"), found \(found)"
        case .missingDigits: reason = "expected a digit, found \(found)"
        case .unterminatedString, .unterminatedEscape: reason = "unterminated string"
        case .controlCharacterInString: reason = "\(found) inside a string (write it as an escape)"
        case .invalidEscape:
            let escaped = scalar(at: failure.offset).map { String(Character($0)) } ?? ""
            reason = "invalid escape \\\(escaped) in a string"
        case .invalidUnicodeEscape: reason = "\\u must be followed by four hex digits, found \(found)"
        }
        return error(at: failure.offset, reason)
    }

    /// The error at a byte offset, with its line and column: lines end at line feeds, and columns count
    /// Unicode scalars (the text came from a String, so its bytes are UTF-8).
    private func error(at offset: Int, _ reason: String) -> DebeziumConfigError {
        var line = 1
        var column = 1
        for byte in tokenizer.text(0..<offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return .invalidJSON(line: line, column: column, reason: reason)
    }

    /// The Unicode scalar that starts at `offset`; nil at the end.
    private func scalar(at offset: Int) -> Unicode.Scalar? {
        guard offset < tokenizer.count else { return nil }
        return String(decoding: tokenizer.text(offset..<(offset + 4)), as: UTF8.self).unicodeScalars.first
    }

    /// How the text at `offset` reads in a message: "end of text", a control character's code, or the
    /// character in quotes.
    private func describe(at offset: Int) -> String {
        guard let scalar = scalar(at: offset) else { return "end of text" }
        if scalar.value < 0x20 || scalar.value == 0x7F {
            return "control character U+" + String(scalar.value, radix: 16, uppercase: true)
        }
        return "'\(Character(scalar))'"
    }
}
