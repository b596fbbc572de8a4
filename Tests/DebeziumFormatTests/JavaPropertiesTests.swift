import DebeziumFormat
import Testing

@Suite("java.util.Properties syntax")
struct JavaPropertiesTests {
    private func parse(_ text: String) throws -> JavaProperties {
        try JavaProperties.parse(text)
    }

    private func value(_ text: String, _ key: String) throws -> String? {
        try parse(text).entries[key]
    }

    // MARK: Separators

    @Test(arguments: [
        "key=value", "key:value", "key value", "key = value", "key : value", "key\tvalue", "key \t = \t value",
        "   key=value", "\tkey:value", "\u{0C}key value",
    ])
    func everySeparatorFormGivesTheSamePair(_ line: String) throws {
        #expect(try parse(line).pairs == ["key=value"])
    }

    @Test func theFirstUnescapedSeparatorEndsTheKey() throws {
        #expect(try parse("a:b=c").pairs == ["a=b=c"])
        #expect(try parse("a=b:c").pairs == ["a=b:c"])
        #expect(try parse("a=b=c").pairs == ["a=b=c"])
    }

    @Test func onlyOneSeparatorIsSkippedAfterBlanks() throws {
        // After `key`, blanks, one `=`, blanks: the second `=` belongs to the value.
        #expect(try value("a = = b", "a") == "= b")
        #expect(try value("a  :=b", "a") == "=b")
        // A blank ends the key; a `:` after it is the separator, an `=` then is value.
        #expect(try value("a b=c", "a") == "b=c")
    }

    @Test func escapedSeparatorsAndBlanksArePartOfTheKey() throws {
        #expect(try parse("key\\ with\\ spaces = v").pairs == ["key with spaces=v"])
        #expect(try parse("a\\=b\\:c = d").pairs == ["a=b:c=d"])
        #expect(try parse("tab\\\tkey=v").pairs == ["tab\tkey=v"])
    }

    @Test func anEscapedBackslashBeforeASeparatorDoesNotEscapeIt() throws {
        #expect(try parse("a\\\\=b").pairs == ["a\\=b"])
    }

    @Test func keyWithoutValue() throws {
        #expect(try parse("lonely").pairs == ["lonely="])
        #expect(try parse("lonely   ").pairs == ["lonely="])
        #expect(try parse("lonely=").pairs == ["lonely="])
        #expect(try parse("=value").pairs == ["=value"])
    }

    @Test func valueKeepsTrailingBlanksAndInnerSeparators() throws {
        #expect(try value("a=b  ", "a") == "b  ")
        #expect(try value("url=jdbc:postgresql://h:5432/db?a=b", "url") == "jdbc:postgresql://h:5432/db?a=b")
    }

    // MARK: Comments and blank lines

    @Test func commentsStartWithHashOrBangAsFirstNonBlank() throws {
        let text = """
            # a comment
            ! another
               # indented comment
            \t! indented bang

            a=1
            """
        #expect(try parse(text).pairs == ["a=1"])
    }

    @Test func hashOrBangLaterInALineIsText() throws {
        #expect(try value("a=b # not a comment", "a") == "b # not a comment")
        #expect(try value("a=#b", "a") == "#b")
        #expect(try value("a=!b", "a") == "!b")
        #expect(try parse("\\#key=v").pairs == ["#key=v"])
        #expect(try parse("\\!key=v").pairs == ["!key=v"])
    }

    @Test func aCommentEndingInABackslashDoesNotContinue() throws {
        #expect(try parse("# comment \\\na=b").pairs == ["a=b"])
    }

    @Test func emptyAndCommentOnlyTextHasNoEntries() throws {
        #expect(try parse("").entries.isEmpty)
        #expect(try parse("\n\n   \n").entries.isEmpty)
        #expect(try parse("# only\n! comments").entries.isEmpty)
    }

    // MARK: Continuation lines

    @Test func anOddTrailingBackslashJoinsTheNextLineWithoutItsLeadingBlanks() throws {
        #expect(try value("a=one \\\n     two", "a") == "one two")
        #expect(try value("a=one\\\n\t\t  two\\\n three", "a") == "onetwothree")
    }

    @Test func anEvenNumberOfTrailingBackslashesIsLiteral() throws {
        let properties = try parse("a=b\\\\\nc=d")
        #expect(properties.pairs == ["a=b\\", "c=d"])
    }

    @Test func threeTrailingBackslashesAreOneLiteralAndAContinuation() throws {
        #expect(try value("a=b\\\\\\\n  c", "a") == "b\\c")
    }

    @Test func aContinuationCanSplitTheKey() throws {
        #expect(try parse("long\\\n   key=v").pairs == ["longkey=v"])
    }

