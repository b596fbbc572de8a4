import Clocks
import Glibc

/// Runs blocking work (libpq calls, waits on sockets) on a thread of its own, so that Swift's
/// cooperative thread pool is never blocked.
public enum DedicatedThread {
    /// Starts `body` on a new thread and suspends until it returns.
    /// - Parameter name: the thread's name as `top -H` and `/proc/…/task/…/comm` show it (at most 15 bytes
    ///   are kept).
    public static func run<Result: Sendable>(
        name: String,
        _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            start(name: name) {
                continuation.resume(with: Swift.Result { try body() })
            }
        }
    }

    /// Starts `body` on a new detached thread and returns at once.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(ThreadBody(body: {
            nameCurrentThread(name)
            body()
        })).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let threadBody = Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue()
            threadBody.body()
            return nil
        }, box)
        if status == 0 {
            pthread_detach(thread)
        } else {
            // Without a thread the work still has to happen; it runs here rather than not at all.
            let threadBody = Unmanaged<ThreadBody>.fromOpaque(box).takeRetainedValue()
            threadBody.body()
        }
    }
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

private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void

    init(body: @escaping @Sendable () -> Void) {
        self.body = body
    }
}

/// A file descriptor that other threads can make readable to interrupt a thread waiting in poll().
public final class Wakeup: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        } else {
            fds = [-1, -1]
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        if readEnd >= 0 { Glibc.close(readEnd) }
        if writeEnd >= 0 { Glibc.close(writeEnd) }
    }

    /// Makes the next (or current) wait return. Safe from any thread, including signal-driven code.
    public func signal() {
        var byte: UInt8 = 1
        _ = Glibc.write(writeEnd, &byte, 1)
    }

    /// Blocks the calling (dedicated) thread until `signal()` or until `timeout` passes. Returns whether
    /// it was signalled.
    public func wait(timeout: Duration) -> Bool {
        var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: timeout.milliseconds)
        guard poll(&descriptor, 1, max(milliseconds, 0)) > 0 else { return false }
        drain()
        return true
    }

    /// Empties the pipe after a wake-up has been seen.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while Glibc.read(readEnd, &buffer, buffer.count) > 0 {}
    }

    var fileDescriptor: Int32 { readEnd }
}
