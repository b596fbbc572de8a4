public import PostgresLSN
public import PostgresNames

/// What the connector streams from: the slot, the publication that filters it, and the table.
public struct ReplicationSource: Sendable {
    public var slot: String
    public var publication: String
    public var table: QualifiedTableName
    /// Further outbox tables (Debezium's `table.include.list` may name several), same columns required.
    public var additionalTables: [QualifiedTableName]
    /// Columns the table must have; checked before streaming so a wrong table fails at start.
    public var requiredColumns: [String]
    /// Create the publication and the slot when they are missing.
    public var createMissing: Bool
    /// False for the table-less outbox: no table is checked, and a missing publication is created empty
    /// (pgoutput needs one; logical decoding messages pass whatever it publishes).
    public var readsTable: Bool
    /// This process has streamed from the slot before: if it is gone now, it was lost, not never made.
    public var slotKnownToExist = false
    /// What to do with a slot that was lost: dropped, or invalidated (`wal_status = lost`).
    public var onSlotLost = SlotLostPolicy.fail
    /// Make the slot a failover slot (PostgreSQL 17 and later), which a physical standby with
    /// `sync_replication_slots = on` keeps in step, so that streaming resumes there after a promotion.
    /// Older servers have no such slots: the setting is then ignored.
    public var failoverSlot = true
    /// Create a missing publication `WITH (publish_via_partition_root = true)`. Off only to be Debezium (its
    /// `publish.via.partition.root` unset); a partitioned outbox then stops the start.
    public var createViaPartitionRoot = true
    /// Create a missing publication; nil: as `createMissing` says. Debezium's `publication.autocreate.mode =
    /// disabled` turns this off but still creates the slot.
    public var createsMissingPublication: Bool?
    var createMissingPublication: Bool { createsMissingPublication ?? createMissing }
    /// The tables came from Debezium's `table.include.list`, which may match partitions. Debezium publishes a
    /// row exactly when the name pgoutput gives it matches, so a matched partition is accepted where the
    /// publication names its rows by the partition, and a partitioned table where all its partitions match.
    public var tablesMatchedByPattern = false
    /// Create a missing publication `FOR ALL TABLES`, as Debezium's `publication.autocreate.mode=all_tables`
    /// does (a table its list matches later, such as a new partition, is then published too).
    public var createForAllTables = false
    /// What a publication created here publishes (`publish = '…'`); nil: inserts only.
    public var publishedOperations: String?
    /// The tables `ServerWatch` checks for being dropped or unpublished while streaming; nil: all. Matched
    /// partitions come and go with rotation, and are left out.
    public var watchedTables: [QualifiedTableName]?

    public init(
        slot: String, publication: String, table: QualifiedTableName, additionalTables: [QualifiedTableName] = [],
        requiredColumns: [String], createMissing: Bool, readsTable: Bool = true
    ) {
        self.slot = slot
        self.publication = publication
        self.table = table
        self.additionalTables = additionalTables
        self.requiredColumns = requiredColumns
        self.createMissing = createMissing
        self.readsTable = readsTable
    }

    /// Every outbox table, the first one first.
    public var tables: [QualifiedTableName] { [table] + additionalTables }
}

/// What to do when the slot is lost: events committed after its confirmed position may be gone with it.
public enum SlotLostPolicy: String, Sendable, Equatable {
    /// Stop, saying what may be lost and how to recover (the default).
    case fail
    /// Create the slot anew (logging the gap at error level) and stream from there.
    case recreate
}

