import Clocks
import Glibc

/// Threads the benchmark starts and joins: writers, a consumer, a producer. Each runs blocking libpq or
/// librdkafka calls, which must stay off Swift's cooperative pool.
final class JoinableThread {
    private var thread: pthread_t?

    init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(ThreadBox(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<ThreadBox>.fromOpaque(context).takeRetainedValue().body()
            return nil
        }, box)
        if status == 0 {
            self.thread = thread
        } else {
            // No thread to be had: run the work here rather than not at all.
            Unmanaged<ThreadBox>.fromOpaque(box).takeRetainedValue().body()
        }
    }

    /// Waits for the thread to finish; later calls return at once.
    func join() {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    deinit { join() }
}

private final class ThreadBox: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
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
