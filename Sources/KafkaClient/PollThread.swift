import CLibRdKafka
import Synchronization
import Threads

/// One dedicated OS thread that loops `rd_kafka_poll`, so that delivery reports and error callbacks run there
/// and never on Swift's cooperative thread pool (a poll blocks for up to its timeout).
final class PollThread: Sendable {
    /// How long one `rd_kafka_poll` may block. Only bounds how late a stop request is seen when the yield
    /// below is missed; reports are served as soon as they arrive regardless.
    private static let pollTimeoutMilliseconds: Int32 = 100

    /// The client's main queue (the one `rd_kafka_poll` serves), held to wake the poll up on stop.
    private let mainQueue: UncheckedHandle
    private let stopRequested: StopRequest
    /// Nil when the system gave no thread: then nothing serves the client's callbacks, and its deliveries
    /// time out.
    private let thread: JoinableThread?

    /// Starts polling `client` at once. `stop()` must be called before `client` is destroyed.
    init(client: OpaquePointer, name: String) {
        let client = UncheckedHandle(pointer: client)
        let stopRequested = StopRequest()
        self.mainQueue = UncheckedHandle(pointer: rd_kafka_queue_get_main(client.pointer))
        self.stopRequested = stopRequested
        self.thread = DedicatedThread.joinable(name: name) {
            while !stopRequested.isSet {
                rd_kafka_poll(client.pointer, Self.pollTimeoutMilliseconds)
            }
        }
    }

    /// True when called from inside a callback this thread is serving.
    var isCurrentThread: Bool {
        thread?.isCurrent ?? false
    }

    /// Asks the loop to end, waits until it has, and releases the main queue reference. Call exactly once.
    func stop() {
        precondition(!isCurrentThread, "the poll thread cannot stop itself (called from a librdkafka callback)")
        stopRequested.set()
        // Makes a poll that is waiting for events return now instead of after its timeout.
        rd_kafka_queue_yield(mainQueue.pointer)
        thread?.join()
        rd_kafka_queue_destroy(mainQueue.pointer)
    }
}

/// The poll loop's stop flag, shared with the thread.
private final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .acquiring) }

    func set() { flag.store(true, ordering: .releasing) }
}
