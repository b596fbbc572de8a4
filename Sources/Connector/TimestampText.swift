import DebeziumFormat

/// PostgreSQL's text output of `timestamp` and `timestamptz` (DateStyle ISO, which logical replication
/// and libpq's text results use), read as microseconds since the Unix epoch.
enum TimestampText {
    /// `YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM[:SS]]]`. Without an offset the time is read as UTC. Nil for
    /// anything else: `infinity`, BC dates, other DateStyles.
    static func unixMicroseconds(_ bytes: ArraySlice<UInt8>) -> Int64? {
        // The offset, if any, follows the time of day (which starts 11 bytes in, after the date's space).
        var offsetSeconds: Int64 = 0
        var local = bytes
        if bytes.count > 19, let sign = bytes[(bytes.startIndex + 19)...].firstIndex(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }) {
            guard let offset = offset(bytes[(sign + 1)...]) else { return nil }
            offsetSeconds = bytes[sign] == UInt8(ascii: "-") ? -offset : offset
            local = bytes[..<sign]
        }
        guard let microseconds = try? PostgresTimestamp.epochMicroseconds(String(decoding: local, as: UTF8.self)) else { return nil }
        return microseconds - offsetSeconds * 1_000_000
    }

    /// `HH[:MM[:SS]]` as seconds.
    private static func offset(_ text: ArraySlice<UInt8>) -> Int64? {
        let parts = text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { return nil }
        var seconds: Int64 = 0
        for (index, part) in parts.enumerated() {
            guard part.count == 2, part.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let value = Int64(String(decoding: part, as: UTF8.self))
            else { return nil }
            seconds += value * [3600, 60, 1][index]
        }
        return seconds
    }
}
