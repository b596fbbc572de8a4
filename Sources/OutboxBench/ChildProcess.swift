import Foundation
import Glibc

/// A process the benchmark starts (outbox-cdc itself, or the polling relay), with its log in a file, its
/// CPU time readable while it runs and its peak resident set size once it has exited.
///
/// Spawned with posix_spawn and reaped with wait4: Foundation's `Process` can hang in `waitUntilExit`,
/// and wait4's rusage gives the child's peak RSS, which is the figure the benchmark reports.
final class ChildProcess {
    let pid: pid_t
    let logPath: String
    private(set) var exit: Exit?

    struct Exit {
        var status: Int32
        var peakResidentBytes: Int
        var cpuSeconds: Double
    }

    init(executable: String, arguments: [String], environment: [String: String], logPath: String) throws {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, STDOUT_FILENO, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&fileActions, STDOUT_FILENO, STDERR_FILENO)

        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { _, new in new }
        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") }
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = (argv + [nil]).withUnsafeBufferPointer { argvPointer in
            (envp + [nil]).withUnsafeBufferPointer { envpPointer in
                guard let argvBase = argvPointer.baseAddress, let envpBase = envpPointer.baseAddress else { return EINVAL }
                return posix_spawn(&pid, executable, &fileActions, nil, argvBase, envpBase)
            }
        }
        guard status == 0 else {
            throw BenchError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
        self.logPath = logPath
    }

    deinit {
        if exit == nil {
            kill(pid, SIGKILL)
            _ = waitForExit()
        }
    }

    var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The child's JSON log lines (`--log-format json`), parsed; other lines are skipped.
    var logRecords: [[String: String]] {
        log.split(separator: "\n").compactMap { line in
            guard let data = line.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            // Numbers are JSON numbers in outbox-cdc's log; callers read every field as text.
            return object.compactMapValues { value in
                switch value {
                case let text as String: text
                case let number as NSNumber: number.stringValue
                default: nil
                }
            }
        }
    }

    /// Waits until a log line has `msg` equal to `message`; fails if the child exits or time runs out.
    @discardableResult
    func waitForLog(message: String, timeout: Duration) throws -> [String: String] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let record = logRecords.first(where: { $0["msg"] == message }) { return record }
            if let exit = reapIfExited() {
                throw BenchError("\(logPath) exited with status \(exit.status) before logging '\(message)':\n\(log.suffix(2000))")
            }
            usleep(5_000)
        }
        throw BenchError("no '\(message)' in \(logPath) within \(timeout):\n\(log.suffix(2000))")
    }

    /// User plus system CPU seconds so far, from /proc (nil once the process is gone).
    var cpuSeconds: Double? { ProcessStatistics.cpuSeconds(pid: pid) }

    /// CPU seconds so far per thread name (threads of one name summed), from /proc.
    var threadCPUSeconds: [String: Double] { ProcessStatistics.threadCPUSeconds(pid: pid) }

    /// SIGTERM, then waits (SIGKILL after `timeout`).
    @discardableResult
    func terminate(timeout: Duration = .seconds(60)) -> Exit {
        if let exit { return exit }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let exit = reapIfExited() { return exit }
            usleep(2_000)
        }
        kill(pid, SIGKILL)
        return waitForExit()
    }

    private func reapIfExited() -> Exit? {
        if let exit { return exit }
        return wait(options: WNOHANG)
    }

    private func waitForExit() -> Exit {
        if let exit { return exit }
        while true {
            if let exit = wait(options: 0) { return exit }
        }
    }

    private func wait(options: Int32) -> Exit? {
        var status: Int32 = 0
        var usage = rusage()
        let result = wait4(pid, &status, options, &usage)
        if result == pid {
            let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
            // ru_maxrss is in KiB on Linux.
            let exit = Exit(status: status, peakResidentBytes: Int(usage.ru_maxrss) * 1024, cpuSeconds: cpu)
            self.exit = exit
            return exit
        }
        if result == -1 && errno != EINTR {
            let exit = Exit(status: -1, peakResidentBytes: 0, cpuSeconds: 0)
            self.exit = exit
            return exit
        }
        return nil
    }
}

/// Figures read from /proc for any process on this machine (PostgreSQL backends included).
enum ProcessStatistics {
    /// utime + stime of `pid`, in seconds.
    static func cpuSeconds(pid: pid_t) -> Double? {
        cpuSeconds(statPath: "/proc/\(pid)/stat")
    }

    /// utime + stime of each thread of `pid`, summed by thread name (the kernel's 15-byte `comm`).
    static func threadCPUSeconds(pid: pid_t) -> [String: Double] {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [:] }
        var byName: [String: Double] = [:]
        for thread in threads {
            guard let name = try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/comm", encoding: .utf8),
                  let seconds = cpuSeconds(statPath: "/proc/\(pid)/task/\(thread)/stat") else { continue }
            byName[name.trimmingCharacters(in: .whitespacesAndNewlines), default: 0] += seconds
        }
        return byName
    }

    /// Time the threads of `pid` spent runnable but waiting for a CPU, in seconds, summed (the second field of
    /// each thread's schedstat): how much the machine's other work delayed them.
    static func runQueueWaitSeconds(pid: pid_t) -> Double? {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        var nanoseconds: UInt64 = 0
        for thread in threads {
            guard let schedstat = try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/schedstat", encoding: .utf8) else { continue }
            let fields = schedstat.split(separator: " ")
            if fields.count > 1, let waited = UInt64(fields[1]) { nanoseconds += waited }
        }
        return Double(nanoseconds) / 1e9
    }

    private static func cpuSeconds(statPath: String) -> Double? {
        guard let stat = try? String(contentsOfFile: statPath, encoding: .utf8),
              let commandEnd = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name, which may itself contain spaces: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: commandEnd)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) / ticks
    }
}

/// Something that stops a benchmark run, told in one line.
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
