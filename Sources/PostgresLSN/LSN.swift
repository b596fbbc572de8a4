/// A PostgreSQL log sequence number: a byte position in the write-ahead log.
///
/// PostgreSQL prints it as two hexadecimal halves, `16/B374D848`; that is the form used in logs, in
/// `pg_replication_slots` and by `LSN(_:)`.
public struct LSN: RawRepresentable, Hashable, Comparable, Sendable {
    public var rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// `0/0`, PostgreSQL's InvalidXLogRecPtr: "no position".
    public static let zero = LSN(0)

    public static func < (lhs: LSN, rhs: LSN) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

extension LSN: CustomStringConvertible, LosslessStringConvertible {
    public var description: String {
        let high = String(UInt32(truncatingIfNeeded: rawValue >> 32), radix: 16, uppercase: true)
        let low = String(UInt32(truncatingIfNeeded: rawValue), radix: 16, uppercase: true)
        return "\(high)/\(low)"
    }

    /// Parses PostgreSQL's text form, `XXXXXXXX/XXXXXXXX` (each half 1 to 8 hex digits).
    public init?(_ description: String) {
        let halves = description.split(separator: "/", omittingEmptySubsequences: false)
        // Only hex digits: Swift's integer parsing would also take a leading sign, PostgreSQL does not.
        guard halves.count == 2,
              halves.allSatisfy({ (1...8).contains($0.count) && $0.allSatisfy(\.isHexDigit) }),
              let high = UInt32(halves[0], radix: 16), let low = UInt32(halves[1], radix: 16)
        else { return nil }
        self.rawValue = UInt64(high) << 32 | UInt64(low)
    }
}
