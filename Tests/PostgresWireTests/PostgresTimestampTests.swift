import PostgresWire
import TestSupport
import Testing

@Suite("PostgresTimestamp")
struct PostgresTimestampTests {
    /// 2000-01-01 is 10,957 days (30 years, 7 of them leap) after 1970-01-01.
    static let epochOffset: Int64 = 10_957 * 86_400 * 1_000_000

    @Test func conversions() {
        let epoch = PostgresTimestamp(microsecondsSincePostgresEpoch: 0)
        #expect(epoch.description == "2000-01-01T00:00:00.000000Z")
        #expect(epoch.unixEpochMicroseconds == 946_684_800_000_000)
        #expect(epoch.unixEpochMilliseconds == 946_684_800_000)

        let before = PostgresTimestamp(microsecondsSincePostgresEpoch: -1)
        #expect(before.description == "1999-12-31T23:59:59.999999Z")
        #expect(before.unixEpochMilliseconds == 946_684_799_999)

        let leapDay = PostgresTimestamp(unixEpochMicroseconds: 1_709_210_096_000_001)
        #expect(leapDay?.description == "2024-02-29T12:34:56.000001Z")
        #expect(leapDay?.unixEpochMicroseconds == 1_709_210_096_000_001)
        #expect(PostgresTimestamp(unixEpochMicroseconds: 0)?.description == "1970-01-01T00:00:00.000000Z")
        #expect(PostgresTimestamp(unixEpochMicroseconds: -1)?.unixEpochMilliseconds == -1)

        // PostgreSQL's 'infinity' and '-infinity' sentinels and other extremes convert without trapping.
        let infinity = PostgresTimestamp(microsecondsSincePostgresEpoch: .max)
        #expect(infinity.unixEpochMicroseconds == nil)
        #expect(infinity.unixEpochMilliseconds == nil)
        #expect(!infinity.description.isEmpty)
        let minusInfinity = PostgresTimestamp(microsecondsSincePostgresEpoch: .min)
        #expect(minusInfinity.unixEpochMicroseconds == .min + 946_684_800_000_000)
        #expect(!minusInfinity.description.isEmpty)
        #expect(PostgresTimestamp(unixEpochMicroseconds: .min) == nil)
        #expect(before < epoch)
    }

    @Test func epochOffsetIsThirtyYears() {
        #expect(PostgresTimestamp.postgresEpochInUnixMicroseconds == Self.epochOffset)
        #expect(PostgresTimestamp(unixEpochMicroseconds: 946_684_800_000_000)?.rawValue == 0)
        #expect(PostgresTimestamp(microsecondsSincePostgresEpoch: 0).unixEpochMicroseconds == 946_684_800_000_000)
        #expect(PostgresTimestamp(unixEpochMicroseconds: 0)?.rawValue == -946_684_800_000_000)
    }

    @Test func unixRoundTrip() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<1_000 {
            // Any instant within ±100,000 years.
            let unix = Int64.random(in: -3_155_760_000_000_000_000...3_155_760_000_000_000_000, using: &random)
            let time = PostgresTimestamp(unixEpochMicroseconds: unix)
            #expect(time?.unixEpochMicroseconds == unix)
            #expect(time?.rawValue == unix - Self.epochOffset)
        }
    }

    @Test func rawValueInitializersAgree() {
        #expect(PostgresTimestamp(rawValue: 123) == PostgresTimestamp(microsecondsSincePostgresEpoch: 123))
        #expect(PostgresTimestamp(microsecondsSincePostgresEpoch: -1) < PostgresTimestamp(microsecondsSincePostgresEpoch: 0))
        #expect(PostgresTimestamp(microsecondsSincePostgresEpoch: .min) < PostgresTimestamp(microsecondsSincePostgresEpoch: .max))
    }
}

@Suite("PostgresTimestamp: PostgreSQL's text")
struct PostgresTimestampTextTests {
    private static func unixMicroseconds(_ text: String, offset: PostgresTimestamp.TextOffset) -> Int64? {
        (try? PostgresTimestamp(isoText: text, offset: offset))?.unixEpochMicroseconds
    }

