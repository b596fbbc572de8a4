import Glibc

/// The wall clock (`CLOCK_REALTIME`), in time since 1970-01-01 UTC: the clock PostgreSQL's commit times,
/// Kafka's record times, log lines and the benchmark's stamps (which cross processes) are read against.
///
/// To measure how long something takes, or to wait until a moment, use `ContinuousClock`, the monotonic
/// clock: it does not jump when the wall clock is set.
public enum WallClock {
    /// Whole seconds and the nanoseconds within the second (`0..<1_000_000_000`), as the kernel gives them.
    public static func now() -> (seconds: Int64, nanoseconds: Int64) {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return (Int64(time.tv_sec), Int64(time.tv_nsec))
    }

    /// Nanoseconds since 1970 (an Int64 holds them until 2262).
    public static func nowNanoseconds() -> Int64 {
        let (seconds, nanoseconds) = now()
        return seconds &* 1_000_000_000 &+ nanoseconds
    }

    /// Microseconds since 1970.
    public static func nowMicroseconds() -> Int64 {
        let (seconds, nanoseconds) = now()
        return seconds &* 1_000_000 &+ nanoseconds / 1_000
    }

    /// Milliseconds since 1970, the unit of Kafka's record times.
    public static func nowMilliseconds() -> Int64 {
        let (seconds, nanoseconds) = now()
        return seconds &* 1_000 &+ nanoseconds / 1_000_000
    }
}
