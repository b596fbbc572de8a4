/// Hexadecimal digits in text: PostgreSQL's bytea output. One decoder for the native mapping and Debezium's
/// column values (JSON's `\u` escapes are the JSON tokenizer's).
public enum HexText {
    /// The value of one ASCII hex digit, either case; nil for any other byte.
    @inlinable
    public static func digitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Decodes bytea's text output, `\x` then two hex digits a byte (bytea_output = hex, the default
    /// since PostgreSQL 9.0 and what logical replication sends); nil for anything else.
    public static func bytea(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count >= 2, text.count % 2 == 0,
              text[text.startIndex] == UInt8(ascii: "\\"), text[text.startIndex + 1] == UInt8(ascii: "x")
        else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((text.count - 2) / 2)
        var index = text.startIndex + 2
        while index < text.endIndex {
            guard let high = digitValue(text[index]), let low = digitValue(text[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