/// Why streaming cannot start. Each description names the thing to fix.
public enum ReplicationSetupError: Error, Sendable, CustomStringConvertible {
    case walLevelNotLogical(current: String)
    case roleLacksReplication(role: String)
    case tableMissing(QualifiedTableName, database: String)
    case columnsMissing([String], table: QualifiedTableName)
    case publicationMissing(String)
    case publicationLacksTable(publication: String, table: QualifiedTableName)
    case publicationSkipsInserts(String)
    /// The outbox is partitioned and the publication names each partition's rows by the partition.
    case publicationNotViaPartitionRoot(publication: String, table: QualifiedTableName, allTables: Bool)
    /// An inheritance child of the outbox that the publication leaves out: its rows would never be sent.
    case inheritanceChildUnpublished(publication: String, child: QualifiedTableName, parent: QualifiedTableName)
    /// `--table` names a partition; its rows may be published under the root's name.
    case tableIsPartition(QualifiedTableName, root: QualifiedTableName)
    /// Under Debezium's configuration without `publish.via.partition.root`: the publication Debezium would
    /// create names a partitioned outbox's rows by partition, and Debezium drops them all.
    case partitionedOutboxNeedsViaRootSetting(QualifiedTableName, publication: String)
    /// Under Debezium's configuration: `table.include.list` matches a partition, but the publication names its
    /// rows by its root, which the list does not match: Debezium drops them all.
    case partitionRowsNamedByUnmatchedRoot(QualifiedTableName, root: QualifiedTableName, publication: String)
    /// Debezium's `table.include.list` matches no table of the database.
    case noTableMatches(includeList: String, database: String)
    case slotMissing(String)
    case slotNotLogical(String)
    case slotUsesOtherPlugin(slot: String, plugin: String)
    case slotInOtherDatabase(slot: String, database: String)
    /// Another process streams from the slot: the hot-standby case, worth waiting for.
    /// `client`: the address and application name of the connection the walsender serves, when known.
    case slotActive(slot: String, pid: Int?, client: String? = nil)
    /// The slot this process streamed from is gone (dropped), or invalidated (`wal_status = lost`).
    case slotLost(slot: String, reason: String, confirmed: LSN?)
    /// Found while streaming (and once the stream has reached the moment it was seen): pgoutput's stream
    /// carries no DDL, so these tables would just fall silent.
    case tableDroppedWhileStreaming(QualifiedTableName, database: String)
    case tableUnpublishedWhileStreaming(publication: String, table: QualifiedTableName)

