public import PostgresNames
public import PostgresWire

// Names that moved out of WALReader, kept for the Connector files (the connector's run and its session)
// that still reach them through `import WALReader`. A type alias to the same type is no ambiguity where both
// modules are imported. Remove each once those files import PostgresNames and PostgresWire themselves.

/// Now `PostgresNames.QualifiedTableName`.
public typealias QualifiedTableName = PostgresNames.QualifiedTableName
/// Now `PostgresNames.RelationLineage`.
public typealias RelationLineage = PostgresNames.RelationLineage
/// Now `PostgresWire.PostgresTimestamp`, the one PostgreSQL timestamp type (`PostgresMicroseconds.now` is the
/// status update's client time).
public typealias PostgresMicroseconds = PostgresTimestamp
