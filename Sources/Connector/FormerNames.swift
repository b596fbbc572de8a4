import Clocks
import Threads

// Names kept for OutboxConnector, which still uses them: it imports WALReader, not Threads, and calls
// UnixTime. Remove each once nothing does. (The Duration units it uses, `milliseconds` and `secondsText`,
// are module Clocks' own and need nothing here.)

/// Now `Threads.DedicatedThread` (it was WALReader's).
typealias DedicatedThread = Threads.DedicatedThread

/// Now `Clocks.WallClock`.
enum UnixTime {
    static func nowMicroseconds() -> Int64 {
        WallClock.nowMicroseconds()
    }
}