    public var description: String {
        switch self {
        case .walLevelNotLogical(let current):
            return "wal_level is '\(current)' but logical replication needs 'logical': run ALTER SYSTEM SET wal_level = logical (or set it in postgresql.conf) and restart PostgreSQL"
        case .roleLacksReplication(let role):
            return "the role '\(role)' may not open a replication connection: ALTER ROLE \(QualifiedTableName.quoted(role)) WITH REPLICATION (or use a role that has it)"
        case .tableMissing(let table, let database):
            return "the outbox table \(table) does not exist in database '\(database)': create it, or name another with --table"
        case .columnsMissing(let columns, let table):
            return "the outbox table \(table) lacks the column(s) \(columns.joined(separator: ", ")): choose the table's layout with --table-format (eventrouter reads id, aggregatetype, aggregateid and payload) or name its columns with the column flags"
        case .publicationMissing(let publication):
            return "the publication '\(publication)' does not exist and creation is turned off: CREATE PUBLICATION \(QualifiedTableName.quoted(publication)) FOR TABLE <outbox table> WITH (publish = 'insert', publish_via_partition_root = true), or drop --no-create"
        case .publicationLacksTable(let publication, let table):
            return "the publication '\(publication)' does not publish \(table): ALTER PUBLICATION \(QualifiedTableName.quoted(publication)) ADD TABLE \(table)"
        case .publicationSkipsInserts(let publication):
            return "the publication '\(publication)' does not publish inserts: ALTER PUBLICATION \(QualifiedTableName.quoted(publication)) SET (publish = 'insert')"
        case .publicationNotViaPartitionRoot(let publication, let table, let allTables):
            let shared = allTables
                ? " It publishes all tables: if other subscribers use it, give outbox-cdc a publication of its own instead (CREATE PUBLICATION outbox_pub FOR TABLE \(table) WITH (publish = 'insert', publish_via_partition_root = true) and --publication outbox_pub)."
                : ""
            return "the outbox table \(table) is partitioned, and the publication '\(publication)' would send its rows under each partition's name, which a partition created or dropped later makes impossible to trace reliably: ALTER PUBLICATION \(QualifiedTableName.quoted(publication)) SET (publish_via_partition_root = true), then start outbox-cdc again.\(shared)"
        case .inheritanceChildUnpublished(let publication, let child, let parent):
            return "\(child) inherits from the outbox table \(parent), but the publication '\(publication)' does not publish it, so rows inserted into it are never sent: ALTER PUBLICATION \(QualifiedTableName.quoted(publication)) ADD TABLE \(child), and republish the rows it already holds (they are not in the stream: SELECT … FROM ONLY \(child)). Add each new child to the publication in the transaction that creates it"
        case .partitionedOutboxNeedsViaRootSetting(let table, let publication):
            return "the outbox table \(table) is partitioned, and the publication '\(publication)' that this configuration creates would send its rows under each partition's name, which Debezium 3.6.3 drops without a word (table.include.list names the partitioned table): set publish.via.partition.root=true in the connector configuration (Debezium and outbox-cdc then both create the publication WITH (publish_via_partition_root = true) and publish every row), or create the publication yourself: CREATE PUBLICATION \(QualifiedTableName.quoted(publication)) FOR TABLE \(table) WITH (publish = 'insert', publish_via_partition_root = true)"
        case .partitionRowsNamedByUnmatchedRoot(let table, let root, let publication):
            return "table.include.list matches the partition \(table) but not its partitioned table \(root), and the publication '\(publication)' names the partition's rows by \(root) (publish_via_partition_root), so Debezium 3.6.3 would drop them all without a word: include \(root.schema).\(root.name) in table.include.list"
        case .noTableMatches(let includeList, let database):
            return "table.include.list=\(includeList) matches no table in database '\(database)' (Debezium reads each entry as a case-insensitive regular expression of schema.table): create the outbox table, or correct the list"
        case .tableIsPartition(let table, let root):
            return "\(table) is a partition of \(root): name the partitioned table with --table \(root); its partitions' rows are published as its own"
        case .slotMissing(let slot):
            return "the replication slot '\(slot)' does not exist and creation is turned off: create it with pg_create_logical_replication_slot('\(slot)', 'pgoutput'), or drop --no-create"
        case .slotNotLogical(let slot):
            return "the replication slot '\(slot)' is a physical slot: outbox-cdc needs a logical slot with the pgoutput plugin; name another with --slot"
        case .slotUsesOtherPlugin(let slot, let plugin):
            return "the replication slot '\(slot)' uses the plugin '\(plugin)', not pgoutput: drop it (pg_drop_replication_slot('\(slot)')) or name another with --slot"
        case .slotInOtherDatabase(let slot, let database):
            return "the replication slot '\(slot)' belongs to database '\(database)': connect to that database or name another slot with --slot"
        case .slotActive(let slot, let pid, let client):
            let holder = pid.map { " (pid \($0) on the PostgreSQL server: the walsender serving \(client ?? "another client"))" } ?? ""
            return "the replication slot '\(slot)' is in use by another process\(holder)"
        case .tableDroppedWhileStreaming(let table, let database):
            return "the outbox table \(table) was dropped from database '\(database)' while outbox-cdc was streaming: create it again (with its publication) before starting outbox-cdc, or name another with --table"
        case .tableUnpublishedWhileStreaming(let publication, let table):
            return "the outbox table \(table) was removed from the publication '\(publication)' while outbox-cdc was streaming (or the publication was dropped): rows inserted since are not sent. ALTER PUBLICATION \(publication) ADD TABLE \(table), then republish the rows inserted meanwhile (--publish-pending with a new slot, or by hand)"
        case .slotLost(let slot, let reason, let confirmed):
            return "the replication slot '\(slot)' was lost (\(reason)): events committed after \(confirmed.map { "its confirmed position \($0)" } ?? "its last confirmed position") may not have been published and can no longer be read from the WAL. Republish them from the outbox table if its rows are kept (e.g. --publish-pending with a --pending-condition on their time), then start with --on-slot-lost recreate to create the slot anew"
        }
    }
}

/// What the server said about itself and the slot before streaming started.
public struct PreparedSlot: Sendable {
    /// The slot's `confirmed_flush_lsn`: streaming resumes after it.
    public var confirmedFlush: LSN
    public var slotCreated: Bool
    public var database: String
    public var systemIdentifier: String
    public var timeline: Int
    /// The server's WAL insert position when it was asked.
    public var serverWALPosition: LSN
    /// The slot was lost and, as `onSlotLost = .recreate` allows, created anew: a gap is possible.
    public var recreatedAfterLoss: SlotLoss?
    public var slotState: SlotState
}

/// What `pg_replication_slots` says about the slot's health, for the log line at start.
public struct SlotState: Sendable {
    /// `reserved`, `extended`, `unreserved` (at risk of invalidation) or `lost`.
    public var walStatus: String
    /// WAL the slot keeps on the server's disk: the server's position minus the slot's restart_lsn.
    public var retainedBytes: Int64?
    /// Whether it is a failover slot; nil before PostgreSQL 17, which has none.
    public var failover: Bool?
    /// outbox-cdc turned an existing slot into a failover slot.
    public var madeFailover = false
}

