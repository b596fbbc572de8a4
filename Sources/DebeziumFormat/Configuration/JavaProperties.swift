/// A reader for the text format of `java.util.Properties.load`, rule for rule, because Kafka Connect and
/// Debezium Server read `.properties` files with it (Debezium Server through Quarkus, which follows the
/// same syntax) and a file must mean here what it meant there:
///
/// - Lines end at `\n`, `\r` or `\r\n`. Leading spaces, tabs and form feeds are skipped; blank lines are
///   skipped.
/// - A line whose first non-blank character is `#` or `!` is a comment, and a comment never continues.
/// - A line ending in an odd number of backslashes continues on the next line; the backslash and the next
///   line's leading blanks are dropped. A trailing odd backslash at the end of the text is dropped.
/// - The key ends at the first unescaped `=`, `:`, space, tab or form feed. Blanks after the key are
///   skipped, then at most one `=` or `:`, then blanks again; the rest of the line is the value (trailing
///   blanks included). So `a:b=c` is key `a`, value `b=c`.
/// - In keys and values, `\t`, `\n`, `\r`, `\f` are control characters, `\uXXXX` is a UTF-16 code unit
///   (surrogate pairs combine), and a backslash before any other character yields that character (`\=`,
///   `\:`, `\ `, `\#`, `\!`, `\\`). A `\u` without four hex digits is an error.
/// - A key given again replaces the earlier value but keeps its first position.
public struct JavaProperties: Sendable, Equatable {
    /// The properties in order of first appearance.
    public var entries: OrderedConfig
    /// For each key, the 1-based line where its (last) definition starts, for messages about a value.
    public var lineNumbers: [String: Int]

    /// Parses `text` as `Properties.load(Reader)` would.
    public static func parse(_ text: String) throws(DebeziumConfigError) -> JavaProperties {
        var result = JavaProperties(entries: OrderedConfig(), lineNumbers: [:])
        var reader = LogicalLineReader(text)
        while let line = reader.next() {
            let (key, value) = try split(line.characters, line: line.firstLine)
            result.entries[key] = value
            result.lineNumbers[key] = line.firstLine
        }
        return result
    }

    /// Splits one logical line into its unescaped key and value, as `Properties.load0` does.
    private static func split(_ characters: [UInt16], line: Int) throws(DebeziumConfigError) -> (String, String) {
        var keyEnd = 0
        var valueStart = characters.count
        var hasSeparator = false
        var precedingBackslash = false
        while keyEnd < characters.count {
            let unit = characters[keyEnd]
            if (unit == Unit.equals || unit == Unit.colon) && !precedingBackslash {
                valueStart = keyEnd + 1
                hasSeparator = true
                break
            }
            if Unit.isBlank(unit) && !precedingBackslash {
                valueStart = keyEnd + 1
                break
            }
            precedingBackslash = unit == Unit.backslash ? !precedingBackslash : false
            keyEnd += 1
        }
        while valueStart < characters.count {
            let unit = characters[valueStart]
            if !Unit.isBlank(unit) {
                // One `=` or `:` may follow blanks that ended the key: `key = value`, `key : value`.
                guard !hasSeparator && (unit == Unit.equals || unit == Unit.colon) else { break }
                hasSeparator = true
            }
            valueStart += 1
        }
        let key = try unescape(characters[0..<keyEnd], line: line)
        let value = try unescape(characters[valueStart...], line: line)
        return (key, value)
    }

    /// Resolves the backslash escapes of a key or a value (`Properties.loadConvert`).
    private static func unescape(_ characters: ArraySlice<UInt16>, line: Int) throws(DebeziumConfigError) -> String {
        var output: [UInt16] = []
        output.reserveCapacity(characters.count)
        var index = characters.startIndex
        while index < characters.endIndex {
            let unit = characters[index]
            index += 1
            guard unit == Unit.backslash else {
                output.append(unit)
                continue
            }
            // The line reader never leaves an unescaped backslash at the end; if one is there anyway it
            // escapes nothing and is dropped, like Java's reader drops a trailing one.
            guard index < characters.endIndex else { break }
            let escaped = characters[index]
            index += 1
            switch escaped {
            case Unit.lowercaseU:
                guard characters.endIndex - index >= 4 else { throw .malformedUnicodeEscape(line: line) }
                var value: UInt16 = 0
                for _ in 0..<4 {
                    guard let digit = Unit.hexValue(characters[index]) else {
                        throw .malformedUnicodeEscape(line: line)
                    }
                    value = value << 4 | digit
                    index += 1
                }
                output.append(value)
            case Unit.lowercaseT: output.append(Unit.tab)
            case Unit.lowercaseN: output.append(Unit.lineFeed)
            case Unit.lowercaseR: output.append(Unit.carriageReturn)
            case Unit.lowercaseF: output.append(Unit.formFeed)
            default: output.append(escaped)
            }
        }
        // Java strings may hold unpaired surrogates; a Swift String cannot, so such a unit becomes U+FFFD.
        return String(decoding: output, as: UTF16.self)
    }
}

