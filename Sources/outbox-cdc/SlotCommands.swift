import ArgumentParser
import Foundation
import Glibc
import PostgresNames
import Threads
import WALReader

/// Where the slot commands connect, and which slot and publication they are about.
struct SlotOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL or key=value string. [env: OUTBOX_CDC_DB]")
    var db: String?

    @Option(help: "The replication slot. [env: OUTBOX_CDC_SLOT] (default: outbox)")
    var slot: String?

    @Option(help: "The publication. [env: OUTBOX_CDC_PUBLICATION] (default: outbox_pub)")
    var publication: String?

    @Option(help: "A YAML file with these settings, as for the main command. [env: OUTBOX_CDC_CONFIG]")
    var config: String?

    @Option(name: .customLong("db-password-file"), help: "Read the PostgreSQL password from this file. [env: OUTBOX_CDC_DB_PASSWORD_FILE]")
    var dbPasswordFile: String?

    struct Resolved {
        var database: ConnectionSettings
        var slot: String
        var publication: String
        var environment: Environment
    }

    func resolve(purpose: String) throws -> Resolved {
        var environment = Environment.current
        do {
            if let path = environment.resolve(config, "OUTBOX_CDC_CONFIG") {
                environment.layer(try ConfigFile(path: path))
            }
            let database = try environment.databaseSettings(db, passwordFile: dbPasswordFile, purpose: purpose)
            // These commands log nothing else; the warning goes where errors go, apart from their output.
            if let warning = database.passwordGivenTwiceWarning {
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
            }
            return Resolved(
                database: database,
                slot: environment.resolve(slot, "OUTBOX_CDC_SLOT") ?? "outbox",
                publication: environment.resolve(publication, "OUTBOX_CDC_PUBLICATION") ?? "outbox_pub",
                environment: environment
            )
        } catch let error as UsageError {
            throw ValidationError(error.description)
        }
    }
}