/// A lost slot that was created anew.
public struct SlotLoss: Sendable {
    public var reason: String
    /// Where the lost slot was confirmed, when known.
    public var lostConfirmed: LSN?
}

/// An error from either PostgreSQL itself or from checking what it holds.
public enum ReplicationStartError: Error, Sendable, CustomStringConvertible {
    case postgres(PostgresError)
    case setup(ReplicationSetupError)

    public var description: String {
        switch self {
        case .postgres(let error): return error.description
        case .setup(let error): return error.description
        }
    }

    /// Sorts any error from connecting and checking into the two kinds.
    public init(_ error: any Error) {
        switch error {
        case let error as ReplicationStartError: self = error
        case let error as ReplicationSetupError: self = .setup(error)
        case let error as PostgresError: self = .postgres(error)
        default: self = .postgres(PostgresError(kind: .protocolViolation, message: "\(error)"))
        }
    }
}

/// What a check while streaming found.
public struct StreamingCheck: Sendable {
    /// The server's WAL position (its replay position on a standby).
    public var serverWAL: LSN?
    /// An outbox table dropped, or no longer published.
    public var problem: ReplicationSetupError?
}

/// What the server said about the table and the publication.
public struct PreparedSource: Sendable {
    public var database: String
    public var publicationCreated: Bool
    /// Each table's columns declared NOT NULL. pgoutput's Relation message does not say; Debezium's record
    /// schemas do (a nullable column's schema is optional).
    public var notNullColumns: [QualifiedTableName: Set<String>]
    /// How each outbox table is built.
    public var shapes: [QualifiedTableName: OutboxTableShape] = [:]
    /// The publication's settings, as found or created.
    public var publication: PublicationSettings?
    /// Row filters the publication applies to outbox tables (`WHERE …`), by table.
    public var rowFilters: [QualifiedTableName: String] = [:]
}

extension PostgresConnection {
    /// Checks `wal_level`, the table and its columns, and the publication, creating the publication
    /// where it is missing and `source.createMissing` allows. Runs on an ordinary connection: the
    /// walsender that will decode should not itself have run the DDL it is about to decode against.
    public func prepareSource(for source: ReplicationSource) throws(ReplicationStartError) -> PreparedSource {
        do {
            return try checkSource(source)
        } catch {
            throw ReplicationStartError(error)
        }
    }

    /// Checks the slot, creating it where it is missing and `source.createMissing` allows. Runs on the
    /// replication connection that will stream, so the slot's state is read where it will be used.
    public func prepareSlot(for source: ReplicationSource) throws(ReplicationStartError) -> PreparedSlot {
        do {
            return try checkSlot(source)
        } catch {
            throw ReplicationStartError(error)
        }
    }

    private func checkSource(_ source: ReplicationSource) throws -> PreparedSource {
        let walLevel = try query("SHOW wal_level").rows.first?.first ?? nil
        guard walLevel == "logical" else {
            throw ReplicationSetupError.walLevelNotLogical(current: walLevel ?? "unknown")
        }
        let identity = try query("""
            SELECT current_database() AS database, current_user AS role,
                   (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS may_replicate
            """)
        guard identity[0, "may_replicate"] == "t" else {
            throw ReplicationSetupError.roleLacksReplication(role: identity[0, "role"] ?? "")
        }
        let database = identity[0, "database"] ?? ""
        guard source.readsTable else {
            return PreparedSource(database: database, publicationCreated: try prepareEmptyPublication(source), notNullColumns: [:])
        }
        var notNullColumns: [QualifiedTableName: Set<String>] = [:]
        var shapes: [QualifiedTableName: OutboxTableShape] = [:]
        for table in source.tables {
            let columns = try columns(of: table)
            guard !columns.isEmpty, let shape = try tableShape(of: table) else {
                throw ReplicationSetupError.tableMissing(table, database: database)
            }
            if case .partition(let root) = shape, !source.tablesMatchedByPattern { throw ReplicationSetupError.tableIsPartition(table, root: root) }
            shapes[table] = shape
            let missingColumns = source.requiredColumns.filter { name in !columns.contains { $0.name == name } }
            guard missingColumns.isEmpty else {
                throw ReplicationSetupError.columnsMissing(missingColumns, table: table)
            }
            notNullColumns[table] = Set(columns.filter(\.notNull).map(\.name))
        }
        let publication = try preparePublication(source, shapes: shapes)
        var prepared = PreparedSource(
            database: database, publicationCreated: publication.created, notNullColumns: notNullColumns, shapes: shapes,
            publication: try publication.settings ?? publicationSettings(source.publication)
        )
        for table in source.tables {
            if let filter = try publicationRowFilter(source.publication, table: table) { prepared.rowFilters[table] = filter }
        }
        return prepared
    }