/// One logical line: the natural lines it spans joined, continuation backslashes and the continued lines'
/// leading blanks removed, escapes still in place.
struct LogicalLine {
    var characters: [UInt16]
    /// The 1-based number of the natural line it starts on.
    var firstLine: Int
}

/// Splits text into logical lines exactly as `java.util.Properties.LineReader.readLine` does, including its
/// corner cases: a comment never continues; a blank line after a continuation ends the logical line; a line
/// that is only a continuation backslash lets the next line be a comment; a continuation backslash right
/// before the end of the text leaves a (possibly empty) line.
struct LogicalLineReader {
    private let units: [UInt16]
    private var offset = 0
    /// The 1-based number of the natural line that the unit at `offset` is on.
    private var lineNumber = 1

    init(_ text: String) {
        units = Array(text.utf16)
    }

    mutating func next() -> LogicalLine? {
        var line: [UInt16] = []
        var firstLine = lineNumber
        var skipWhitespace = true
        var appendedLineBegin = false
        var precedingBackslash = false
        while true {
            guard offset < units.count else {
                guard !line.isEmpty else { return nil }
                if precedingBackslash { line.removeLast() }
                return LogicalLine(characters: line, firstLine: firstLine)
            }
            let unit = consume()
            let isLineEnd = unit == Unit.lineFeed || unit == Unit.carriageReturn
            if skipWhitespace {
                if Unit.isBlank(unit) { continue }
                if !appendedLineBegin && isLineEnd { continue }
                skipWhitespace = false
                appendedLineBegin = false
            }
            if line.isEmpty && (unit == Unit.hash || unit == Unit.exclamation) {
                skipComment()
                skipWhitespace = true
                continue
            }
            if !isLineEnd {
                if line.isEmpty { firstLine = lineNumber }
                line.append(unit)
                precedingBackslash = unit == Unit.backslash ? !precedingBackslash : false
                continue
            }
            if line.isEmpty {
                skipWhitespace = true
                continue
            }
            guard precedingBackslash, offset < units.count else {
                if precedingBackslash { line.removeLast() }
                return LogicalLine(characters: line, firstLine: firstLine)
            }
            // The backslash joins the next line; it is not part of the value.
            line.removeLast()
            skipWhitespace = true
            appendedLineBegin = true
            precedingBackslash = false
            if unit == Unit.carriageReturn && offset < units.count && units[offset] == Unit.lineFeed {
                _ = consume()
            }
        }
    }

    /// Takes the next unit, counting line ends: a `\n`, or a `\r` not followed by `\n` (so `\r\n` counts once).
    private mutating func consume() -> UInt16 {
        let unit = units[offset]
        offset += 1
        if unit == Unit.lineFeed
            || (unit == Unit.carriageReturn && (offset >= units.count || units[offset] != Unit.lineFeed))
        {
            lineNumber += 1
        }
        return unit
    }

    /// Consumes the rest of a comment line up to and including its first line-end character; the `\n` of a
    /// `\r\n` is skipped afterwards as a blank.
    private mutating func skipComment() {
        while offset < units.count {
            let unit = consume()
            if unit == Unit.lineFeed || unit == Unit.carriageReturn { return }
        }
    }
}

/// The UTF-16 code units the properties syntax gives meaning to.
enum Unit {
    static let tab: UInt16 = 0x09
    static let lineFeed: UInt16 = 0x0A
    static let formFeed: UInt16 = 0x0C
    static let carriageReturn: UInt16 = 0x0D
    static let space: UInt16 = 0x20
    static let exclamation: UInt16 = 0x21
    static let hash: UInt16 = 0x23
    static let colon: UInt16 = 0x3A
    static let equals: UInt16 = 0x3D
    static let backslash: UInt16 = 0x5C
    static let lowercaseF: UInt16 = 0x66
    static let lowercaseN: UInt16 = 0x6E
    static let lowercaseR: UInt16 = 0x72
    static let lowercaseT: UInt16 = 0x74
    static let lowercaseU: UInt16 = 0x75

    /// The blanks of the properties syntax: space, tab and form feed (not other Unicode spaces).
    static func isBlank(_ unit: UInt16) -> Bool {
        unit == space || unit == tab || unit == formFeed
    }

    static func hexValue(_ unit: UInt16) -> UInt16? {
        switch unit {
        case 0x30...0x39: return unit - 0x30
        case 0x41...0x46: return unit - 0x41 + 10
        case 0x61...0x66: return unit - 0x61 + 10
        default: return nil
        }
    }
}
