import CLibRdKafka
import Dispatch
import Foundation
import Synchronization

/// A C handle that may cross threads because its owner serializes its lifetime (librdkafka objects are
/// themselves thread-safe; what must not race is their destruction, which the owner orders explicitly).
struct UncheckedHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// One dedicated OS thread that loops `rd_kafka_poll`, so that delivery reports and error callbacks run there
/// and never on Swift's cooperative thread pool (a poll blocks for up to its timeout).
final class PollThread: Sendable {
    /// How long one `rd_kafka_poll` may block. Only bounds how late a stop request is seen when the yield
    /// below is missed; reports are served as soon as they arrive regardless.
    private static let pollTimeoutMilliseconds: Int32 = 100

    private let client: UncheckedHandle
    /// The client's main queue (the one `rd_kafka_poll` serves), held to wake the poll up on stop.
    private let mainQueue: UncheckedHandle
    private let stopRequested = Atomic<Bool>(false)
    private let threadIdentity = Mutex<ObjectIdentifier?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts polling `client` at once. `stop()` must be called before `client` is destroyed.
    init(client: OpaquePointer, name: String) {
        self.client = UncheckedHandle(pointer: client)
        self.mainQueue = UncheckedHandle(pointer: rd_kafka_queue_get_main(client))
        let thread = Thread { [self] in
            // Foundation does not pass the name to the kernel, where `top -H` and per-thread CPU figures
            // read it (Linux keeps 15 bytes).
            let fd = open("/proc/thread-self/comm", O_WRONLY)
            if fd >= 0 {
                let bytes = Array(name.utf8.prefix(15))
                _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
            threadIdentity.withLock { $0 = ObjectIdentifier(Thread.current) }
            while !stopRequested.load(ordering: .acquiring) {
                rd_kafka_poll(self.client.pointer, Self.pollTimeoutMilliseconds)
            }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// True when called from inside a callback this thread is serving.
    var isCurrentThread: Bool {
        threadIdentity.withLock { $0 == ObjectIdentifier(Thread.current) }
    }

    /// Asks the loop to end, waits until it has, and releases the main queue reference. Call exactly once.
    func stop() {
        precondition(!isCurrentThread, "the poll thread cannot stop itself (called from a librdkafka callback)")
        stopRequested.store(true, ordering: .releasing)
        // Makes a poll that is waiting for events return now instead of after its timeout.
        rd_kafka_queue_yield(mainQueue.pointer)
        finished.wait()
        rd_kafka_queue_destroy(mainQueue.pointer)
    }
}

extension NSLock {
    /// `withLock` with a typed error, which Foundation's (untyped `rethrows`) version loses.
    func withCriticalSection<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        lock()
        defer { unlock() }
        return try body()
    }
}