    private func checkSlot(_ source: ReplicationSource) throws -> PreparedSlot {
        let system = try query("IDENTIFY_SYSTEM")
        let database = system[0, "dbname"] ?? ""
        var slotCreated = false
        var confirmedFlush = LSN.zero
        var loss: SlotLoss?
        var slotState = SlotState(walStatus: "unknown", retainedBytes: nil, failover: nil)
        // Failover slots came with PostgreSQL 17. A slot on a standby (logical decoding there, PostgreSQL 16+)
        // cannot be one: only a primary's slots are synchronised.
        let hasFailoverSlots = serverVersionNumber >= 170_000
        let onStandby = try isInRecovery()
        let wantsFailover = source.failoverSlot && !onStandby
        var slot = try replicationSlot(source.slot, inRecovery: onStandby)
        if let lost = slot, lost.walStatus == "lost" {
            // Invalidated: it passed max_slot_wal_keep_size, and the WAL it needs is gone.
            let reason = "invalidated: wal_status is lost, it fell further behind than max_slot_wal_keep_size"
            guard source.onSlotLost == .recreate else {
                throw ReplicationSetupError.slotLost(slot: source.slot, reason: reason, confirmed: lost.confirmedFlush)
            }
            try query("SELECT pg_drop_replication_slot(\(try literal(source.slot)))")
            loss = SlotLoss(reason: reason, lostConfirmed: lost.confirmedFlush)
            slot = try replicationSlot(source.slot, inRecovery: onStandby)
        }
        if let slot {
            if slot.slotType != "logical" { throw ReplicationSetupError.slotNotLogical(source.slot) }
            if let plugin = slot.plugin, plugin != "pgoutput" {
                throw ReplicationSetupError.slotUsesOtherPlugin(slot: source.slot, plugin: plugin)
            }
            if let slotDatabase = slot.database, slotDatabase != database {
                throw ReplicationSetupError.slotInOtherDatabase(slot: source.slot, database: slotDatabase)
            }
            if let pid = slot.activePID {
                let holder = try? query("""
                    SELECT COALESCE(host(client_addr), 'a local socket') AS address, application_name FROM pg_stat_replication WHERE pid = \(pid)
                    """)
                let client = holder.flatMap { rows in
                    rows.rows.first.map { row in "\(row.first.flatMap { $0 } ?? "an unknown address")\((row.count > 1 ? row[1] : nil).map { $0.isEmpty ? "" : " (application \($0))" } ?? "")" }
                }
                throw ReplicationSetupError.slotActive(slot: source.slot, pid: pid, client: client)
            }
            confirmedFlush = slot.confirmedFlush ?? .zero
            var failover = slot.failover
            if failover == false, wantsFailover {
                // A slot made by someone else (Debezium's, or a copy: copies are never failover slots).
                try query("ALTER_REPLICATION_SLOT \(try identifier(source.slot)) (FAILOVER true)")
                failover = true
                slotState.madeFailover = true
            }
            slotState = SlotState(
                walStatus: slot.walStatus ?? "unknown", retainedBytes: slot.retainedBytes, failover: failover,
                madeFailover: slotState.madeFailover
            )
        } else {
            if source.slotKnownToExist, loss == nil {
                let reason = "dropped while outbox-cdc was streaming from it"
                guard source.onSlotLost == .recreate else {
                    throw ReplicationSetupError.slotLost(slot: source.slot, reason: reason, confirmed: nil)
                }
                loss = SlotLoss(reason: reason, lostConfirmed: nil)
            }
            guard source.createMissing || loss != nil else { throw ReplicationSetupError.slotMissing(source.slot) }
            // NOEXPORT-style creation: the snapshot is not needed; streaming starts at the slot's
            // consistent point. Two instances racing to create it: the loser sees duplicate_object.
            let failover = hasFailoverSlots && wantsFailover ? ", FAILOVER true" : ""
            let created = try query("CREATE_REPLICATION_SLOT \(try identifier(source.slot)) LOGICAL pgoutput (SNAPSHOT 'nothing'\(failover))")
            slotCreated = true
            confirmedFlush = created[0, "consistent_point"].flatMap(LSN.init) ?? .zero
            slotState = SlotState(walStatus: "reserved", retainedBytes: 0, failover: hasFailoverSlots ? wantsFailover : nil)
        }
        return PreparedSlot(
            confirmedFlush: confirmedFlush,
            slotCreated: slotCreated,
            database: database,
            systemIdentifier: system[0, "systemid"] ?? "",
            timeline: system[0, "timeline"].flatMap { Int($0) } ?? 0,
            serverWALPosition: system[0, "xlogpos"].flatMap(LSN.init) ?? .zero,
            recreatedAfterLoss: loss,
            slotState: slotState
        )
    }

