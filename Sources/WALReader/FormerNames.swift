public import PostgresNames
public import PostgresWire

// Names that moved out of WALReader, kept for the Connector files that still reach them through
// `import WALReader`. A type alias to the same type is no ambiguity where both modules are imported.
// Remove each once those files import PostgresNames and PostgresWire themselves.

/// Now `PostgresNames.QualifiedTableName`; still reached this way by OutboxConnector, PoisonEvents,
/// PendingRowsHandover and ServerWatch.
public typealias QualifiedTableName = PostgresNames.QualifiedTableName
/// Now `PostgresNames.RelationLineage`; still reached this way by ServerWatch.
public typealias RelationLineage = PostgresNames.RelationLineage
/// Now `PostgresWire.PostgresTimestamp`, the one PostgreSQL timestamp type; OutboxConnector still calls
/// `PostgresMicroseconds.now`.
public typealias PostgresMicroseconds = PostgresTimestamp