/// `outbox-cdc status`: the first thing an operator runs.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the slot (plugin, active pid, confirmed LSN, lag, WAL kept) and the publication's tables.",
        discussion: "Exits 0 when both exist and the slot is not lost, 1 otherwise."
    )

    @OptionGroup var target: SlotOptions

    @Option(help: "text or json.")
    var format: String = "text"

    @Option(help: "The outbox table(s), comma-separated, to describe. [env: OUTBOX_CDC_TABLE] (default: public.outbox)")
    var table: String?

    func run() async throws {
        guard format == "text" || format == "json" else { throw ValidationError("--format must be text or json, not '\(format)'") }
        let resolved = try target.resolve(purpose: "the database whose slot to show")
        let tableText = resolved.environment.resolve(table, "OUTBOX_CDC_TABLE") ?? "public.outbox"
        let tables: [QualifiedTableName]
        do {
            tables = tableText == "none" ? [] : try QualifiedTableName.parseList(tableText)
        } catch {
            throw ValidationError("--table: \(error)")
        }
        let status = try await DedicatedThread.run(name: "cdc-status") {
            let connection = try PostgresConnection.connect(resolved.database)
            defer { connection.close() }
            return try connection.slotStatus(slot: resolved.slot, publication: resolved.publication, tables: tables)
        }
        print(format == "json" ? Self.json(status, target: resolved.database) : Self.text(status, target: resolved.database))
        let healthy = status.slot != nil && status.slot?.walStatus != "lost" && status.publication != nil
        if !healthy { throw ExitCode(1) }
    }

    static func text(_ status: SlotStatus, target: ConnectionSettings) -> String {
        var lines = ["server         \(target) (PostgreSQL \(status.serverVersion / 10_000).\(status.serverVersion % 10_000)\(status.inRecovery ? ", in recovery" : ""))"]
        if let slot = status.slot {
            lines.append("slot           \(status.slotName) (\(slot.slotType), plugin \(slot.plugin ?? "none"), database \(slot.database ?? "none"))")
            lines.append("state          " + (slot.activePID.map { "active (pid \($0))" } ?? "inactive: no outbox-cdc streams from it"))
            lines.append("confirmed LSN  \(slot.confirmedFlush.map { "\($0)" } ?? "none")")
            lines.append("lag            \(slot.lagBytes.map { "\(bytes($0)) not yet confirmed" } ?? "unknown")")
            var wal = "wal_status     \(slot.walStatus ?? "unknown"); keeps \(slot.retainedBytes.map(bytes) ?? "unknown") of WAL"
            if slot.walStatus == "lost" { wal += ": the slot is invalidated, see README (--on-slot-lost)" }
            if slot.walStatus == "unreserved" { wal += ": past max_slot_wal_keep_size, the next checkpoint may invalidate it" }
            lines.append(wal)
            lines.append("failover       " + (slot.failover.map { $0 ? "yes" : "no (outbox-cdc makes it one at its next start, unless --no-failover-slot)" } ?? "not available before PostgreSQL 17"))
        } else {
            lines.append("slot           \(status.slotName): does not exist (outbox-cdc creates it at start, or run outbox-cdc setup)")
        }
        if let publication = status.publication {
            let tables = publication.settings.allTables ? "all tables" : (publication.tables.isEmpty ? "no tables" : publication.tables.joined(separator: ", "))
            let viaRoot = publication.settings.viaPartitionRoot ? ", publish_via_partition_root" : ""
            lines.append("publication    \(status.publicationName): \(tables)\(viaRoot)\(publication.settings.publishesInserts ? "" : " (does NOT publish inserts)")")
        } else {
            lines.append("publication    \(status.publicationName): does not exist")
        }
        for outbox in status.outboxTables {
            guard let shape = outbox.shape else {
                lines.append("outbox table   \(outbox.table): does not exist")
                continue
            }
            var line = "outbox table   \(outbox.table): \(shape.summary)"
            if let publication = status.publication {
                line += "; \(publication.settings.route(for: shape))"
                if case .partitioned = shape, !publication.settings.viaPartitionRoot {
                    line += ": outbox-cdc refuses to start, run ALTER PUBLICATION \(QualifiedTableName.quoted(status.publicationName)) SET (publish_via_partition_root = true)"
                }
            }
            lines.append(line)
            switch shape {
            case .partitioned(let partitions): lines.append("  partitions   \(partitions.isEmpty ? "none" : partitions.map(\.description).joined(separator: ", "))")
            case .inheritanceParent(let children): lines.append("  children     \(children.map(\.description).joined(separator: ", "))")
            case .ordinary, .partition: break
            }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ status: SlotStatus, target: ConnectionSettings) -> String {
        var object: [String: Any] = [
            "server": ["target": "\(target)", "version": status.serverVersion, "in_recovery": status.inRecovery],
        ]
        if let slot = status.slot {
            var fields: [String: Any] = ["name": status.slotName, "type": slot.slotType, "active": slot.activePID != nil]
            fields["plugin"] = slot.plugin
            fields["database"] = slot.database
            fields["active_pid"] = slot.activePID
            fields["confirmed_flush_lsn"] = slot.confirmedFlush.map { "\($0)" }
            fields["restart_lsn"] = slot.restartLSN.map { "\($0)" }
            fields["wal_status"] = slot.walStatus
            fields["lag_bytes"] = slot.lagBytes
            fields["retained_wal_bytes"] = slot.retainedBytes
            fields["failover"] = slot.failover
            object["slot"] = fields
        } else {
            object["slot"] = ["name": status.slotName, "exists": false]
        }
        if let publication = status.publication {
            object["publication"] = [
                "name": status.publicationName, "publishes_inserts": publication.settings.publishesInserts,
                "all_tables": publication.settings.allTables, "publish_via_partition_root": publication.settings.viaPartitionRoot,
                "tables": publication.tables,
            ]
        } else {
            object["publication"] = ["name": status.publicationName, "exists": false]
        }
        object["outbox_tables"] = status.outboxTables.map { outbox -> [String: Any] in
            var fields: [String: Any] = ["name": "\(outbox.table)", "exists": outbox.shape != nil]
            switch outbox.shape {
            case .ordinary: fields["kind"] = "ordinary"
            case .partitioned(let partitions):
                fields["kind"] = "partitioned"
                fields["partitions"] = partitions.map(\.description)
            case .inheritanceParent(let children):
                fields["kind"] = "inheritance_parent"
                fields["children"] = children.map(\.description)
            case .partition(let root):
                fields["kind"] = "partition"
                fields["partition_of"] = "\(root)"
            case nil: break
            }
            if let shape = outbox.shape, let publication = status.publication {
                fields["route"] = publication.settings.route(for: shape)
            }
            return fields
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static func bytes(_ count: Int64) -> String {
        count < 1 << 20 ? "\(count) bytes" : String(format: "%.1f MiB (%lld bytes)", Double(count) / 1_048_576, count)
    }
}

/// `outbox-cdc setup`: creates the publication and the slot explicitly, for deployments that run the
/// connector with --no-create (and a role that may not create them).
struct SetupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Create the publication (FOR TABLE …, inserts only) and the slot (pgoutput; a failover slot on PostgreSQL 17+)."
    )

    @OptionGroup var target: SlotOptions

    @Option(help: "The outbox table(s), comma-separated. [env: OUTBOX_CDC_TABLE] (default: public.outbox)")
    var table: String?

    @Flag(name: .customLong("no-failover-slot"), help: "Create an ordinary slot even on PostgreSQL 17+. [env: OUTBOX_CDC_NO_FAILOVER_SLOT]")
    var noFailoverSlot = false

    func run() async throws {
        let resolved = try target.resolve(purpose: "the database to set up")
        let tableText = resolved.environment.resolve(table, "OUTBOX_CDC_TABLE") ?? "public.outbox"
        let tables: [QualifiedTableName]
        do {
            tables = try QualifiedTableName.parseList(tableText)
        } catch {
            throw ValidationError("--table: \(error)")
        }
        guard let first = tables.first else { throw ValidationError("--table names no table") }
        let failover = try !(noFailoverSlot || (resolved.environment.bool("OUTBOX_CDC_NO_FAILOVER_SLOT") ?? false))
        var source = ReplicationSource(
            slot: resolved.slot, publication: resolved.publication, table: first, additionalTables: Array(tables.dropFirst()),
            requiredColumns: [], createMissing: true
        )
        source.failoverSlot = failover
        let (publicationCreated, slotReport) = try await DedicatedThread.run(name: "cdc-setup") { [source] in
            do {
                let control = try PostgresConnection.connect(resolved.database)
                defer { control.close() }
                let prepared = try control.prepareSource(for: source)
                // A slot an outbox-cdc streams from is set up already: nothing to check over a second connection.
                if let slot = try control.slotStatus(slot: resolved.slot, publication: resolved.publication).slot, let pid = slot.activePID {
                    return (prepared.publicationCreated, "exists, active (pid \(pid)), confirmed at \(slot.confirmedFlush.map { "\($0)" } ?? "none")")
                }
                let replication = try PostgresConnection.connect(resolved.database, replication: true)
                defer { replication.close() }
                let slot = try replication.prepareSlot(for: source)
                let failoverNote = slot.slotState.failover.map { $0 ? ", failover slot" : "" } ?? ""
                return (prepared.publicationCreated, (slot.slotCreated ? "created at \(slot.confirmedFlush)" : "exists, confirmed at \(slot.confirmedFlush)") + failoverNote)
            } catch {
                throw SetupFailure(description: "\(error)")
            }
        }
        print("publication \(resolved.publication): \(publicationCreated ? "created" : "exists") (\(tables.map(\.description).joined(separator: ", ")))")
        print("slot \(resolved.slot): \(slotReport)")
    }
}

