import DebeziumFormat
public import PostgresNames
public import WALReader

/// Why a table cannot be captured as Debezium's change events describe it.
public enum CapturedTableError: Error, Sendable, CustomStringConvertible {
    case notFound(QualifiedTableName)
    /// A column whose type's Debezium form outbox-cdc does not reproduce: named with its type, never guessed.
    case unsupportedColumn(table: QualifiedTableName, column: String, type: String, oid: UInt32)
    case catalog(PostgresError)

    public var description: String {
        switch self {
        case .notFound(let table): "table \(table) does not exist (or is no ordinary or partitioned table)"
        case .unsupportedColumn(let table, let column, let type, let oid):
            "column \(column) of table \(table) has type \(type) (oid \(oid)), whose Debezium change-event form outbox-cdc does not reproduce;"
                + " leave the table out of table.include.list or change the column's type"
        case .catalog(let error): "could not read the catalog: \(error)"
        }
    }
}

extension PostgresConnection {
    /// What Debezium's change events say of `table` that pgoutput does not: each column's nullability, its
    /// schema default (from its default expression, `DebeziumColumnDefault`), whether it is in the primary key
    /// (the record key; with REPLICA IDENTITY FULL pgoutput marks every column) and an enum type's labels.
    /// Columns in table order, as pgoutput sends them.
    func capturedTable(_ table: QualifiedTableName, modes: ColumnValueModes) throws(CapturedTableError) -> CapturedTable {
        let rows: [[String?]]
        do {
            rows = try query("""
                SELECT a.attname, a.atttypid::int8, a.atttypmod, a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
                       COALESCE(a.attnum = ANY(i.indkey::int2[]), false), format_type(a.atttypid, a.atttypmod),
                       (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)::text FROM pg_enum e WHERE e.enumtypid = a.atttypid)
                FROM pg_attribute a
                JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
                LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
                WHERE n.nspname = \(try literal(table.schema)) AND c.relname = \(try literal(table.name))
                  AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum
                """).rows
        } catch {
            throw .catalog(error)
        }
        guard !rows.isEmpty else { throw .notFound(table) }
        var columns: [CapturedTable.Column] = []
        for row in rows {
            guard row.count == 8, let name = row[0], let oid = row[1].flatMap({ UInt32($0) }) else { throw .notFound(table) }
            let labels = row[7].flatMap(ChangeEventColumnType.arrayElements).map { $0.map { $0 ?? "" } }
            let type = ChangeEventColumnType(
                type: PostgresColumnType(oid: oid, typmod: row[2].flatMap { Int32($0) } ?? -1), enumLabels: labels, modes: modes
            )
            guard type.isSupported else {
                throw .unsupportedColumn(table: table, column: name, type: row[6] ?? "unknown", oid: oid)
            }
            columns.append(CapturedTable.Column(
                name: name, type: type, optional: row[3] != "t", defaultValue: DebeziumColumnDefault.value(expression: row[4], type: type),
                isKey: row[5] == "t"
            ))
        }
        return CapturedTable(schema: table.schema, name: table.name, columns: columns)
    }
}
