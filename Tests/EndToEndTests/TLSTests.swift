import Foundation
import Testing
import WALReader

/// outbox-cdc reaches PostgreSQL over TLS, checking the server's certificate and name (`sslmode=verify-full`),
/// and logs in with SCRAM or a client certificate; no password it is given reaches its log, even at trace
/// level. Each test runs a cluster of its own whose pg_hba.conf lets the role `cdc_tls` in over TLS only.
@Suite("TLS and authentication to PostgreSQL", .serialized,
       .enabled(if: PostgresUnderTest.isBuiltWithTLS, "the PostgreSQL under test was built without TLS support (pg_config --configure)"))
struct TLSTests {
    @Test("verify-full with SCRAM: outbox-cdc streams over TLS, and neither its PostgreSQL nor its Kafka password reaches the trace log")
    func verifyFullWithSCRAMStreamsOverTLS() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let password = "pgPw" + Self.randomToken()
        let kafkaSecret = "kafkaPw" + Self.randomToken()
        let server = try TLSServer(pki: pki, authentication: .scram(password: password))
        defer { server.cluster.stop() }

        #expect(try server.admin("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'cdc_tls'").rows.first?.first == "t",
                "the password is stored as a SCRAM verifier")
        // The setup itself: without TLS the role is not let in, whatever its password.
        let plain = Self.refusal(server.url(password: password, query: "sslmode=disable"))
        #expect(plain?.contains("no pg_hba.conf entry") == true, "a connection without TLS is refused: \(plain ?? "it was accepted")")

        let aggregateType = "TLS\(Self.randomToken())"
        let reader = try TopicReader(topics: ["outbox.event.\(aggregateType)"])
        let connector = try ConnectorProcess([
            "--db", server.url(password: password, query: "sslmode=verify-full&sslrootcert=\(pki.path("ca.pem"))"),
            "--brokers", try TestStack.brokers(), "--slot", "tls_slot", "--publication", "tls_pub",
            "--status-interval-ms", "200", "--log-level", "trace",
            // librdkafka accepts sasl.password with security.protocol plaintext (and ignores it); debug=all makes
            // it dump its configuration, sasl.password included, into outbox-cdc's log.
            "--kafka-property", "sasl.password=\(kafkaSecret)", "--kafka-property", "debug=all",
        ])
        defer {
            if connector.isRunning { connector.killHard() }
        }
        try server.waitUntilStreaming(slot: "tls_slot", connector: connector)

        // The server's view: outbox-cdc's walsender runs over TLS, and every session of the role does.
        let walsender = try server.admin("""
            SELECT s.ssl, s.version, a.application_name FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
            WHERE a.usename = 'cdc_tls' AND a.backend_type = 'walsender'
            """)
        #expect(walsender.rows.count == 1, "one walsender of cdc_tls: \(walsender.rows)")
        #expect(walsender.rows.first?.first == "t", "the walsender's connection uses TLS: \(walsender.rows)")
        #expect(walsender.rows.first?.last == "outbox-cdc", "\(walsender.rows)")
        #expect(try server.admin("SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE usename = 'cdc_tls' AND NOT ssl")
                    .rows.first?.first == "0")
        // The server logged the logins: SCRAM, and every session of cdc_tls (the one that checks the table and
        // creates the publication, then the walsender) over TLS.
        let serverLog = server.cluster.serverLog
        #expect(serverLog.contains("identity=\"cdc_tls\" method=scram-sha-256"), "\(serverLog)")
        let logins = serverLog.split(separator: "\n").filter { $0.contains("authorized: user=cdc_tls") }
        #expect(logins.count >= 2 && logins.allSatisfy { $0.contains("SSL enabled") }, "\(serverLog)")

        let id = UUID().uuidString.lowercased()
        try server.admin("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(id)', '\(aggregateType)', 'k', 'created', '{\"tls\": true}')")
        try reader.read(until: 1, log: connector)
        #expect(reader.eventIDs == [id], "the event arrives in Kafka")

        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
        let log = connector.log
        #expect(log.contains(" trace "), "the log is at trace level:\n\(log)")
        #expect(log.contains("sasl.password"), "librdkafka dumped its configuration:\n\(log)")
        #expect(!log.contains(password), "the PostgreSQL password is in the log:\n\(log)")
        #expect(!log.contains(kafkaSecret), "the Kafka password (sasl.password) is in the log:\n\(log)")
    }

    /// A certificate check that fails is a configuration to fix, not a server to wait for: outbox-cdc stops
    /// with libpq's reason and what to check.
    @Test("verify-full refuses a server whose certificate the given CA did not sign, before any login, and the password stays out of the log")
    func verifyFullRefusesAServerCertificateFromAnotherCA() throws {
        try expectCertificateCheckFails(reason: "certificate verify failed") { pki, server, password in
            server.url(password: password, query: "sslmode=verify-full&sslrootcert=\(pki.path("other-ca.pem"))")
        }
    }

    /// The "full" of verify-full: a certificate from the trusted CA that names another host is refused too.
    /// `hostaddr` connects to the server while libpq checks the certificate against the name in the URL.
    @Test("verify-full refuses a server certificate from the trusted CA that does not name the host")
    func verifyFullRefusesACertificateForAnotherHost() throws {
        try expectCertificateCheckFails(reason: "does not match host name \"db.invalid\"") { pki, server, password in
            "postgres://cdc_tls:\(password)@db.invalid:\(server.cluster.port)/postgres?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=\(pki.path("ca.pem"))"
        }
    }

    /// Runs outbox-cdc with the URL `url` makes, against a SCRAM server, and checks that it stops on the
    /// server's certificate check failing for `reason` (libpq's words), logs in nowhere, creates nothing and
    /// never logs the password.
    private func expectCertificateCheckFails(reason: String, url: (TestPKI, TLSServer, String) -> String) throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let password = "pgPw" + Self.randomToken()
        let server = try TLSServer(pki: pki, authentication: .scram(password: password))
        defer { server.cluster.stop() }

        let connector = try ConnectorProcess([
            "--db", url(pki, server, password),
            "--brokers", try TestStack.brokers(), "--slot", "tls_slot", "--publication", "tls_pub",
            "--status-interval-ms", "200", "--log-level", "trace",
        ])
        defer {
            if connector.isRunning { connector.killHard() }
        }
        #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "a failed certificate check stops outbox-cdc:\n\(connector.log)")
        let log = connector.log
        #expect(log.contains("TLS to PostgreSQL failed") && log.contains(reason) && log.contains("sslrootcert"), "\(log)")
        #expect(!server.cluster.serverLog.contains("identity=\"cdc_tls\""), "no login of cdc_tls succeeded:\n\(server.cluster.serverLog)")
        #expect(try server.admin("SELECT count(*) FROM pg_replication_slots").rows.first?.first == "0", "no slot was created")
        #expect(try server.admin("SELECT count(*) FROM pg_publication").rows.first?.first == "0", "no publication was created")
        #expect(!connector.log.contains(password), "the PostgreSQL password is in the log:\n\(connector.log)")
    }

    @Test("A client certificate (cert authentication, clientcert=verify-full) logs outbox-cdc in over verify-full, without a password")
    func clientCertificate() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let server = try TLSServer(pki: pki, authentication: .clientCertificate)
        defer { server.cluster.stop() }

        let tls = "sslmode=verify-full&sslrootcert=\(pki.path("ca.pem"))"
        let withoutCertificate = Self.refusal(server.url(password: nil, query: tls))
        #expect(withoutCertificate?.contains("connection requires a valid client certificate") == true,
                "without a client certificate the role is not let in: \(withoutCertificate ?? "it was accepted")")
        let aggregateType = "TLSCert\(Self.randomToken())"
        let reader = try TopicReader(topics: ["outbox.event.\(aggregateType)"])
        let connector = try ConnectorProcess([
            "--db", server.url(password: nil, query: tls + "&sslcert=\(pki.path("client.pem"))&sslkey=\(pki.path("client.key"))"),
            "--brokers", try TestStack.brokers(), "--slot", "tls_slot", "--publication", "tls_pub",
            "--status-interval-ms", "200",
        ])
        defer {
            if connector.isRunning { connector.killHard() }
        }
        try server.waitUntilStreaming(slot: "tls_slot", connector: connector)

        let walsender = try server.admin("""
            SELECT s.ssl, s.client_dn FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
            WHERE a.usename = 'cdc_tls' AND a.backend_type = 'walsender'
            """)
        #expect(walsender.rows.count == 1, "one walsender of cdc_tls: \(walsender.rows)")
        #expect(walsender.rows.first?.first == "t", "\(walsender.rows)")
        #expect(walsender.rows.first?.last == "/CN=cdc_tls", "the walsender's client presented the certificate: \(walsender.rows)")
        #expect(server.cluster.serverLog.contains("identity=\"CN=cdc_tls\" method=cert"), "\(server.cluster.serverLog)")

        let id = UUID().uuidString.lowercased()
        try server.admin("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(id)', '\(aggregateType)', 'k', 'created', '{}')")
        try reader.read(until: 1, log: connector)
        #expect(reader.eventIDs == [id], "the event arrives in Kafka")
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
    }

    /// libpq's reason for refusing a connection to `url`, or nil if it connected.
    private static func refusal(_ url: String) -> String? {
        do {
            let connection = try PostgresConnection.connect(ConnectionSettings(url))
            connection.close()
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// 24 lowercase letters and digits: a secret that is easy to find in a log and needs no escaping in a URL.
    private static func randomToken() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0 ..< 24).map { _ in alphabet[Int.random(in: 0 ..< alphabet.count)] })
    }
}

