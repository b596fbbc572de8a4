public import PostgresNames

/// How an outbox table is built, which decides how its rows reach the publication.
public enum OutboxTableShape: Sendable, Equatable {
    /// A plain table: its rows are published under its own name.
    case ordinary
    /// A declaratively partitioned table with these partitions (leaves, as the catalog lists them now). Its
    /// rows are stored in the partitions; a publication with `publish_via_partition_root = true` publishes
    /// them under the partitioned table's name.
    case partitioned(partitions: [QualifiedTableName])
    /// A table with inheritance children (`INHERITS`): their rows are published under each child's own name,
    /// and only when the publication lists the child.
    case inheritanceParent(children: [QualifiedTableName])
    /// The table is itself a partition of `root`.
    case partition(of: QualifiedTableName)

    /// For the start log and `status`.
    public var summary: String {
        switch self {
        case .ordinary: return "ordinary table"
        case .partitioned(let partitions): return "partitioned table with \(partitions.count) partition(s)"
        case .inheritanceParent(let children): return "table with \(children.count) inheritance child(ren)"
        case .partition(let root): return "partition of \(root)"
        }
    }
}

/// A publication's settings that decide which rows reach outbox-cdc and under which name.
public struct PublicationSettings: Sendable, Equatable {
    public var publishesInserts: Bool
    public var allTables: Bool
    /// `publish_via_partition_root`: a partition's rows are published as its partitioned root's.
    public var viaPartitionRoot: Bool
    /// It publishes whole schemas (`FOR TABLES IN SCHEMA`).
    public var includesSchemas: Bool

    public init(publishesInserts: Bool, allTables: Bool, viaPartitionRoot: Bool, includesSchemas: Bool = false) {
        self.publishesInserts = publishesInserts
        self.allTables = allTables
        self.viaPartitionRoot = viaPartitionRoot
        self.includesSchemas = includesSchemas
    }

    /// It names its tables one by one: what it sends is those tables and their partitions and children.
    public var listsTables: Bool { !allTables && !includesSchemas }

    /// How rows of a table of this shape reach this publication, in words, for the start log and `status`.
    public func route(for shape: OutboxTableShape) -> String {
        switch shape {
        case .ordinary:
            return "rows published under the table's name"
        case .partitioned:
            return viaPartitionRoot
                ? "rows published under the partitioned table's name (publish_via_partition_root = true)"
                : "rows published under each partition's name (publish_via_partition_root = false)"
        case .inheritanceParent:
            return "rows of each child published under the child's name and mapped to the parent"
        case .partition:
            return "rows published under the partition's name"
        }
    }
}