    /// While streaming: the server's WAL position, and for each outbox table whether it still exists and the
    /// publication still publishes it. DDL is not part of pgoutput's stream, so a dropped or unpublished table
    /// would otherwise just fall silent. Reads the catalogs directly: `pg_publication_tables` would lock
    /// every published table, and so wait behind any ALTER TABLE queued on one of them.
    public func streamingCheck(_ source: ReplicationSource) throws(PostgresError) -> StreamingCheck {
        let position = try query("""
            SELECT current_database() AS database,
                   CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END AS wal
            """)
        var check = StreamingCheck(serverWAL: position[0, "wal"].flatMap(LSN.init), problem: nil)
        guard source.readsTable else { return check }
        let database = position[0, "database"] ?? ""
        let publicationLiteral = try literal(source.publication)
        for table in source.watchedTables ?? source.tables {
            let state = try query("""
                SELECT c.oid IS NOT NULL AS present,
                       COALESCE(\(Self.publishesRelation)
                         OR EXISTS (SELECT 1 FROM pg_publication_rel r JOIN pg_partition_ancestors(c.oid) a ON a.relid = r.prrelid
                                    WHERE r.prpubid = p.oid), false) AS published
                FROM (SELECT \(try regclass(table)) AS oid) t
                LEFT JOIN pg_class c ON c.oid = t.oid
                LEFT JOIN pg_publication p ON p.pubname = \(publicationLiteral)
                """)
            if state[0, "present"] != "t" {
                check.problem = .tableDroppedWhileStreaming(table, database: database)
                return check
            }
            if state[0, "published"] != "t" {
                check.problem = .tableUnpublishedWhileStreaming(publication: source.publication, table: table)
                return check
            }
            // An inheritance child made while streaming is not in a FOR TABLE publication by itself (partitions
            // need not be: the root publishes them).
            let unpublishedChild = try query("""
                \(Self.descendants(of: try regclass(table)))
                SELECT n.nspname, c.relname FROM down d JOIN pg_class c ON c.oid = d.relid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_publication p ON p.pubname = \(publicationLiteral)
                WHERE NOT c.relispartition AND c.relkind = 'r' AND NOT COALESCE(\(Self.publishesRelation), false)
                ORDER BY 1, 2 LIMIT 1
                """)
            if let row = unpublishedChild.rows.first, row.count == 2, let schema = row[0], let name = row[1] {
                check.problem = .inheritanceChildUnpublished(
                    publication: source.publication, child: QualifiedTableName(schema: schema, name: name), parent: table)
                return check
            }
        }
        return check
    }