    @Test(arguments: [
        ("1970-01-01 00:00:00", 0),
        ("2024-05-06 07:08:09.123456", 1_714_979_289_123_456),
        ("1999-12-31 23:59:59.999", 946_684_799_999_000),
        ("2024-05-06 09:08:09.5+02", 1_714_979_289_500_000),
        ("2024-05-06 01:38:09-05:30", 1_714_979_289_000_000),
        ("1900-02-28 12:00:00", -2_203_934_400_000_000),
    ] as [(String, Int64)])
    func readsAsMicrosecondsSinceTheEpoch(text: String, microseconds: Int64) {
        #expect(Self.unixMicroseconds(text, offset: .allowed) == microseconds)
    }

    @Test(arguments: ["infinity", "-infinity", "2024-05-06 07:08:09 BC", "2024-13-01 00:00:00", "2024-05-06T07:08:09", "2024-05-06 07:08:09.", "2024-05-06 07:08:09.1234567", ""])
    func othersAreNil(text: String) {
        #expect(Self.unixMicroseconds(text, offset: .allowed) == nil)
    }

    @Test func whyATextIsNotATimestamp() {
        #expect(throws: PostgresTimestamp.TextError.infinite) { try PostgresTimestamp(isoText: "infinity") }
        #expect(throws: PostgresTimestamp.TextError.infinite) { try PostgresTimestamp(isoText: "-infinity") }
        #expect(throws: PostgresTimestamp.TextError.beforeCommonEra) { try PostgresTimestamp(isoText: "0044-03-15 12:00:00 BC") }
        #expect(throws: PostgresTimestamp.TextError.outOfRange) { try PostgresTimestamp(isoText: "294276-12-31 23:59:59.999999") }
        for text in ["", "2024-05-06", "2024-13-01 00:00:00", "2023-02-29 00:00:00", "2024-05-06 24:00:00", "05/06/2024 07:08:09",
                     "2024-05-06 07:08:09+2", "2024-05-06 07:08:09+02:3", "2024-05-06 07:08:09+02:00:00:00"] {
            #expect(throws: PostgresTimestamp.TextError.malformed, "\(text)") { try PostgresTimestamp(isoText: text, offset: .allowed) }
        }
    }

    /// `timestamp`'s text has no offset: one there is not read as one.
    @Test func anOffsetIsReadOnlyWhereAllowed() throws {
        #expect(throws: PostgresTimestamp.TextError.malformed) { try PostgresTimestamp(isoText: "2024-05-06 07:08:09+02") }
        #expect(try PostgresTimestamp(isoText: "2024-05-06 07:08:09+02", offset: .allowed)
            == PostgresTimestamp(isoText: "2024-05-06 05:08:09"))
        #expect(try PostgresTimestamp(isoText: "2024-05-06 07:08:09", offset: .allowed) == PostgresTimestamp(isoText: "2024-05-06 07:08:09"))
    }

    /// The largest time in 64-bit microseconds since 1970 reads; an offset that takes it past is out of
    /// range, not a trap.
    @Test func theEdgesOfTheRange() throws {
        #expect(try PostgresTimestamp(isoText: "294247-01-10 04:00:54.775807").unixEpochMicroseconds == Int64.max)
        #expect(throws: PostgresTimestamp.TextError.outOfRange) { try PostgresTimestamp(isoText: "294247-01-10 04:00:54.775808") }
        #expect(throws: PostgresTimestamp.TextError.outOfRange) {
            try PostgresTimestamp(isoText: "294247-01-10 04:00:54.775807-14", offset: .allowed)
        }
        #expect(try PostgresTimestamp(isoText: "0001-01-01 00:00:00").unixEpochMicroseconds == -62_135_596_800_000_000)
        #expect(throws: PostgresTimestamp.TextError.outOfRange) { try PostgresTimestamp(isoText: "999999-12-31 23:59:59") }
    }

    /// Seeded random damage to valid texts: a typed error or a timestamp, never a trap.
    @Test func damagedTextsNeverTrap() {
        var random = SplitMix64(seed: 0x7157)
        let alphabet = Array("0123456789-+: .BCinfty".utf8)
        let valid = Array("2024-05-06 07:08:09.123456+05:30".utf8)
        for _ in 0..<5_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[position] = alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
                case 1: bytes.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &random)], at: position)
                default: bytes.remove(at: position)
                }
                if bytes.isEmpty { bytes = valid }
            }
            _ = try? PostgresTimestamp(isoText: bytes[...], offset: .allowed)
            _ = try? PostgresTimestamp(isoText: bytes[...])
        }
    }
}
