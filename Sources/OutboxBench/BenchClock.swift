import Glibc

/// Wall-clock time in nanoseconds since the Unix epoch.
///
/// Latencies here cross processes (the writer's stamp, the consumer's receipt, PostgreSQL's commit time),
/// so they need one clock all of them read: `CLOCK_REALTIME` on this one machine.
public enum BenchClock {
    public static func nowNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
