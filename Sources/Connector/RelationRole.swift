import PostgresNames
import Synchronization

/// What a relation named in the replication stream is to outbox-cdc. pgoutput names a row's relation as
/// the publication decides: the outbox table itself, or (without `publish_via_partition_root`, and always for
/// inheritance) the partition or child that holds the row. A row must never be passed over because its
/// relation has another name than the outbox: each relation gets one of these roles, decided once.
enum RelationRole: Sendable, Equatable {
    /// An outbox table, by its own name.
    case outbox(QualifiedTableName)
    /// A partition or inheritance child of an outbox table (now, or when this run saw it): its rows are
    /// that table's.
    case descendant(QualifiedTableName, of: QualifiedTableName)
    /// Gone from the catalog when asked, with every column the outbox table's format reads, sent by a
    /// publication that lists tables (so only the outbox and its family can be in it). It can have been the
    /// outbox's partition or child, so its rows are published as the outbox's: an event repeated by mistake
    /// is the consumer's to deduplicate, an event dropped by mistake is lost.
    case goneWithOutboxColumns(QualifiedTableName, assumed: QualifiedTableName)
    /// Another table the publication publishes too: its rows are counted and logged, never published.
    case otherTable(QualifiedTableName)
    /// Another table with every column of the outbox (an archive copy, a partition detached before this
    /// run saw it, a table of a `FOR ALL TABLES` publication dropped since): not published, since it cannot
    /// be told from a copy, but counted and logged at warning level so that an operator can republish.
    case otherTableWithOutboxColumns(QualifiedTableName)

    /// The relation's own name, as the stream gives it.
    var relation: QualifiedTableName {
        switch self {
        case .outbox(let table), .descendant(let table, _), .goneWithOutboxColumns(let table, _), .otherTable(let table),
             .otherTableWithOutboxColumns(let table):
            table
        }
    }

    /// The outbox table whose rows this relation carries; nil for another table.
    var outboxTable: QualifiedTableName? {
        switch self {
        case .outbox(let table): table
        case .descendant(_, let table): table
        case .goneWithOutboxColumns(_, let table): table
        case .otherTable, .otherTableWithOutboxColumns: nil
        }
    }

    /// Decides the role of a relation the stream names `name`.
    /// - `knownDescendantOf`: the outbox table this relation id was a partition or child of when this run
    ///   last looked (it may have been detached or dropped since).
    /// - `lineage`: what the catalog says of the relation id now (nil: it no longer exists).
    /// - `fitsOutbox`: whether the relation has every column the outbox tables' format reads (one format
    ///   serves them all, so the first outbox table is the one it is taken for).
    /// - `publicationListsTables`: the publication names its tables (not `FOR ALL TABLES`, no schema), so
    ///   that what it sends is the outbox, its family, or a table listed by hand.
    static func of(
        _ name: QualifiedTableName, outboxTables: [QualifiedTableName], knownDescendantOf: QualifiedTableName?,
        lineage: RelationLineage?, publicationListsTables: Bool, fitsOutbox: Bool
    ) -> RelationRole {
        if outboxTables.contains(name) { return .outbox(name) }
        if let table = knownDescendantOf { return .descendant(name, of: table) }
        if let lineage, let table = lineage.ancestors.first(where: outboxTables.contains) { return .descendant(name, of: table) }
        guard fitsOutbox, let table = outboxTables.first else { return .otherTable(name) }
        if lineage == nil, publicationListsTables { return .goneWithOutboxColumns(name, assumed: table) }
        return .otherTableWithOutboxColumns(name)
    }

    /// Whether the relation's role can be told from its name alone, without asking the catalog.
    static func isKnownByName(_ name: QualifiedTableName, outboxTables: [QualifiedTableName]) -> Bool {
        outboxTables.contains(name)
    }
}

/// The partitions and inheritance children of the outbox tables this run has seen, by relation id (OID).
/// Kept across sessions: a partition detached or dropped after outbox-cdc saw it still carries outbox rows
/// written before, which a lookup of the catalog as it is now would not tell.
final class OutboxFamily: Sendable {
    private let members = Mutex<[UInt32: QualifiedTableName]>([:])

    func record(_ descendants: [UInt32], of table: QualifiedTableName) {
        members.withLock { members in
            for id in descendants where members[id] == nil { members[id] = table }
        }
    }

    func outboxTable(ofDescendant relationID: UInt32) -> QualifiedTableName? {
        members.withLock { $0[relationID] }
    }
}
