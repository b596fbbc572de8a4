import Foundation
import Synchronization

/// A loopback port nobody listens on (the kernel's choice, released at once).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSetupError("socket: errno \(errno)") }
    defer { close(fd) }
    var address = loopbackAddress(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw TestSetupError("bind: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

private func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

/// A connected TCP socket to 127.0.0.1:`port`, or -1.
private func connectLoopback(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = loopbackAddress(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if connected != 0 {
        close(fd)
        return -1
    }
    return fd
}

/// Runs a program to its end with its output appended to `log`. posix_spawn and waitpid rather than
/// Foundation's Process, which was seen never to report the end of a `pg_ctl` that had started a server.
@discardableResult
func runProgram(_ path: String, _ arguments: [String], log: String? = nil, timeout: Duration = .seconds(120)) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, log ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else {
        throw TestSetupError("cannot start \(path)")
    }
    let deadline = ContinuousClock.now + timeout
    var status: Int32 = 0
    while waitpid(pid, &status, WNOHANG) != pid {
        guard ContinuousClock.now < deadline else {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            throw TestSetupError("\(path) \(arguments.joined(separator: " ")) did not end within \(timeout)")
        }
        usleep(20_000)
    }
    // Exited normally: the low 7 bits are 0 and the status is in the next byte.
    return status & 0x7F == 0 ? (status >> 8) & 0xFF : -1
}

/// A Tansu broker of the test's own on a free port, which the test may pause (SIGSTOP) and resume.
///
/// `advertisedPort` lets clients be sent through a proxy: every connection a client opens after the
/// bootstrap goes to the advertised address.
final class OwnBroker: @unchecked Sendable {
    let port: Int
    let advertisedPort: Int
    private let process = Process()
    private let logURL: URL

    init(port: Int? = nil, advertisedPort: Int? = nil) throws {
        guard let tansu = ProcessInfo.processInfo.environment["OUTBOX_CDC_TANSU"], !tansu.isEmpty else {
            throw TestSetupError("OUTBOX_CDC_TANSU is not set: eval \"$(scripts/dev-stack env)\" first")
        }
        let port = try port ?? freeLoopbackPort()
        self.port = port
        self.advertisedPort = advertisedPort ?? port
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("fault-tansu-\(port).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: tansu)
        process.arguments = [
            "broker", "--listener-url", "tcp://127.0.0.1:\(port)",
            "--advertised-listener-url", "tcp://127.0.0.1:\(self.advertisedPort)",
        ]
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try waitFor("Tansu to listen on \(port)", timeout: .seconds(20)) {
            let fd = connectLoopback(port: port)
            if fd >= 0 { close(fd) }
            return fd >= 0
        }
    }

    /// The bootstrap address clients use.
    var brokers: String { "127.0.0.1:\(advertisedPort)" }

    func pause() { kill(process.processIdentifier, SIGSTOP) }
    func resume() { kill(process.processIdentifier, SIGCONT) }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGCONT)
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { usleep(10_000) }
        try? FileManager.default.removeItem(at: logURL)
    }

    deinit { stop() }
}

/// A TCP forwarder on a thread of its own: 127.0.0.1:`port` to 127.0.0.1:`target`. `cut()` closes every
/// forwarded connection and refuses new ones (accepted, then closed at once) until `restore()`.
final class TCPProxy: @unchecked Sendable {
    let port: Int
    private let target: Int
    private let listener: Int32

    private struct State {
        var cut = false
        var stop = false
        var acceptFinished = false
        /// Both sockets of every forwarded connection.
        var live: Set<Int32> = []
        var connections = 0
    }

    private let state = Mutex(State())

    init(target: Int) throws {
        self.target = target
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSetupError("socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = loopbackAddress(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            close(fd)
            throw TestSetupError("bind/listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let thread = Thread { [self] in self.acceptLoop() }
        thread.name = "fault-proxy-accept"
        thread.start()
    }

    private func acceptLoop() {
        var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        while !state.withLock({ $0.stop }) {
            descriptor.revents = 0
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            if state.withLock({ $0.cut }) {
                close(client)
                continue
            }
            let upstream = connectLoopback(port: target)
            guard upstream >= 0 else {
                close(client)
                continue
            }
            state.withLock {
                $0.live.formUnion([client, upstream])
                $0.connections += 1
            }
            let thread = Thread { [self] in self.pump(client, upstream) }
            thread.name = "fault-proxy-pump"
            thread.start()
        }
        state.withLock { $0.acceptFinished = true }
    }

    /// Copies bytes both ways until either side closes or the proxy cuts the connection.
    private func pump(_ first: Int32, _ second: Int32) {
        var descriptors = [pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        copying: while !state.withLock({ $0.stop }) {
            for index in descriptors.indices { descriptors[index].revents = 0 }
            let ready = poll(&descriptors, 2, 200)
            if ready < 0, errno != EINTR { break }
            guard ready > 0 else { continue }
            for index in descriptors.indices where descriptors[index].revents != 0 {
                let from = descriptors[index].fd
                let to = descriptors[1 - index].fd
                let count = read(from, &buffer, buffer.count)
                guard count > 0 else { break copying }
                var sent = 0
                while sent < count {
                    let written = buffer.withUnsafeBytes { send(to, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                    guard written > 0 else { break copying }
                    sent += written
                }
            }
        }
        state.withLock { $0.live.subtract([first, second]) }
        close(first)
        close(second)
    }

    /// Closes every forwarded connection and refuses new ones.
    func cut() {
        state.withLock { state in
            state.cut = true
            for fd in state.live { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    func restore() { state.withLock { $0.cut = false } }

    /// Connections forwarded so far.
    var connections: Int { state.withLock { $0.connections } }

    func stop() {
        guard !state.withLock({ $0.stop }) else { return }
        cut()
        state.withLock { $0.stop = true }
        while !state.withLock({ $0.acceptFinished }) { usleep(10_000) }
        close(listener)
    }

    deinit { stop() }
}

extension ThrowawayCluster {
    /// `pg_ctl restart -m fast|immediate` (immediate is a crash: recovery replays the WAL at start).
    func restart(mode: String) throws {
        let status = try runProgram("/usr/sbin/runuser", [
            "-u", "postgres", "--", "\(binaries)/pg_ctl", "-D", "\(directory)/data", "-m", mode, "-w", "restart",
        ], log: "\(directory)/log")
        guard status == 0 else { throw TestSetupError("pg_ctl restart -m \(mode) failed with \(status)") }
    }
}
