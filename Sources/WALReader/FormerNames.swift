public import PostgresNames
public import PostgresWire

// Names that moved out of WALReader, kept here for the Connector files that still reach them through
// `import WALReader` (OutboxConnector, PoisonEvents, PendingRowsHandover, ServerWatch). A type alias to the
// same type is no ambiguity where both modules are imported. Remove each once no file needs it.

/// Now `PostgresNames.QualifiedTableName`.
public typealias QualifiedTableName = PostgresNames.QualifiedTableName
/// Now `PostgresNames.RelationLineage`.
public typealias RelationLineage = PostgresNames.RelationLineage
/// Now `PostgresWire.PostgresTimestamp`, the one PostgreSQL timestamp type.
public typealias PostgresMicroseconds = PostgresTimestamp
