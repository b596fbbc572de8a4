import Glibc
import Synchronization
import Testing
import Threads

@Suite("DedicatedThread")
struct DedicatedThreadTests {
    /// The calling thread's name, as the kernel keeps it.
    private static func currentThreadName() -> String {
        let fd = open("/proc/thread-self/comm", O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return String(decoding: buffer.prefix(max(0, count)), as: UTF8.self).trimmingNewline
    }

    @Test func runReturnsTheResultFromANamedThreadOfItsOwn() async throws {
        let caller = Self.currentThreadName()
        let (name, value) = try await DedicatedThread.run(name: "cdc-test-run") { (Self.currentThreadName(), 42) }
        #expect(name == "cdc-test-run")
        #expect(value == 42)
        #expect(Self.currentThreadName() == caller, "the caller's name is left alone")
    }

    /// The caller resumes only after the thread's exit destructors ran: OpenSSL's, racing the process's
    /// exit, once aborted outbox-cdc with a double free after an orderly stop.
    @Test func runResumesOnlyAfterTheThreadsExitDestructorsRan() async throws {
        var key = pthread_key_t()
        #expect(pthread_key_create(&key, { _ in
            usleep(50_000)  // a slow destructor, to make a premature resumption show
            exitDestructorRuns.add(1, ordering: .sequentiallyConsistent)
        }) == 0)
        defer { pthread_key_delete(key) }
        let before = exitDestructorRuns.load(ordering: .sequentiallyConsistent)
        try await DedicatedThread.run(name: "cdc-test-tls") { [key] in
            _ = pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        }
        #expect(exitDestructorRuns.load(ordering: .sequentiallyConsistent) == before + 1)
    }

    @Test func runPassesTheErrorOn() async {
        struct Failure: Error, Equatable {}
        await #expect(throws: Failure()) { try await DedicatedThread.run(name: "cdc-test-fail") { throw Failure() } }
    }

    /// Linux keeps 15 bytes of a thread's name.
    @Test func longNamesAreCut() async throws {
        let name = try await DedicatedThread.run(name: "cdc-a-very-long-thread-name") { Self.currentThreadName() }
        #expect(name == "cdc-a-very-long")
    }

    @Test func aDetachedThreadRuns() async {
        let ran = Mutex<String?>(nil)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let started = DedicatedThread.detach(name: "cdc-test-bg") {
                ran.withLock { $0 = Self.currentThreadName() }
                done.resume()
            }
            #expect(started)
        }
        #expect(ran.withLock { $0 } == "cdc-test-bg")
    }

    @Test func aJoinableThreadIsWaitedForAndKnowsItself() throws {
        let seen = Mutex<(isCurrent: Bool, name: String, count: Int)?>(nil)
        let holder = Mutex<JoinableThread?>(nil)
        let gate = Mutex(false)
        let thread = try #require(DedicatedThread.joinable(name: "cdc-test-join") {
            // Wait until the handle is in reach, then ask it whether this is its thread.
            while !gate.withLock({ $0 }) { usleep(1_000) }
            let isCurrent = holder.withLock { $0?.isCurrent } ?? false
            var count = 0
            for _ in 0..<1_000 { count += 1 }
            seen.withLock { $0 = (isCurrent, Self.currentThreadName(), count) }
        })
        holder.withLock { $0 = thread }
        gate.withLock { $0 = true }
        #expect(!thread.isCurrent)
        thread.join()
        let result = try #require(seen.withLock { $0 }, "join returns after the body has run")
        #expect(result.isCurrent)
        #expect(result.name == "cdc-test-join")
        #expect(result.count == 1_000)
        thread.join()  // a second join returns at once
        holder.withLock { $0 = nil }
    }

    /// Without a name, a thread keeps its creator's.
    @Test func anUnnamedThreadKeepsItsCreatorsName() async throws {
        let names = try await DedicatedThread.run(name: "cdc-test-parent") { () -> (String, String) in
            let child = Mutex("")
            let thread = DedicatedThread.joinable(name: nil) { child.withLock { $0 = Self.currentThreadName() } }
            thread?.join()
            return (Self.currentThreadName(), child.withLock { $0 })
        }
        #expect(names.0 == "cdc-test-parent")
        #expect(names.1 == "cdc-test-parent")
    }
}

extension String {
    fileprivate var trimmingNewline: String {
        hasSuffix("\n") ? String(dropLast()) : self
    }
}

/// Counts `runResumesOnlyAfterTheThreadsExitDestructorsRan`'s destructor calls (a C callback captures nothing).
private let exitDestructorRuns = Atomic<Int>(0)