    /// Where `timeline` ended, from the current timeline's history file (`TIMELINE_HISTORY`, on a
    /// replication connection): the position at which the server's history and that timeline's part ways.
    /// Nil when the history does not name it.
    public func timelineSwitchPoint(of timeline: Int, current: Int) throws(PostgresError) -> LSN? {
        guard current > 1, timeline < current else { return nil }
        let history = try query("TIMELINE_HISTORY \(current)")
        // The walsender sends the file's bytes as they are (a bytea column in text format, not hex-escaped).
        guard let content = history[0, "content"] else { return nil }
        // Lines: "<parent timeline>\t<switch point>\t<reason>"; comments start with '#'.
        for line in content.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t")
            if fields.count >= 2, Int(fields[0].filter { !$0.isWhitespace }) == timeline {
                return LSN(fields[1].filter { !$0.isWhitespace })
            }
        }
        return nil
    }

    /// Rows of this partitioned table would arrive under partition names nobody maps: always for `--table`,
    /// and under Debezium's list unless it matches every partition too.
    private func partitionRowsWouldBeLost(_ table: QualifiedTableName, shapes: [QualifiedTableName: OutboxTableShape], source: ReplicationSource) -> Bool {
        guard case .partitioned(let partitions) = shapes[table] else { return false }
        guard source.tablesMatchedByPattern else { return true }
        return partitions.isEmpty || !partitions.allSatisfy(source.tables.contains)
    }

    /// Under Debezium's list: a matched partition published via its root needs the root matched too.
    private func checkMatchedPartitions(_ source: ReplicationSource, shapes: [QualifiedTableName: OutboxTableShape], viaRoot: Bool) throws {
        guard viaRoot else { return }
        for table in source.tables {
            if case .partition(let root) = shapes[table], !source.tables.contains(root) {
                throw ReplicationSetupError.partitionRowsNamedByUnmatchedRoot(table, root: root, publication: source.publication)
            }
        }
    }

    /// For the table-less outbox: any publication will do; a missing one is created with no tables.
    private func prepareEmptyPublication(_ source: ReplicationSource) throws -> Bool {
        let exists = try query("SELECT 1 FROM pg_publication WHERE pubname = \(try literal(source.publication))")
        guard exists.rows.isEmpty else { return false }
        guard source.createMissingPublication else { throw ReplicationSetupError.publicationMissing(source.publication) }
        do {
            try query("CREATE PUBLICATION \(try identifier(source.publication))")
            return true
        } catch {
            guard error.sqlState == SQLState.duplicateObject else { throw error }
            return false
        }
    }

    /// The WITH clause of a publication created here: inserts only unless `publishedOperations` says otherwise
    /// (FOR ALL TABLES, as Debezium's default mode creates it, publishes every operation), via the partition
    /// root unless told not to.
    static func publicationOptions(_ source: ReplicationSource, allTables: Bool) -> String {
        var options: [String] = []
        if let operations = source.publishedOperations {
            options.append("publish = '\(operations)'")
        } else if !allTables {
            options.append("publish = 'insert'")
        }
        if source.createViaPartitionRoot { options.append("publish_via_partition_root = true") }
        return options.isEmpty ? "" : " WITH (" + options.joined(separator: ", ") + ")"
    }

    /// Returns whether the publication was created, and its settings when they were read (not after creating it).
    private func preparePublication(
        _ source: ReplicationSource, shapes: [QualifiedTableName: OutboxTableShape]
    ) throws -> (created: Bool, settings: PublicationSettings?) {
        let publicationLiteral = try literal(source.publication)
        guard let publication = try publicationSettings(source.publication) else {
            guard source.createMissingPublication else { throw ReplicationSetupError.publicationMissing(source.publication) }
            if !source.createViaPartitionRoot, let table = source.tables.first(where: { partitionRowsWouldBeLost($0, shapes: shapes, source: source) }) {
                throw ReplicationSetupError.partitionedOutboxNeedsViaRootSetting(table, publication: source.publication)
            }
            try checkMatchedPartitions(source, shapes: shapes, viaRoot: source.createViaPartitionRoot)
            // Inserts only: updates and deletes of outbox rows publish nothing, so the server need not
            // decode and send them. Via the partition root: the walsender names a partitioned outbox's rows
            // by the root as the catalog stood when they were written, so partitions attached, detached or
            // dropped later change nothing. FOR TABLE (without ONLY) includes inheritance children.
            let create = source.createForAllTables
                ? """
                    CREATE PUBLICATION \(try identifier(source.publication)) FOR ALL TABLES\(Self.publicationOptions(source, allTables: true))
                    """
                : """
                    CREATE PUBLICATION \(try identifier(source.publication))
                    FOR TABLE \(try source.tables.map { table in try identifier(table) }.joined(separator: ", "))
                    \(Self.publicationOptions(source, allTables: false))
                    """
            do {
                try query(create)
                return (true, nil)
            } catch {
                // Another instance may have created it between our look and our create: use theirs.
                guard error.sqlState == SQLState.duplicateObject else { throw error }
                return (false, nil)
            }
        }
        guard publication.publishesInserts else {
            throw ReplicationSetupError.publicationSkipsInserts(source.publication)
        }
        try checkMatchedPartitions(source, shapes: shapes, viaRoot: publication.viaPartitionRoot)
        for table in source.tables {
            // Checked first: without it pg_publication_tables lists the partitions, not the table.
            if case .partitioned = shapes[table], !publication.viaPartitionRoot {
                guard !partitionRowsWouldBeLost(table, shapes: shapes, source: source) else {
                    throw ReplicationSetupError.publicationNotViaPartitionRoot(
                        publication: source.publication, table: table, allTables: publication.allTables)
                }
                // Every partition is matched itself (Debezium's list): each is checked as a table of its own.
                continue
            }
            // A matched partition's rows are published under its root's name: the root is checked.
            if case .partition = shapes[table], publication.viaPartitionRoot { continue }
            /// Whether the publication sends the rows of `table` under its own name.
            func lists(_ table: QualifiedTableName) throws -> Bool {
                try !query("""
                    SELECT 1 FROM pg_publication_tables WHERE pubname = \(publicationLiteral)
                      AND schemaname = \(try literal(table.schema)) AND tablename = \(try literal(table.name))
                    """).rows.isEmpty
            }
            guard try lists(table) else {
                throw ReplicationSetupError.publicationLacksTable(publication: source.publication, table: table)
            }
            if case .inheritanceParent(let children) = shapes[table], let child = try children.first(where: { try !lists($0) }) {
                throw ReplicationSetupError.inheritanceChildUnpublished(publication: source.publication, child: child, parent: table)
            }
        }
        return (false, publication)
    }
}

