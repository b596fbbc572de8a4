import Foundation

/// A PostgreSQL cluster of the test's own, for settings the shared stack must not have (a low wal_level, a
/// small max_slot_wal_keep_size, a standby), with the binaries of the version under test.
final class ThrowawayCluster {
    let directory: String
    let port: Int
    let binaries: String
    private let walLevel: String

    /// `initdb`, then `settings` written to postgresql.conf, then start.
    init(walLevel: String, settings: [String: String] = [:]) throws {
        binaries = PostgresUnderTest.binaries
        directory = "/tmp/outbox-cdc-cluster-\(UInt64.random(in: 0 ... .max))"
        port = try freeLoopbackPort()
        self.walLevel = walLevel
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try runShell("chown postgres \(directory)")
        try runShell("runuser -u postgres -- \(binaries)/initdb -D \(directory)/data -U postgres --auth=trust >/dev/null")
        try appendSettings(settings)
        try start()
    }

    /// A physical standby of `primary`, made with pg_basebackup streaming from a new physical slot on the
    /// primary. The connection it writes into `primary_conninfo` names a database, which slot
    /// synchronisation needs (PostgreSQL 17 and later).
    init(standbyOf primary: ThrowawayCluster, physicalSlot: String, settings: [String: String] = [:]) throws {
        binaries = primary.binaries
        directory = "/tmp/outbox-cdc-cluster-\(UInt64.random(in: 0 ... .max))"
        port = try freeLoopbackPort()
        walLevel = primary.walLevel
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try runShell("chown postgres \(directory)")
        try runShell("""
            runuser -u postgres -- \(binaries)/pg_basebackup -D \(directory)/data -X stream -R -C -S \(physicalSlot) \
              -d 'host=127.0.0.1 port=\(primary.port) user=postgres dbname=postgres' >/dev/null 2>>\(directory)/basebackup.log
            """)
        try appendSettings(settings)
        try start()
    }

    var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    /// `pg_ctl stop -m immediate`: the server dies as in a crash, its data kept.
    func crash() throws {
        try runShell("runuser -u postgres -- \(binaries)/pg_ctl -D \(directory)/data -m immediate -w stop >/dev/null")
    }

    /// `pg_ctl promote`: a standby becomes a primary; returns when it accepts writes.
    func promote() throws {
        try runShell("runuser -u postgres -- \(binaries)/pg_ctl -D \(directory)/data -w promote >/dev/null")
    }

    func stop() {
        _ = try? runShell("runuser -u postgres -- \(binaries)/pg_ctl -D \(directory)/data -m immediate -w stop >/dev/null")
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func start() throws {
        try runShell("""
            runuser -u postgres -- \(binaries)/pg_ctl -D \(directory)/data -l \(directory)/log -w \
              -o "-p \(port) -c listen_addresses=127.0.0.1 -c unix_socket_directories=\(directory) -c wal_level=\(walLevel)" start >/dev/null
            """)
    }

    /// Settings go into postgresql.conf rather than onto the command line, where pg_ctl's shell would
    /// expand a value such as `*`.
    private func appendSettings(_ settings: [String: String]) throws {
        guard !settings.isEmpty else { return }
        let lines = settings.sorted { $0.key < $1.key }.map { "\($0.key) = '\($0.value)'\n" }.joined()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(directory)/data/postgresql.conf"))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(lines.utf8))
    }
}

/// Runs `command` with /bin/sh and waits for it with waitpid: Foundation's `waitUntilExit` was seen never to
/// return here once the shell had started a daemon (pg_ctl start). Fails with the command and its status.
func runShell(_ command: String) throws {
    var pid: pid_t = 0
    let words: [String] = ["/bin/sh", "-c", command]
    let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { arguments.forEach { free($0) } }
    guard posix_spawn(&pid, "/bin/sh", nil, nil, arguments, environ) == 0 else {
        throw TestSetupError("cannot start /bin/sh for: \(command)")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    guard status == 0 else { throw TestSetupError("failed (status \(status)): \(command)") }
}

/// The PostgreSQL under test: its major version (`OUTBOX_CDC_PG_VERSION`) and its server binaries
/// (`OUTBOX_CDC_PG_BIN`), both set by scripts/dev-stack env.
enum PostgresUnderTest {
    static var binaries: String {
        ProcessInfo.processInfo.environment["OUTBOX_CDC_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"
    }

    static var majorVersion: Int {
        ProcessInfo.processInfo.environment["OUTBOX_CDC_PG_VERSION"].flatMap { Int($0) } ?? 15
    }
}
