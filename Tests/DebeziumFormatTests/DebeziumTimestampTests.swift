import DebeziumFormat
import Testing

/// Debezium's reading of a `timestamp` column's text (the captured records' timestamps are compared in
/// PlacementGoldenTests).
@Suite("DebeziumTimestamp")
struct DebeziumTimestampTests {
    @Test func timestampsDebeziumCannotTakeAreTypedErrors() {
        #expect(throws: PostgresTimestampError.infinity("infinity")) { try DebeziumTimestamp.epochMicroseconds("infinity") }
        #expect(throws: PostgresTimestampError.infinity("-infinity")) { try DebeziumTimestamp.epochMicroseconds("-infinity") }
        #expect(throws: PostgresTimestampError.beforeCommonEra("0044-03-15 12:00:00 BC")) {
            try DebeziumTimestamp.epochMicroseconds("0044-03-15 12:00:00 BC")
        }
        #expect(throws: PostgresTimestampError.outOfRange("294276-12-31 23:59:59.999999")) {
            try DebeziumTimestamp.epochMicroseconds("294276-12-31 23:59:59.999999")
        }
        for text in ["", "2024-05-06", "2024-05-06T07:08:09", "2024-13-01 00:00:00", "2023-02-29 00:00:00", "2024-05-06 24:00:00",
                     "2024-05-06 07:08:09.1234567", "2024-05-06 07:08:09.", "2024-05-06 07:08:09+02", "05/06/2024 07:08:09"] {
            #expect(throws: PostgresTimestampError.malformed(text)) { try DebeziumTimestamp.epochMicroseconds(text) }
        }
    }

    /// Java's long division truncates toward zero, also before 1970.
    @Test func millisecondsAreTruncatedTowardZero() throws {
        #expect(DebeziumTimestamp.truncatedMilliseconds(1_999) == 1)
        #expect(DebeziumTimestamp.truncatedMilliseconds(-1_999) == -1)
        #expect(try DebeziumTimestamp.epochMilliseconds("1969-12-31 23:59:59.9995") == 0)
        #expect(try DebeziumTimestamp.epochMicroseconds("1969-12-31 23:59:59.9995") == -500)
    }
}
