/// PostgreSQL's text output of a `timestamp` (without time zone), as pgoutput sends it under DateStyle ISO:
/// `YYYY-MM-DD HH:MM:SS[.ffffff]`, years beyond 9999 with more digits. Debezium reads it as a
/// `LocalDateTime` and counts microseconds since 1970-01-01T00:00 as if it were UTC
/// (`io.debezium.time.MicroTimestamp`), in the proleptic Gregorian calendar PostgreSQL uses too.
public enum PostgresTimestamp {
    /// Microseconds since the epoch, read as UTC (`2024-05-06 07:08:09.123456` → 1714979289123456).
    public static func epochMicroseconds(_ text: String) throws(PostgresTimestampError) -> Int64 {
        if text == "infinity" || text == "-infinity" { throw .infinity(text) }
        if text.hasSuffix(" BC") { throw .beforeCommonEra(text) }
        var reader = DigitReader(bytes: Array(text.utf8))
        guard let year = reader.number(minimumDigits: 4, maximumDigits: 6), reader.skip("-"),
              let month = reader.number(minimumDigits: 2, maximumDigits: 2), reader.skip("-"),
              let day = reader.number(minimumDigits: 2, maximumDigits: 2), reader.skip(" "),
              let hour = reader.number(minimumDigits: 2, maximumDigits: 2), reader.skip(":"),
              let minute = reader.number(minimumDigits: 2, maximumDigits: 2), reader.skip(":"),
              let second = reader.number(minimumDigits: 2, maximumDigits: 2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { throw .malformed(text) }
        var fraction: Int64 = 0
        if reader.skip(".") {
            let start = reader.index
            guard let digits = reader.number(minimumDigits: 1, maximumDigits: 6) else { throw .malformed(text) }
            var scale = reader.index - start
            fraction = digits
            while scale < 6 {
                fraction *= 10
                scale += 1
            }
        }
        guard reader.atEnd else { throw .malformed(text) }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
        let (micros, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        let (total, overflowAdding) = micros.addingReportingOverflow(fraction)
        guard !overflow, !overflowAdding else { throw .outOfRange(text) }
        return total
    }

    /// The Kafka record timestamp Debezium derives from a `MicroTimestamp`: `µs / 1000`, Java's long
    /// division, which truncates toward zero (`1999-12-31 23:59:59.999` → 946684799999).
    public static func truncatedMilliseconds(_ microseconds: Int64) -> Int64 {
        microseconds / 1_000
    }

    /// `table.field.event.timestamp` from the column's text: milliseconds since the epoch, read as UTC.
    public static func epochMilliseconds(_ text: String) throws(PostgresTimestampError) -> Int64 {
        truncatedMilliseconds(try epochMicroseconds(text))
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private struct DigitReader {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func number(minimumDigits: Int, maximumDigits: Int) -> Int64? {
            var value: Int64 = 0
            var count = 0
            while count < maximumDigits, index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                index += 1
                count += 1
            }
            return count >= minimumDigits ? value : nil
        }
    }
}

/// Why a `timestamp`'s text is not turned into microseconds.
public enum PostgresTimestampError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `infinity` or `-infinity`: Debezium maps these to sentinel values this does not reproduce.
    case infinity(String)
    /// A date before the Common Era (`… BC`), which this does not reproduce.
    case beforeCommonEra(String)
    /// Beyond the range of 64-bit microseconds since 1970.
    case outOfRange(String)
    /// Not `YYYY-MM-DD HH:MM:SS[.ffffff]` (another DateStyle, or not a timestamp).
    case malformed(String)

    public var description: String {
        switch self {
        case .infinity(let text): return "timestamp \(text) is infinite; its Debezium value is not reproduced"
        case .beforeCommonEra(let text): return "timestamp \(text) is before the Common Era; its Debezium value is not reproduced"
        case .outOfRange(let text): return "timestamp \(text) is out of the range of microseconds since 1970"
        case .malformed(let text): return "\"\(text)\" is not a timestamp in DateStyle ISO (YYYY-MM-DD HH:MM:SS[.ffffff])"
        }
    }
}