    @Test func aBlankLineAfterAContinuationEndsTheLogicalLine() throws {
        #expect(try parse("a=b\\\n\nc=d").pairs == ["a=b", "c=d"])
    }

    @Test func aTrailingBackslashAtTheEndOfTheTextIsDropped() throws {
        #expect(try parse("a=value\\").pairs == ["a=value"])
        #expect(try parse("a=value\\\n").pairs == ["a=value"])
    }

    @Test func aLineHoldingOnlyAContinuationLetsTheNextLineBeAComment() throws {
        // Java's LineReader checks for a comment while the logical line is still empty.
        #expect(try parse("\\\n# comment\na=b").pairs == ["a=b"])
    }

    @Test func aCommentLineInsideAContinuationIsValueText() throws {
        #expect(try value("a=b\\\n  # c", "a") == "b# c")
    }

    // MARK: Escapes

    @Test func controlCharacterEscapes() throws {
        #expect(try value("a=1\\t2\\n3\\r4\\f5", "a") == "1\t2\n3\r4\u{0C}5")
    }

    @Test func unicodeEscapes() throws {
        #expect(try value("a=caf\\u00e9", "a") == "café")
        #expect(try value("a=\\u00E9\\u00c9", "a") == "éÉ")
        #expect(try parse("k\\u00e9y=v").pairs == ["kéy=v"])
        // A surrogate pair written as two escapes is one character.
        #expect(try value("a=\\uD83D\\uDE00", "a") == "😀")
    }

    @Test func anyOtherEscapedCharacterIsItself() throws {
        #expect(try value("a=\\=\\:\\ \\#\\!\\\\\\q\\\"", "a") == "=: #!\\q\"")
    }

    @Test func aLiteralNonASCIICharacterIsKept() throws {
        #expect(try value("greeting=grüß dich ✓", "greeting") == "grüß dich ✓")
    }

    @Test(arguments: ["a=\\u12", "a=\\uZZZZ", "a=\\u", "a=\\u00g1", "\\u12x=v"])
    func aMalformedUnicodeEscapeIsAnError(_ text: String) {
        #expect(configError { try JavaProperties.parse(text) } == .malformedUnicodeEscape(line: 1))
    }

    @Test func aMalformedUnicodeEscapeNamesItsLine() throws {
        let error = configError { try JavaProperties.parse("a=1\n# note\n\nb=\\u00zz\n") }
        #expect(error == .malformedUnicodeEscape(line: 4))
        #expect(error?.description.contains("line 4") == true)
    }

    @Test func aMalformedEscapeInAContinuedLineNamesTheLineTheEntryStartsOn() {
        #expect(configError { try JavaProperties.parse("x=1\na=ok\\\n  \\u12") } == .malformedUnicodeEscape(line: 2))
    }

    // MARK: Line ends

    @Test func crlfAndCarriageReturnLineEnds() throws {
        #expect(try parse("a=1\r\nb=2\r\n").pairs == ["a=1", "b=2"])
        #expect(try parse("a=1\rb=2\r").pairs == ["a=1", "b=2"])
        #expect(try parse("a=1\r\n\r\nb=2\nc=3\rd=4").pairs == ["a=1", "b=2", "c=3", "d=4"])
    }

    @Test func aCarriageReturnEndsAComment() throws {
        #expect(try parse("# comment\ra=b\r! other\r\nc=d").pairs == ["a=b", "c=d"])
    }

    @Test func crlfContinuation() throws {
        #expect(try value("a=one\\\r\n   two\r\nb=2", "a") == "onetwo")
        #expect(try parse("a=one\\\r\n   two\r\nb=2").pairs == ["a=onetwo", "b=2"])
    }

    @Test func lineNumbersCountCRLFOnce() throws {
        let properties = try parse("a=1\r\n# c\r\n\r\nb=2\rc=\\\r\n 3\nd=4")
        #expect(properties.lineNumbers == ["a": 1, "b": 4, "c": 5, "d": 7])
        #expect(configError { try JavaProperties.parse("a=1\r\n\r\nb=\\u1") } == .malformedUnicodeEscape(line: 3))
    }

    // MARK: Duplicates and order

    @Test func aLaterDuplicateWinsButKeepsTheFirstPosition() throws {
        let properties = try parse("a=1\nb=2\na=3\nc=4")
        #expect(properties.entries.keys == ["a", "b", "c"])
        #expect(properties.entries["a"] == "3")
        #expect(properties.lineNumbers["a"] == 3)
    }

    @Test func entriesKeepFileOrder() throws {
        let properties = try parse("z=1\ny=2\nx=3\n")
        #expect(properties.entries.keys == ["z", "y", "x"])
        #expect(properties.entries.values == ["z": "1", "y": "2", "x": "3"])
    }
}
