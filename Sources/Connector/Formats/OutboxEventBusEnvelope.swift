import DebeziumFormat
import PostgresWire

/// The record value outbox-event-bus (ktor-event-bus) publishes: its event object written by Jackson's
/// default pretty printer, `{topic, uuid, timestamp, msgType, mimeType, payload}` in that order, two-space
/// indent, `"\n"` line breaks, `" : "` between name and value, no newline at the end. Its consumers reject
/// a missing or an extra field, so it is exactly these six.
///
/// `timestamp` is the moment of publication as `java.time.Instant.toString()` writes it; `payload` the
/// stored bytes decoded as UTF-8 with each ill-formed sequence replaced by U+FFFD.
enum OutboxEventBusEnvelope {
    static func render(
        topic: some Collection<UInt8>, uuid: some Collection<UInt8>, publishedAtMicroseconds: Int64, messageType: some Collection<UInt8>,
        mimeType: some Collection<UInt8>, payload: some Collection<UInt8>
    ) -> [UInt8] {
        render(
            topic: topic, uuid: uuid, timestamp: instantText(microseconds: publishedAtMicroseconds), messageType: messageType,
            mimeType: mimeType, payload: payload
        )
    }

    /// The envelope with the timestamp's text as given.
    static func render(
        topic: some Collection<UInt8>, uuid: some Collection<UInt8>, timestamp: String, messageType: some Collection<UInt8>,
        mimeType: some Collection<UInt8>, payload: some Collection<UInt8>
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + topic.count + 160)
        out.append(contentsOf: "{\n  \"topic\" : ".utf8)
        appendString(validUTF8(topic), to: &out)
        out.append(contentsOf: ",\n  \"uuid\" : ".utf8)
        appendString(validUTF8(uuid), to: &out)
        out.append(contentsOf: ",\n  \"timestamp\" : \"".utf8)
        out.append(contentsOf: timestamp.utf8)
        out.append(contentsOf: "\",\n  \"msgType\" : ".utf8)
        appendString(validUTF8(messageType), to: &out)
        out.append(contentsOf: ",\n  \"mimeType\" : ".utf8)
        appendString(validUTF8(mimeType), to: &out)
        out.append(contentsOf: ",\n  \"payload\" : ".utf8)
        appendString(validUTF8(payload), to: &out)
        out.append(contentsOf: "\n}".utf8)
        return out
    }

    /// The bytes as the Java `String` built from them with UTF-8 (`new String(bytes, UTF_8)`) holds them,
    /// encoded again as UTF-8. Java replaces each malformed sequence with one U+FFFD as Unicode recommends,
    /// with one difference that Swift's decoder does not share: after ED it does not check that the second
    /// byte stays below A0, so an encoded surrogate (ED A0 80) is one malformed sequence of three bytes, not
    /// three of one (JDK's `StringCoding`/`UTF_8.Decoder`, the same from Java 8 to 25; the goldens show it).
    static func validUTF8(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let input = Array(bytes)
        // Text columns arrive as valid UTF-8 (the connection's client encoding); only bytea needs repair.
        if input.allSatisfy({ $0 < 0x80 }) { return input }
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        func isContinuation(_ index: Int) -> Bool { index < input.count && input[index] & 0xC0 == 0x80 }
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let lead = input[index]
            switch lead {
            case 0..<0x80:
                out.append(lead)
                index += 1
            case 0xC2...0xDF:
                if isContinuation(index + 1) {
                    out.append(contentsOf: input[index...(index + 1)])
                    index += 2
                } else {
                    out.append(contentsOf: replacement)
                    index += 1
                }
            case 0xE0...0xEF:
                // Only E0 narrows its second byte (A0...BF: no overlong form).
                let secondFits = isContinuation(index + 1) && !(lead == 0xE0 && input[index + 1] < 0xA0)
                if !secondFits {
                    out.append(contentsOf: replacement)
                    index += 1
                } else if index + 2 >= input.count {
                    // Cut short at the end: one replacement for the two bytes.
                    out.append(contentsOf: replacement)
                    index += 2
                } else if !isContinuation(index + 2) {
                    out.append(contentsOf: replacement)
                    index += 2
                } else {
                    let isSurrogate = lead == 0xED && input[index + 1] >= 0xA0
                    if isSurrogate { out.append(contentsOf: replacement) } else { out.append(contentsOf: input[index...(index + 2)]) }
                    index += 3
                }
            case 0xF0...0xF4:
                let second = index + 1 < input.count ? input[index + 1] : 0
                let secondFits = isContinuation(index + 1)
                    && !(lead == 0xF0 && second < 0x90) && !(lead == 0xF4 && second > 0x8F)
                if index + 1 < input.count, !secondFits {
                    out.append(contentsOf: replacement)
                    index += 1
                } else if index + 3 >= input.count {
                    // Cut short at the end: the lead, its second byte and a third continuation make one.
                    var end = index + 2
                    if isContinuation(end) { end += 1 }
                    out.append(contentsOf: replacement)
                    index = min(end, input.count)
                } else if !isContinuation(index + 2) {
                    out.append(contentsOf: replacement)
                    index += 2
                } else if !isContinuation(index + 3) {
                    out.append(contentsOf: replacement)
                    index += 3
                } else {
                    out.append(contentsOf: input[index...(index + 3)])
                    index += 4
                }
            default:
                // A lone continuation byte, C0, C1, F5...FF.
                out.append(contentsOf: replacement)
                index += 1
            }
        }
        return out
    }

    /// A JSON string as the relay's `writeValueAsString` writes it: Jackson's escapes, characters outside the
    /// Basic Multilingual Plane as plain UTF-8. `utf8` is valid UTF-8 (`validUTF8`).
    static func appendString(_ utf8: [UInt8], to out: inout [UInt8]) {
        JacksonString.append(String(decoding: utf8, as: UTF8.self), supplementaryAsSurrogateEscapes: false, to: &out)
    }

    /// `Instant.toString()` (ISO_INSTANT): UTC, seconds always, the fraction in groups of three digits, as
    /// few as carry it (none for a whole second).
    static func instantText(microseconds: Int64) -> String {
        let seconds = microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
        let fraction = microseconds - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let date = ProlepticGregorian.date(daysSince1970: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        // ISO_INSTANT signs a year past four digits.
        var text = "\(date.year > 9999 ? "+" : "")\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))T"
            + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        if fraction != 0 {
            text += fraction % 1000 == 0 ? "." + pad(fraction / 1000, 3) : "." + pad(fraction, 6)
        }
        return text + "Z"
    }
}
