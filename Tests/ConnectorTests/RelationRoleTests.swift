@testable import Connector
import PgOutputDecoder
import PostgresNames
import Testing

/// Which relations of the stream carry outbox rows: decided without a server, from the name, what the
/// catalog says of the relation now, and whether it has the outbox's columns.
@Suite("RelationRole")
struct RelationRoleTests {
    private let outbox = QualifiedTableName(schema: "public", name: "outbox")
    private let audit = QualifiedTableName(schema: "audit", name: "events")

    private func name(_ text: String) -> QualifiedTableName {
        // Test names are plain schema.table.
        let parts = text.split(separator: ".")
        return QualifiedTableName(schema: String(parts[0]), name: String(parts[1]))
    }

    /// The role with what a FOR TABLE publication and an empty family give, unless a test says otherwise.
    private func role(
        _ name: QualifiedTableName, _ tables: [QualifiedTableName], lineage: RelationLineage?, known: QualifiedTableName? = nil,
        listsTables: Bool = true, fits: Bool = false
    ) -> RelationRole {
        RelationRole.of(name, outboxTables: tables, knownDescendantOf: known, lineage: lineage, publicationListsTables: listsTables, fitsOutbox: fits)
    }

    @Test func anOutboxTableIsKnownByItsNameWithoutAskingTheCatalog() {
        #expect(RelationRole.isKnownByName(outbox, outboxTables: [outbox, audit]))
        #expect(!RelationRole.isKnownByName(name("public.outbox_2026_01"), outboxTables: [outbox]))
        #expect(role(outbox, [outbox], lineage: nil) == .outbox(outbox))
        #expect(role(outbox, [outbox], lineage: nil).outboxTable == outbox)
    }

    @Test("A partition, a sub-partition or an inheritance child of an outbox table carries its rows")
    func descendants() {
        let partition = name("public.outbox_2026_01")
        #expect(role(partition, [outbox], lineage: RelationLineage(table: partition, ancestors: [outbox])) == .descendant(partition, of: outbox))
        let leaf = name("public.outbox_2026_01_a")
        #expect(role(leaf, [outbox], lineage: RelationLineage(table: leaf, ancestors: [partition, outbox])) == .descendant(leaf, of: outbox))
        // The nearest outbox ancestor wins when outbox tables are nested in each other.
        let child = name("audit.events_eu")
        #expect(role(child, [outbox, audit], lineage: RelationLineage(table: child, ancestors: [audit, outbox])) == .descendant(child, of: audit))
    }

    @Test("A partition this run saw stays the outbox's after it is detached or dropped, whatever the catalog says now")
    func knownFamily() {
        let detached = name("public.outbox_2026_01")
        #expect(role(detached, [outbox], lineage: RelationLineage(table: detached, ancestors: []), known: outbox) == .descendant(detached, of: outbox))
        #expect(role(detached, [outbox], lineage: nil, known: outbox, listsTables: false) == .descendant(detached, of: outbox))
    }

    @Test("Another table is never taken for the outbox while the catalog knows it; with the outbox's columns it is warned about")
    func otherTables() {
        let orders = name("public.orders")
        #expect(role(orders, [outbox], lineage: RelationLineage(table: orders, ancestors: [])) == .otherTable(orders))
        #expect(role(orders, [outbox], lineage: RelationLineage(table: orders, ancestors: [])).outboxTable == nil)
        let archive = name("public.outbox_archive")
        #expect(role(archive, [outbox], lineage: RelationLineage(table: archive, ancestors: []), fits: true) == .otherTableWithOutboxColumns(archive))
        #expect(role(archive, [outbox], lineage: RelationLineage(table: archive, ancestors: []), fits: true).outboxTable == nil)
        // A partition of another partitioned table.
        let other = name("public.orders_2026")
        #expect(role(other, [outbox], lineage: RelationLineage(table: other, ancestors: [orders])) == .otherTable(other))
        // The table-less outbox has no outbox table.
        #expect(role(outbox, [], lineage: nil, fits: true) == .otherTable(outbox))
    }

    @Test("A relation gone from the catalog: published as the outbox's only when it has its columns and the publication lists tables")
    func goneRelations() {
        let gone = name("public.outbox_2025_12")
        #expect(role(gone, [outbox], lineage: nil, fits: true) == .goneWithOutboxColumns(gone, assumed: outbox))
        #expect(role(gone, [outbox], lineage: nil, fits: true).outboxTable == outbox)
        // FOR ALL TABLES or a schema: a dropped copy of the outbox cannot be told from a partition.
        #expect(role(gone, [outbox], lineage: nil, listsTables: false, fits: true) == .otherTableWithOutboxColumns(gone))
        #expect(role(gone, [outbox], lineage: nil, fits: false) == .otherTable(gone))
    }

    @Test func theFamilyKeepsWhatItSaw() {
        let family = OutboxFamily()
        family.record([10, 11], of: outbox)
        family.record([11, 12], of: audit)
        #expect(family.outboxTable(ofDescendant: 10) == outbox)
        #expect(family.outboxTable(ofDescendant: 11) == outbox, "the first outbox table recorded keeps it")
        #expect(family.outboxTable(ofDescendant: 12) == audit)
        #expect(family.outboxTable(ofDescendant: 13) == nil)
    }

    @Test("The mapper registers a partition's Relation as its outbox table's and maps its rows")
    func mapperTakesAPartitionAsTheOutbox() throws {
        let partition = PgOutputMessage.Relation(
            transactionID: nil, relationID: 90_001, namespace: "public", name: "outbox_2026_01", replicaIdentity: .default,
            columns: ["id", "aggregatetype", "aggregateid", "type", "payload", "created_at"].map {
                PgOutputMessage.Relation.Column(flags: 0, name: $0, typeOID: $0 == "payload" ? 3802 : 25, typeModifier: -1)
            }
        )
        var mapper = OutboxEventMapper(table: outbox)
        #expect(mapper.fits(partition))
        #expect(try mapper.register(partition) == false, "by its own name it is not the outbox")
        #expect(try mapper.register(partition, as: outbox))
        let row = PgOutputMessage.Insert(transactionID: nil, relationID: 90_001, newTuple: .init(columns: [
            .text(utf8("5f0c3b4e-8d2a-4c59-9a7e-0e1f2a3b4c5d")), .text(utf8("Order")), .text(utf8("o-1")), .text(utf8("t")),
            .text(utf8("{}")), .text(utf8("2026-01-02 00:00:00+00")),
        ]))
        let event = try #require(try mapper.event(for: row))
        #expect(event.topic == "outbox.event.Order")
        #expect(event.key.map { String(decoding: $0, as: UTF8.self) } == "o-1")

        let unrelated = PgOutputMessage.Relation(
            transactionID: nil, relationID: 90_002, namespace: "public", name: "orders", replicaIdentity: .default,
            columns: [PgOutputMessage.Relation.Column(flags: 0, name: "id", typeOID: 20, typeModifier: -1)]
        )
        #expect(!mapper.fits(unrelated))
        #expect(try mapper.register(unrelated, as: nil) == false)
        #expect(try mapper.event(for: PgOutputMessage.Insert(transactionID: nil, relationID: 90_002, newTuple: .init(columns: [.text(utf8("1"))]))) == nil)
    }
}