/// One live column of a table, as the catalog describes it.
public struct TableColumn: Sendable, Equatable {
    public var name: String
    public var typeOID: UInt32
    /// The `atttypmod` (e.g. varchar length + 4), -1 when the type has none.
    public var typeModifier: Int32
    /// Declared NOT NULL. pgoutput's Relation message does not say; Debezium's record schemas do.
    public var notNull: Bool
}

extension PostgresConnection {
    /// The columns of a table (or partitioned table) in their order; empty when there is no such table.
    public func columns(of table: QualifiedTableName) throws(PostgresError) -> [TableColumn] {
        try query("""
            SELECT a.attname, a.atttypid::int8, a.atttypmod, a.attnotnull FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(try literal(table.schema)) AND c.relname = \(try literal(table.name))
              AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """).rows.compactMap { row in
            guard row.count == 4, let name = row[0], let oid = row[1].flatMap({ UInt32($0) }) else { return nil }
            return TableColumn(name: name, typeOID: oid, typeModifier: row[2].flatMap { Int32($0) } ?? -1, notNull: row[3] == "t")
        }
    }
}

/// A temporary slot that exported the snapshot it starts from: what its creator reads in that snapshot,
/// plus what the slot then streams, is every change exactly once.
public struct ExportedSnapshotSlot: Sendable {
    public var slot: String
    /// For `SET TRANSACTION SNAPSHOT`; valid until the replication connection runs another command.
    public var snapshotName: String
    public var consistentPoint: LSN
}

extension PostgresConnection {
    public func slotExists(_ slot: String) throws(PostgresError) -> Bool {
        !(try query("SELECT 1 FROM pg_replication_slots WHERE slot_name = \(try literal(slot))").rows.isEmpty)
    }

    /// On a replication connection: creates a TEMPORARY pgoutput slot (gone when this connection closes,
    /// however it closes) that exports its snapshot.
    public func createTemporarySlotExportingSnapshot(_ slot: String) throws(PostgresError) -> ExportedSnapshotSlot {
        let created = try query("CREATE_REPLICATION_SLOT \(try identifier(slot)) TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')")
        guard let snapshotName = created[0, "snapshot_name"], let consistentPoint = created[0, "consistent_point"].flatMap(LSN.init) else {
            throw PostgresError(kind: .protocolViolation, message: "CREATE_REPLICATION_SLOT returned no snapshot or consistent point")
        }
        return ExportedSnapshotSlot(slot: slot, snapshotName: snapshotName, consistentPoint: consistentPoint)
    }

    /// Makes a permanent copy of a logical slot at the same position (PostgreSQL 12+).
    public func copyLogicalSlot(_ source: String, to target: String) throws(PostgresError) {
        try query("SELECT pg_copy_logical_replication_slot(\(try literal(source)), \(try literal(target)), false)")
    }
}
