import Glibc
import Synchronization

/// Threads of their own for blocking work (libpq and librdkafka calls, waits on sockets, the benchmark's
/// writers), so that Swift's cooperative pool is never blocked. Every thread outbox-cdc starts is started
/// here, with pthreads.
public enum DedicatedThread {
    /// Starts `body` on a new thread and suspends until that thread has ended, not merely until `body`
    /// returned. Without a thread to be had, `body` runs on the calling thread rather than not at all.
    ///
    /// Why wait for the end: after `body` a thread still runs its thread-exit destructors (OpenSSL's, in
    /// libpq and in librdkafka's bundled copy, free per-thread state there). A caller resumed before them
    /// may exit the process, and exit's own OpenSSL cleanup then frees the same state: a double free that
    /// aborted outbox-cdc after an orderly stop. So a small joining thread waits for the worker's end
    /// and only then resumes the caller.
    /// - Parameter name: the thread's name as `top -H` and `/proc/…/task/…/comm` show it (at most 15 bytes
    ///   are kept).
    public static func run<Result: Sendable>(
        name: String,
        _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            let outcome = Outcome<Result>()
            let started = detach(name: "cdc-join") {
                if let worker = joinable(name: name, { outcome.store(Swift.Result { try body() }) }) {
                    worker.join()
                } else {
                    nameCurrentThread(name)
                    outcome.store(Swift.Result { try body() })
                }
                continuation.resume(with: outcome.take())
            }
            if !started {
                continuation.resume(with: Swift.Result { try body() })
            }
        }
    }

    /// Starts `body` on a new detached thread named `name` and returns at once. False, with `body` not run,
    /// when the system gives no thread.
    @discardableResult
    public static func detach(name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        guard let thread = create(name: name, body) else { return false }
        pthread_detach(thread)
        return true
    }

    /// Starts `body` on a new thread to be joined. `name` names the thread; without one it keeps its
    /// creator's name. Nil, with `body` not run, when the system gives no thread.
    public static func joinable(name: String?, _ body: @escaping @Sendable () -> Void) -> JoinableThread? {
        create(name: name, body).map(JoinableThread.init)
    }

    private static func create(name: String?, _ body: @escaping @Sendable () -> Void) -> pthread_t? {
        let box = Unmanaged.passRetained(ThreadBody {
            if let name { nameCurrentThread(name) }
            body()
        }).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().body()
            return nil
        }, box)
        guard status == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            return nil
        }
        return thread
    }
}

/// A thread started by `DedicatedThread.joinable`.
public final class JoinableThread: Sendable {
    private let thread: pthread_t
    /// Whether it has been joined; held while joining, so that a second `join()` waits for the first.
    private let joined = Mutex(false)

    init(_ thread: pthread_t) {
        self.thread = thread
    }

    /// Waits for the thread to finish; later calls return at once. Not from the thread itself.
    public func join() {
        joined.withLock { joined in
            guard !joined else { return }
            pthread_join(thread, nil)
            joined = true
        }
    }

    /// True when called on this thread.
    public var isCurrent: Bool {
        pthread_equal(pthread_self(), thread) != 0
    }

    /// A thread still running when its last reference goes is waited for.
    deinit { join() }
}

/// Names the calling thread. Linux keeps 15 bytes; a new thread otherwise inherits its creator's name,
/// which makes every thread of the process look alike in `top -H` and in per-thread CPU figures.
/// (Glibc's `pthread_setname_np` is not visible to Swift; the kernel's own file does the same.)
public func nameCurrentThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

/// What `run`'s worker thread hands to the thread that joins it.
private final class Outcome<Value: Sendable>: Sendable {
    private let stored = Mutex<Swift.Result<Value, any Error>?>(nil)

    func store(_ result: Swift.Result<Value, any Error>) {
        stored.withLock { $0 = result }
    }

    /// Only after the worker stored its result (the join orders the two).
    func take() -> Swift.Result<Value, any Error> {
        stored.withLock { $0 } ?? .failure(CancellationError())
    }
}

private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void

    init(body: @escaping @Sendable () -> Void) {
        self.body = body
    }
}
