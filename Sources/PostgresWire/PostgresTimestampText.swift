extension PostgresTimestamp {
    /// Whether the text of a timestamp may end in a UTC offset.
    public enum TextOffset: Sendable {
        /// `timestamp`'s text: no offset; the time is read as UTC.
        case none
        /// `timestamptz`'s text, or `timestamp`'s: an offset `±HH[:MM[:SS]]` is applied when there is one, and
        /// the time is read as UTC when there is none.
        case allowed
    }

    /// Why a text is not read as a timestamp.
    public enum TextError: Error, Sendable, Equatable {
        /// `infinity` or `-infinity`.
        case infinite
        /// A date before the Common Era (`… BC`).
        case beforeCommonEra
        /// Beyond 64-bit microseconds since 1970 (past the year 294,246).
        case outOfRange
        /// Not `YYYY-MM-DD HH:MM:SS[.ffffff]` (another DateStyle, or not a timestamp).
        case malformed
    }

    /// Reads PostgreSQL's text output of a timestamp under DateStyle ISO, which logical replication and
    /// libpq's text results use: `YYYY-MM-DD HH:MM:SS[.ffffff]`, years beyond 9999 with more digits (up to
    /// six), in the proleptic Gregorian calendar, then (with `offset: .allowed`) the UTC offset
    /// `timestamptz` prints.
    public init(isoText text: ArraySlice<UInt8>, offset: TextOffset = .none) throws(TextError) {
        var local = text
        var offsetSeconds: Int64 = 0
        // The offset, if any, follows the time of day (which starts 11 bytes in, after the date's space).
        if offset == .allowed, text.count > 19,
           let sign = text[(text.startIndex + 19)...].firstIndex(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }) {
            guard let seconds = Self.offsetSeconds(text[(sign + 1)...]) else { throw .malformed }
            offsetSeconds = text[sign] == UInt8(ascii: "-") ? -seconds : seconds
            local = text[..<sign]
        }
        let unix = try Self.localUnixMicroseconds(local)
        let (utc, overflow) = unix.subtractingReportingOverflow(offsetSeconds * 1_000_000)
        guard !overflow, let timestamp = PostgresTimestamp(unixEpochMicroseconds: utc) else { throw .outOfRange }
        self = timestamp
    }

    /// `init(isoText:offset:)` of a string's UTF-8.
    public init(isoText text: String, offset: TextOffset = .none) throws(TextError) {
        try self.init(isoText: Array(text.utf8)[...], offset: offset)
    }

    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` read as UTC, in microseconds since 1970.
    private static func localUnixMicroseconds(_ text: ArraySlice<UInt8>) throws(TextError) -> Int64 {
        if text.elementsEqual("infinity".utf8) || text.elementsEqual("-infinity".utf8) { throw .infinite }
        if text.count >= 3, text.suffix(3).elementsEqual(" BC".utf8) { throw .beforeCommonEra }
        var reader = DigitReader(bytes: text)
        guard let year = reader.number(minimumDigits: 4, maximumDigits: 6), reader.skip("-"),
              let month = reader.number(minimumDigits: 2, maximumDigits: 2), reader.skip("-"),
              let day = reader.number(minimumDigits: 2, maximumDigits: 2), reader.skip(" "),
              let hour = reader.number(minimumDigits: 2, maximumDigits: 2), reader.skip(":"),
              let minute = reader.number(minimumDigits: 2, maximumDigits: 2), reader.skip(":"),
              let second = reader.number(minimumDigits: 2, maximumDigits: 2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { throw .malformed }
        var fraction: Int64 = 0
        if reader.skip(".") {
            let start = reader.index
            guard let digits = reader.number(minimumDigits: 1, maximumDigits: 6) else { throw .malformed }
            var scale = reader.index - start
            fraction = digits
            while scale < 6 {
                fraction *= 10
                scale += 1
            }
        }
        guard reader.atEnd else { throw .malformed }
        // Years have at most six digits: nothing below overflows before the multiplication.
        let days = ProlepticGregorian.daysSince1970(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
        let (micros, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        let (total, overflowAdding) = micros.addingReportingOverflow(fraction)
        guard !overflow, !overflowAdding else { throw .outOfRange }
        return total
    }

    /// `HH[:MM[:SS]]` as seconds.
    private static func offsetSeconds(_ text: ArraySlice<UInt8>) -> Int64? {
        let parts = text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { return nil }
        var seconds: Int64 = 0
        for (index, part) in parts.enumerated() {
            var reader = DigitReader(bytes: part)
            guard let value = reader.number(minimumDigits: 2, maximumDigits: 2), reader.atEnd else { return nil }
            seconds += value * [3600, 60, 1][index]
        }
        return seconds
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private struct DigitReader {
        let bytes: ArraySlice<UInt8>
        var index: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            self.index = bytes.startIndex
        }

        var atEnd: Bool { index == bytes.endIndex }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.endIndex, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func number(minimumDigits: Int, maximumDigits: Int) -> Int64? {
            var value: Int64 = 0
            var count = 0
            while count < maximumDigits, index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                index += 1
                count += 1
            }
            return count >= minimumDigits ? value : nil
        }
    }
}
