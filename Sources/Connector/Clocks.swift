import Clocks

// The wall clock and `Duration`'s units are module Clocks' (WallClock, Duration.milliseconds, .secondsText).
// This name is kept for OutboxConnector, which still calls it; remove it once nothing does.

/// Now `Clocks.WallClock`.
enum UnixTime {
    static func nowMicroseconds() -> Int64 {
        WallClock.nowMicroseconds()
    }
}
