import Glibc

/// The wall clock, the one PostgreSQL's commit timestamps are read against.
enum UnixTime {
    static func nowMicroseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Seconds with one decimal, for messages ("44.1").
    var secondsText: String {
        let tenths = milliseconds / 100
        return "\(tenths / 10).\(tenths % 10)"
    }
}