/// `outbox-cdc teardown`: drops the slot and the publication, after a confirmation.
struct TeardownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teardown",
        abstract: "Drop the slot and the publication. Events committed after the slot's confirmed position are then never published.",
        discussion: "Asks to type the slot's name unless --yes is given; refuses without a terminal to ask on."
    )

    @OptionGroup var target: SlotOptions

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    func run() async throws {
        let resolved = try target.resolve(purpose: "the database to tear down")
        if !yes {
            guard isatty(STDIN_FILENO) == 1 else {
                throw ValidationError("teardown drops the slot '\(resolved.slot)' and the publication '\(resolved.publication)'; there is no terminal to confirm on: pass --yes")
            }
            print("This drops the slot '\(resolved.slot)' and the publication '\(resolved.publication)' on \(resolved.database).")
            print("Events not yet published are then lost. Type the slot's name to go on: ", terminator: "")
            // Reading the terminal blocks: not on the cooperative pool.
            let answer = try await DedicatedThread.run(name: "cdc-confirm") { readLine() }
            guard answer?.trimmingSpaces == resolved.slot else {
                print("Not confirmed; nothing dropped.")
                throw ExitCode(1)
            }
        }
        // Dropping the slot cannot be undone: every step's privilege is checked before the first, and each
        // step is reported as it completes, so that a failure says exactly what is left to do.
        try await DedicatedThread.run(name: "cdc-teardown") {
            let connection: PostgresConnection
            let status: SlotStatus
            do {
                connection = try PostgresConnection.connect(resolved.database)
                status = try connection.slotStatus(slot: resolved.slot, publication: resolved.publication)
            } catch {
                throw SetupFailure(description: "\(error)")
            }
            defer { connection.close() }
            if let pid = status.slot?.activePID {
                throw SetupFailure(description: "the slot '\(resolved.slot)' is in use by pid \(pid): stop outbox-cdc first; nothing dropped")
            }
            guard status.slot != nil || status.publication != nil else {
                print("nothing to drop: neither the slot nor the publication exists")
                return
            }
            let publicationSQL = "DROP PUBLICATION \(QualifiedTableName.quoted(resolved.publication))"
            let slotSQL = "SELECT pg_drop_replication_slot('\(resolved.slot.replacingOccurrences(of: "'", with: "''"))')"
            do {
                let rights = try connection.query("""
                    SELECT r.rolname, r.rolsuper OR r.rolreplication AS may_drop_slot,
                           (SELECT pg_has_role(current_user, p.pubowner, 'USAGE') FROM pg_publication p
                            WHERE p.pubname = \(try connection.literal(resolved.publication))) AS owns_publication
                    FROM pg_roles r WHERE r.rolname = current_user
                    """)
                let role = rights[0, "rolname"] ?? "(this role)"
                var missing: [String] = []
                if status.slot != nil, rights[0, "may_drop_slot"] != "t" {
                    missing.append("the role \(QualifiedTableName.quoted(role)) may not drop replication slots (it needs REPLICATION): \(slotSQL) as a role that may")
                }
                if status.publication != nil, rights[0, "owns_publication"] != "t" {
                    missing.append("the role \(QualifiedTableName.quoted(role)) does not own the publication '\(resolved.publication)': \(publicationSQL) as its owner")
                }
                guard missing.isEmpty else {
                    throw SetupFailure(description: "nothing dropped: " + missing.joined(separator: "; "))
                }
            } catch let error as SetupFailure {
                throw error
            } catch {
                throw SetupFailure(description: "nothing dropped: could not check the role's rights: \(error)")
            }
            var leftToDo: [String] = []
            if status.publication != nil { leftToDo.append(publicationSQL) }
            if status.slot != nil {
                do {
                    try connection.query(slotSQL)
                } catch {
                    throw SetupFailure(description: "nothing dropped: the slot '\(resolved.slot)' could not be dropped: \(error)")
                }
                print("dropped slot \(resolved.slot)")
            }
            if status.publication != nil {
                do {
                    try connection.query(publicationSQL)
                } catch {
                    throw SetupFailure(description: "the publication '\(resolved.publication)' could not be dropped: \(error); left to do: \(leftToDo.joined(separator: "; "))")
                }
                print("dropped publication \(resolved.publication)")
            }
        }
    }
}

/// A failure of setup or teardown, printed as one line.
struct SetupFailure: Error, CustomStringConvertible {
    var description: String
}
