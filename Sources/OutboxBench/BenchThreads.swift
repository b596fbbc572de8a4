import Clocks
import Glibc
import Threads

/// Starts one of the threads the benchmark joins: writers, a consumer, a producer. Each runs blocking libpq or
/// librdkafka calls, which must stay off Swift's cooperative pool. With no thread to be had, the work runs
/// here rather than not at all, and there is nothing to join (nil).
func startBenchThread(_ body: @escaping @Sendable () -> Void) -> JoinableThread? {
    if let thread = DedicatedThread.joinable(name: nil, body) { return thread }
    body()
    return nil
}

/// Sleeps the calling thread until the wall clock reaches `nanoseconds` (returns at once if it has).
func sleep(untilNanoseconds nanoseconds: Int64) {
    while true {
        let remaining = nanoseconds - WallClock.nowNanoseconds()
        guard remaining > 0 else { return }
        var request = timespec(tv_sec: Int(remaining / 1_000_000_000), tv_nsec: Int(remaining % 1_000_000_000))
        _ = nanosleep(&request, nil)
    }
}

func usleepMilliseconds(_ milliseconds: Int) {
    sleep(nanoseconds: Int64(milliseconds) * 1_000_000)
}

func sleep(nanoseconds: Int64) {
    guard nanoseconds > 0 else { return }
    var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    _ = nanosleep(&request, nil)
}
