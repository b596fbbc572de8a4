/// A `Duration` in the units that logs, metrics and system calls take. Each conversion saturates at the
/// bounds of Int64 instead of trapping (only durations of hundreds of millions of years reach them).
///
/// `components` gives the seconds and the attoseconds with the same sign, so "truncated" below is toward
/// zero for negative durations too.
extension Duration {
    private static let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
    private static let attosecondsPerNanosecond: Int64 = 1_000_000_000

    /// Whole milliseconds, truncated (`1.9 ms` is 1).
    public var milliseconds: Int64 {
        Self.combine(components.seconds, 1_000, components.attoseconds / Self.attosecondsPerMillisecond)
    }

    /// Whole milliseconds, rounded up (`0.1 ms` is 1): a timeout that still waits however short it is.
    public var millisecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        let part = attoseconds > 0
            ? (attoseconds + Self.attosecondsPerMillisecond - 1) / Self.attosecondsPerMillisecond
            : attoseconds / Self.attosecondsPerMillisecond
        return Self.combine(seconds, 1_000, part)
    }

    /// Whole nanoseconds, truncated.
    public var nanoseconds: Int64 {
        Self.combine(components.seconds, 1_000_000_000, components.attoseconds / Self.attosecondsPerNanosecond)
    }

    /// Seconds as a Double, for rates and reports.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Seconds with one decimal, truncated, for messages ("44.1").
    public var secondsText: String {
        let tenths = milliseconds / 100
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// `seconds * scale + part`, saturating.
    private static func combine(_ seconds: Int64, _ scale: Int64, _ part: Int64) -> Int64 {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: scale)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (sum, overflowAdding) = scaled.addingReportingOverflow(part)
        guard !overflowAdding else { return part < 0 ? .min : .max }
        return sum
    }
}
