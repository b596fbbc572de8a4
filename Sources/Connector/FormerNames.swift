import Clocks
import Threads

// Names kept for the Connector files (the connector's run and its session) that still use them without
// importing Threads or Clocks. Remove each once nothing does. (The Duration units they use, `milliseconds`
// and `secondsText`, are module Clocks' own and need nothing here.)

/// Now `Threads.DedicatedThread` (it was WALReader's).
typealias DedicatedThread = Threads.DedicatedThread

/// Now `Clocks.WallClock`.
enum UnixTime {
    static func nowMicroseconds() -> Int64 {
        WallClock.nowMicroseconds()
    }
}
