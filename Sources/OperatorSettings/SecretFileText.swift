/// What a secret file holds, as the secret to use.
public enum SecretFileText {
    /// `content` without the line breaks at its end: editors and `echo` add one, and files written on
    /// Windows end in CRLF. A line break inside the content is kept (it is part of the secret).
    ///
    /// Trimmed by Unicode scalar, not by `Character`: Swift reads "\r\n" as a single character, which
    /// neither `hasSuffix("\n")` nor `hasSuffix("\r")` matches.
    public static func secret(fromContent content: String) -> String {
        var scalars = content.unicodeScalars
        while let last = scalars.last, last == "\n" || last == "\r" {
            scalars.removeLast()
        }
        return String(scalars)
    }
}
