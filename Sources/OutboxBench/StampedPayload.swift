/// The benchmark's event payload: a JSON object carrying the writer's wall-clock stamp, padded to size.
///
/// The stamp travels inside the payload because both relays publish the payload unchanged as the record
/// value, so one consumer reads the stamp the same way whichever relay delivered it. PostgreSQL stores it
/// as jsonb, which reorders the keys and adds spaces; `sentNanoseconds(in:)` does not care.
enum StampedPayload {
    static let stampKey = Array("sent_ns".utf8)

    /// `{"sent_ns":…,"pad":"xxx…"}`, about `size` bytes (never shorter than the stamp needs).
    static func make(sentNanoseconds: Int64, size: Int) -> String {
        let head = "{\"sent_ns\":\(sentNanoseconds),\"pad\":\""
        let padding = max(0, size - head.utf8.count - 2)
        return head + String(repeating: "x", count: padding) + "\"}"
    }

    /// The stamp in a payload as any JSON writer prints it, or nil when there is none.
    static func sentNanoseconds(in value: [UInt8]) -> Int64? {
        guard let keyStart = firstIndex(of: stampKey, in: value) else { return nil }
        var index = keyStart + stampKey.count
        // Past the closing quote, the colon and any spaces.
        while index < value.count, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(value[index]) {
            guard value[index] == UInt8(ascii: "\"") || value[index] == UInt8(ascii: ":") || value[index] == UInt8(ascii: " ") else {
                return nil
            }
            index += 1
        }
        var stamp: Int64 = 0
        var digits = 0
        while index < value.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(value[index]) {
            let (shifted, overflow) = stamp.multipliedReportingOverflow(by: 10)
            let (next, carry) = shifted.addingReportingOverflow(Int64(value[index] - UInt8(ascii: "0")))
            guard !overflow, !carry else { return nil }
            stamp = next
            digits += 1
            index += 1
        }
        return digits > 0 ? stamp : nil
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var start = 0
        while start + needle.count <= haystack.count {
            if haystack[start] == needle[0], haystack[start ..< start + needle.count].elementsEqual(needle) {
                return start
            }
            start += 1
        }
        return nil
    }
}
