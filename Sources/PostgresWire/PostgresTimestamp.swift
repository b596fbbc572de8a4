/// A PostgreSQL timestamp as its binary form holds it: microseconds since 2000-01-01 00:00:00 UTC. The
/// pgoutput messages' commit times, the replication envelope's server time and a standby status update's
/// client time are all this; `init(isoText:offset:)` reads the text output of `timestamp` and `timestamptz`.
///
/// The raw value is kept as sent, so nothing is lost and decoding never fails on a timestamp;
/// `unixEpochMicroseconds` converts for consumers that count from 1970.
public struct PostgresTimestamp: RawRepresentable, Hashable, Comparable, Sendable {
    /// Microseconds between 1970-01-01 and 2000-01-01, PostgreSQL's epoch.
    public static let postgresEpochInUnixMicroseconds: Int64 = 946_684_800_000_000

    public var microsecondsSincePostgresEpoch: Int64

    public init(microsecondsSincePostgresEpoch: Int64) {
        self.microsecondsSincePostgresEpoch = microsecondsSincePostgresEpoch
    }

    public init(rawValue: Int64) {
        self.microsecondsSincePostgresEpoch = rawValue
    }

    /// Builds the timestamp for a Unix time; nil when it cannot be represented (beyond ±292,000 years).
    public init?(unixEpochMicroseconds: Int64) {
        let (value, overflow) = unixEpochMicroseconds.subtractingReportingOverflow(Self.postgresEpochInUnixMicroseconds)
        guard !overflow else { return nil }
        self.microsecondsSincePostgresEpoch = value
    }

    public var rawValue: Int64 { microsecondsSincePostgresEpoch }

    /// Microseconds since 1970-01-01 UTC, or nil when the value does not fit in an Int64. Only the sentinel
    /// `infinity` (Int64.max) and values past the year 294,000 overflow; none is a real commit time.
    public var unixEpochMicroseconds: Int64? {
        let (value, overflow) = microsecondsSincePostgresEpoch.addingReportingOverflow(Self.postgresEpochInUnixMicroseconds)
        return overflow ? nil : value
    }

    /// Milliseconds since 1970-01-01 UTC (rounded towards negative infinity), the unit of Kafka timestamps.
    public var unixEpochMilliseconds: Int64? {
        guard let micros = unixEpochMicroseconds else { return nil }
        let (quotient, remainder) = micros.quotientAndRemainder(dividingBy: 1000)
        return remainder < 0 ? quotient - 1 : quotient
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.microsecondsSincePostgresEpoch < rhs.microsecondsSincePostgresEpoch
    }
}

extension PostgresTimestamp: CustomStringConvertible {
    /// ISO 8601 in UTC with microseconds, e.g. `2024-01-02T03:04:05.678901Z`; computed without Foundation.
    public var description: String {
        let microsPerDay: Int64 = 86_400_000_000
        let micros = microsecondsSincePostgresEpoch
        // Floor division, so instants before 2000 land on the right day. |days| < 1.1e8: nothing below can
        // overflow.
        var days = micros / microsPerDay
        var microsOfDay = micros % microsPerDay
        if microsOfDay < 0 {
            days -= 1
            microsOfDay += microsPerDay
        }
        let (year, month, day) = ProlepticGregorian.date(daysSince1970: days + 10_957)
        let seconds = microsOfDay / 1_000_000
        let fraction = microsOfDay % 1_000_000
        return "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))"
            + "T\(Self.pad(seconds / 3600, 2)):\(Self.pad(seconds / 60 % 60, 2)):\(Self.pad(seconds % 60, 2))"
            + ".\(Self.pad(fraction, 6))Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value.magnitude)
        let sign = value < 0 ? "-" : ""
        return sign + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
