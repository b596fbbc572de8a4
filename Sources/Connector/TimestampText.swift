/// PostgreSQL's text output of `timestamp` and `timestamptz` (DateStyle ISO, which logical replication
/// and libpq's text results use), read as microseconds since the Unix epoch.
enum TimestampText {
    /// `YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM[:SS]]]`. Without an offset the time is read as UTC. Nil for
    /// anything else: `infinity`, BC dates, other DateStyles.
    static func unixMicroseconds(_ text: ArraySlice<UInt8>) -> Int64? {
        var reader = Reader(bytes: text)
        guard let year = reader.digits(4), reader.skip("-"), let month = reader.digits(2), reader.skip("-"),
              let day = reader.digits(2), reader.skip(" "), let hour = reader.digits(2), reader.skip(":"),
              let minute = reader.digits(2), reader.skip(":"), let second = reader.digits(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var microseconds: Int64 = 0
        if reader.skip(".") {
            var scale: Int64 = 100_000
            var count = 0
            while let digit = reader.digit() {
                microseconds += Int64(digit) * scale
                scale /= 10
                count += 1
            }
            guard count > 0, count <= 6 else { return nil }
        }
        var offsetSeconds: Int64 = 0
        if let sign = reader.sign() {
            guard let hours = reader.digits(2) else { return nil }
            var offset = Int64(hours) * 3600
            if reader.skip(":") {
                guard let minutes = reader.digits(2) else { return nil }
                offset += Int64(minutes) * 60
                if reader.skip(":") {
                    guard let seconds = reader.digits(2) else { return nil }
                    offset += Int64(seconds)
                }
            }
            offsetSeconds = sign * offset
        }
        guard reader.atEnd else { return nil }
        let days = daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
        let seconds = days * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second) - offsetSeconds
        return seconds * 1_000_000 + microseconds
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private struct Reader {
        let bytes: ArraySlice<UInt8>
        var index: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            index = bytes.startIndex
        }

        var atEnd: Bool { index == bytes.endIndex }

        mutating func digit() -> Int? {
            guard index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
            defer { index += 1 }
            return Int(bytes[index] - UInt8(ascii: "0"))
        }

        mutating func digits(_ count: Int) -> Int? {
            var value = 0
            for _ in 0..<count {
                guard let digit = digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.endIndex, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func sign() -> Int64? {
            if skip("+") { return 1 }
            if skip("-") { return -1 }
            return nil
        }
    }
}
