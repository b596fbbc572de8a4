import WALReader

/// What a relation named in the replication stream is to outbox-cdc. pgoutput names a row's relation as
/// the publication decides: the outbox table itself, or (without `publish_via_partition_root`, and always for
/// inheritance) the partition or child that holds the row. A row must never be passed over because its
/// relation has another name than the outbox: each relation gets one of these roles, decided once.
enum RelationRole: Sendable, Equatable {
    /// An outbox table, by its own name.
    case outbox(QualifiedTableName)
    /// A partition or inheritance child of an outbox table: its rows are that table's.
    case descendant(QualifiedTableName, of: QualifiedTableName)
    /// Gone from the catalog when asked, with every column the outbox table's format reads. It can have
    /// been the outbox's partition or child, so its rows are published as the outbox's: an event repeated
    /// by mistake is the consumer's to deduplicate, an event dropped by mistake is lost.
    case goneWithOutboxColumns(QualifiedTableName, assumed: QualifiedTableName)
    /// Another table the publication publishes too: its rows are counted and logged, never published.
    case otherTable(QualifiedTableName)

    /// The outbox table whose rows this relation carries; nil for another table.
    var outboxTable: QualifiedTableName? {
        switch self {
        case .outbox(let table): table
        case .descendant(_, let table): table
        case .goneWithOutboxColumns(_, let table): table
        case .otherTable: nil
        }
    }

    /// Decides the role of a relation the stream names `name`. `lineage` is what the catalog says of the
    /// relation's id now (nil: it no longer exists); it is only needed when `name` is not an outbox table.
    /// `fitsOutbox` says whether the relation has every column an outbox table's format reads.
    static func of(
        _ name: QualifiedTableName, outboxTables: [QualifiedTableName], lineage: RelationLineage?,
        fitsOutbox: (QualifiedTableName) -> Bool
    ) -> RelationRole {
        if outboxTables.contains(name) { return .outbox(name) }
        guard let lineage else {
            if let table = outboxTables.first(where: fitsOutbox) { return .goneWithOutboxColumns(name, assumed: table) }
            return .otherTable(name)
        }
        if let table = lineage.ancestors.first(where: outboxTables.contains) { return .descendant(name, of: table) }
        return .otherTable(name)
    }

    /// Whether the relation's role can be told from its name alone, without asking the catalog.
    static func isKnownByName(_ name: QualifiedTableName, outboxTables: [QualifiedTableName]) -> Bool {
        outboxTables.contains(name)
    }
}