/// A throwaway public-key infrastructure in a temporary directory: a CA (`ca.pem`) that signs a server
/// certificate for localhost and 127.0.0.1 (`server.pem`, `server.key`) and a client certificate for the role
/// cdc_tls (`client.pem`, `client.key`), and an unrelated CA (`other-ca.pem`) that signs nothing here.
private struct TestPKI {
    let directory: String

    init() throws {
        directory = "/tmp/outbox-cdc-tls-\(UInt64.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do {
            try makeCA("ca", subject: "/CN=outbox-cdc test CA")
            try makeCA("other-ca", subject: "/CN=an unrelated CA")
            try issue("server", subject: "/CN=localhost", extensions: [
                "basicConstraints=CA:FALSE", "subjectAltName=DNS:localhost,IP:127.0.0.1", "extendedKeyUsage=serverAuth",
            ])
            try issue("client", subject: "/CN=cdc_tls", extensions: ["basicConstraints=CA:FALSE", "extendedKeyUsage=clientAuth"])
        } catch {
            remove()
            throw error
        }
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func makeCA(_ name: String, subject: String) throws {
        try openssl("""
            req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc -days 2 -subj '\(subject)' \
              -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
              -keyout '\(path(name + ".key"))' -out '\(path(name + ".pem"))'
            """)
    }

