import Clocks
import Glibc

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
