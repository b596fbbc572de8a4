/// What the catalog says now of a relation named in the replication stream: its name and every table it
/// descends from (partitioned parents and inheritance parents), nearest first.
public struct RelationLineage: Sendable, Equatable {
    public var table: QualifiedTableName
    public var ancestors: [QualifiedTableName]

    public init(table: QualifiedTableName, ancestors: [QualifiedTableName]) {
        self.table = table
        self.ancestors = ancestors
    }
}