extension PostgresConnection {
    /// Every ordinary and partitioned table outside the system schemas, for matching Debezium's
    /// `table.include.list`.
    public func catalogTables() throws(PostgresError) -> [QualifiedTableName] {
        try query("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
            ORDER BY 1, 2
            """).rows.compactMap { row in
            guard row.count == 2, let schema = row[0], let name = row[1] else { return nil }
            return QualifiedTableName(schema: schema, name: name)
        }
    }

    /// `to_regclass('"schema"."name"')`: the table's OID, or NULL when there is none; takes no lock.
    func regclass(_ table: QualifiedTableName) throws(PostgresError) -> String {
        "to_regclass(\(try literal(try identifier(table))))"
    }

    /// `WITH RECURSIVE down(relid, depth)`: every partition and inheritance child of the relation `parent` (an
    /// OID expression), at any depth; both kinds are recorded in `pg_inherits`.
    static func descendants(of parent: String) -> String {
        """
        WITH RECURSIVE down(relid, depth) AS (
            SELECT inhrelid, 1 FROM pg_inherits WHERE inhparent = \(parent)
            UNION ALL
            SELECT i.inhrelid, d.depth + 1 FROM pg_inherits i JOIN down d ON i.inhparent = d.relid WHERE d.depth < 64
        )
        """
    }

    /// Whether the publication row `p` publishes the relation row `c` itself: all tables, the table listed, or
    /// its schema published. (A partition is also published through an ancestor listed via the root.)
    static let publishesRelation = """
        p.puballtables
        OR EXISTS (SELECT 1 FROM pg_publication_rel r WHERE r.prpubid = p.oid AND r.prrelid = c.oid)
        OR EXISTS (SELECT 1 FROM pg_publication_namespace s WHERE s.pnpubid = p.oid AND s.pnnspid = c.relnamespace)
        """

    /// The shape of a table; nil when there is no such table.
    public func tableShape(of table: QualifiedTableName) throws(PostgresError) -> OutboxTableShape? {
        let rows = try query("""
            SELECT c.oid::int8, c.relkind, c.relispartition FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(try literal(table.schema)) AND c.relname = \(try literal(table.name))
            """)
        guard let row = rows.rows.first, row.count == 3, let oid = row[0] else { return nil }
        if row[2] == "t" {
            let root = try query("""
                SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.oid = pg_partition_root(\(oid)::oid)
                """).rows.first
            if let root, root.count == 2, let schema = root[0], let name = root[1] {
                return .partition(of: QualifiedTableName(schema: schema, name: name))
            }
        }
        // Every descendant, partitions and inheritance children alike (both are recorded in pg_inherits).
        let descendants = try query("""
            \(Self.descendants(of: "\(oid)::oid"))
            SELECT DISTINCT n.nspname, c.relname, c.relkind FROM down d JOIN pg_class c ON c.oid = d.relid
            JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY 1, 2
            """).rows.compactMap { row -> (QualifiedTableName, String)? in
            guard row.count == 3, let schema = row[0], let name = row[1], let kind = row[2] else { return nil }
            return (QualifiedTableName(schema: schema, name: name), kind)
        }
        if row[1] == "p" {
            // Leaves hold the rows; a partitioned partition only routes them on.
            return .partitioned(partitions: descendants.filter { $0.1 != "p" }.map(\.0))
        }
        return descendants.isEmpty ? .ordinary : .inheritanceParent(children: descendants.map(\.0))
    }

    /// The publication's settings; nil when there is no such publication.
    public func publicationSettings(_ publication: String) throws(PostgresError) -> PublicationSettings? {
        let rows = try query("""
            SELECT p.pubinsert, p.puballtables, p.pubviaroot,
                   EXISTS (SELECT 1 FROM pg_publication_namespace s WHERE s.pnpubid = p.oid) AS schemas
            FROM pg_publication p WHERE p.pubname = \(try literal(publication))
            """)
        guard !rows.rows.isEmpty else { return nil }
        return PublicationSettings(
            publishesInserts: rows[0, "pubinsert"] == "t", allTables: rows[0, "puballtables"] == "t",
            viaPartitionRoot: rows[0, "pubviaroot"] == "t", includesSchemas: rows[0, "schemas"] == "t"
        )
    }

    /// The relation ids (OIDs) of every partition and inheritance child of a table, at any depth.
    public func descendantIDs(of table: QualifiedTableName) throws(PostgresError) -> [UInt32] {
        try query("""
            \(Self.descendants(of: try regclass(table)))
            SELECT DISTINCT relid::int8 FROM down
            """).rows.compactMap { $0.first.flatMap { $0 }.flatMap { UInt32($0) } }
    }

    /// The row filter (`FOR TABLE … WHERE …`, PostgreSQL 15+) the publication applies to a table, if any: rows
    /// it filters out are never sent, so outbox-cdc can neither publish nor count them.
    public func publicationRowFilter(_ publication: String, table: QualifiedTableName) throws(PostgresError) -> String? {
        let rows = try query("""
            SELECT pg_get_expr(r.prqual, r.prrelid) AS filter FROM pg_publication_rel r
            JOIN pg_publication p ON p.oid = r.prpubid
            WHERE p.pubname = \(try literal(publication)) AND r.prqual IS NOT NULL
              AND r.prrelid = \(try regclass(table))
            """)
        return rows.rows.first?.first ?? nil
    }

    /// The relation with this id (its OID) as the catalog holds it now, with its ancestors; nil when it no
    /// longer exists. Reads `pg_class` and `pg_inherits` only, taking no lock on the relation.
    public func relationLineage(of relationID: UInt32) throws(PostgresError) -> RelationLineage? {
        let rows = try query("""
            WITH RECURSIVE up(relid, depth) AS (
                SELECT \(relationID)::oid, 0
                UNION ALL
                SELECT i.inhparent, u.depth + 1 FROM pg_inherits i JOIN up u ON i.inhrelid = u.relid WHERE u.depth < 64
            )
            SELECT n.nspname, c.relname, u.depth FROM up u JOIN pg_class c ON c.oid = u.relid
            JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY u.depth, 1, 2
            """)
        var names: [(QualifiedTableName, depth: Int)] = []
        for row in rows.rows where row.count == 3 {
            guard let schema = row[0], let name = row[1], let depth = row[2].flatMap({ Int($0) }) else { continue }
            names.append((QualifiedTableName(schema: schema, name: name), depth))
        }
        guard let own = names.first, own.depth == 0 else { return nil }
        var ancestors: [QualifiedTableName] = []
        for (name, _) in names.dropFirst() where !ancestors.contains(name) { ancestors.append(name) }
        return RelationLineage(table: own.0, ancestors: ancestors)
    }
}