    /// A key and a certificate signed by `ca.pem`; the key readable by its owner only, as libpq requires.
    private func issue(_ name: String, subject: String, extensions: [String]) throws {
        try (extensions.joined(separator: "\n") + "\n").write(toFile: path(name + ".ext"), atomically: false, encoding: .utf8)
        try openssl("""
            req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc -subj '\(subject)' \
              -keyout '\(path(name + ".key"))' -out '\(path(name + ".csr"))'
            """)
        try openssl("""
            x509 -req -days 2 -in '\(path(name + ".csr"))' -CA '\(path("ca.pem"))' -CAkey '\(path("ca.key"))' \
              -CAcreateserial -extfile '\(path(name + ".ext"))' -out '\(path(name + ".pem"))'
            """)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path(name + ".key"))
    }

    private func openssl(_ arguments: String) throws {
        try runShell("/usr/bin/openssl \(arguments) >>'\(path("openssl.log"))' 2>&1")
    }
}

/// A logical-replication cluster with TLS on (the server certificate in its data directory), the role
/// `cdc_tls` (LOGIN REPLICATION) owning the outbox table, and a pg_hba.conf that lets that role in over
/// TLS only, by `authentication`. The superuser postgres keeps trust over 127.0.0.1 to administer.
private struct TLSServer {
    enum Authentication {
        /// SCRAM-SHA-256 with this password.
        case scram(password: String)
        /// `cert`: the client certificate's CN names the role; the server checks it against the CA (clientcert=verify-full).
        case clientCertificate
    }

