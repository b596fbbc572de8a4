import OperatorSettings
import Testing

@Suite("A secret file's text")
struct SecretFileTextTests {
    @Test(arguments: [
        ("s3cret\n", "s3cret"),
        ("s3cret\r\n", "s3cret"),
        ("s3cret\r", "s3cret"),
        ("s3cret", "s3cret"),
        ("s3cret\r\n\r\n", "s3cret"),
        ("s3cret\n\n", "s3cret"),
        ("", ""),
        ("\r\n", ""),
    ])
    func trailingLineBreaksAreDropped(content: String, secret: String) {
        #expect(SecretFileText.secret(fromContent: content) == secret)
    }

    @Test func aLineBreakInsideIsKept() {
        #expect(SecretFileText.secret(fromContent: "line one\nline two\r\n") == "line one\nline two")
        #expect(SecretFileText.secret(fromContent: "a\r\nb\n") == "a\r\nb")
    }

    @Test func otherTrailingWhitespaceIsPartOfTheSecret() {
        #expect(SecretFileText.secret(fromContent: "ends in a space \n") == "ends in a space ")
        #expect(SecretFileText.secret(fromContent: "tab\t\r\n") == "tab\t")
    }

    /// A letter with a combining mark right before the CRLF: the scalars before the break stay as they were.
    @Test func combiningMarksBeforeTheBreakAreKept() {
        #expect(SecretFileText.secret(fromContent: "cafe\u{301}\r\n").unicodeScalars.elementsEqual("cafe\u{301}".unicodeScalars))
    }
}