    let cluster: ThrowawayCluster

    init(pki: TestPKI, authentication: Authentication) throws {
        cluster = try ThrowawayCluster(walLevel: "logical", settings: [
            "password_encryption": "scram-sha-256", "log_connections": "on",
        ])
        do {
            try configure(pki: pki, authentication: authentication)
        } catch {
            cluster.stop()
            throw error
        }
    }

    private func configure(pki: TestPKI, authentication: Authentication) throws {
        try cluster.install(pki.path("server.pem"), as: "server.crt", mode: 0o644)
        try cluster.install(pki.path("server.key"), as: "server.key", mode: 0o600)
        try admin("ALTER SYSTEM SET ssl_cert_file = 'server.crt'")
        try admin("ALTER SYSTEM SET ssl_key_file = 'server.key'")
        let method: String
        switch authentication {
        case .scram(let password):
            try admin("CREATE ROLE cdc_tls WITH LOGIN REPLICATION PASSWORD '\(password)'")
            method = "scram-sha-256"
        case .clientCertificate:
            try cluster.install(pki.path("ca.pem"), as: "root.crt", mode: 0o644)
            try admin("ALTER SYSTEM SET ssl_ca_file = 'root.crt'")
            try admin("CREATE ROLE cdc_tls WITH LOGIN REPLICATION")
            method = "cert clientcert=verify-full"
        }
        try admin("ALTER SYSTEM SET ssl = on")
        // What outbox-cdc needs without superuser: REPLICATION for the slot, CREATE on the database and
        // ownership of the table for the publication.
        try admin("GRANT CREATE ON DATABASE postgres TO cdc_tls")
        try admin("""
            CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype text NOT NULL, aggregateid text NOT NULL,
                                 type text NOT NULL, payload jsonb, created_at timestamptz NOT NULL DEFAULT now())
            """)
        try admin("ALTER TABLE outbox OWNER TO cdc_tls")
        try cluster.replaceHBA([
            "local   all          postgres                 trust",
            "host    all          postgres  127.0.0.1/32   trust",
            "hostssl all          cdc_tls   127.0.0.1/32   \(method)",
            "hostssl replication  cdc_tls   127.0.0.1/32   \(method)",
        ])
        try cluster.reload()
        // The postmaster loads pg_hba.conf before the TLS files: once a new session runs over TLS, both apply.
        try waitFor("the server to load its certificate and the new pg_hba.conf", timeout: .seconds(30)) {
            guard let connection = try? PostgresConnection.connect(ConnectionSettings(cluster.url + "?sslmode=require")) else { return false }
            defer { connection.close() }
            return try connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").rows.first?.first == "t"
        }
    }

    /// A connection URL for cdc_tls by the name `localhost`, which the server certificate carries.
    func url(password: String?, query: String) -> String {
        "postgres://cdc_tls\(password.map { ":" + $0 } ?? "")@localhost:\(cluster.port)/postgres?\(query)"
    }

    /// Runs `statement` as postgres.
    @discardableResult
    func admin(_ statement: String) throws -> QueryResult {
        let connection = try PostgresConnection.connect(ConnectionSettings(cluster.url))
        defer { connection.close() }
        return try connection.query(statement)
    }

    /// Waits until outbox-cdc streams from `slot` (active, and consistent: see `TestDatabase.waitUntilActive`).
    func waitUntilStreaming(slot: String, connector: ConnectorProcess) throws {
        do {
            try waitFor("outbox-cdc to stream from \(slot)", timeout: .seconds(30)) {
                try admin("SELECT active AND confirmed_flush_lsn IS NOT NULL FROM pg_replication_slots WHERE slot_name = '\(slot)'")
                    .rows.first?.first == "t"
            }
        } catch {
            throw TestSetupError("\(error)\nconnector log:\n\(connector.log)\nserver log:\n\(cluster.serverLog)")
        }
    }
}
