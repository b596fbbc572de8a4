@testable import Connector
import PgOutputDecoder
import Testing
import WALReader

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

    @Test func anOutboxTableIsKnownByItsNameWithoutAskingTheCatalog() {
        #expect(RelationRole.isKnownByName(outbox, outboxTables: [outbox, audit]))
        #expect(!RelationRole.isKnownByName(name("public.outbox_2026_01"), outboxTables: [outbox]))
        let role = RelationRole.of(outbox, outboxTables: [outbox], lineage: nil, fitsOutbox: { _ in false })
        #expect(role == .outbox(outbox))
        #expect(role.outboxTable == outbox)
    }

    @Test("A partition, a sub-partition or an inheritance child of an outbox table carries its rows")
    func descendants() {
        let partition = name("public.outbox_2026_01")
        let direct = RelationLineage(table: partition, ancestors: [outbox])
        #expect(RelationRole.of(partition, outboxTables: [outbox], lineage: direct, fitsOutbox: { _ in false })
            == .descendant(partition, of: outbox))
        let leaf = name("public.outbox_2026_01_a")
        let nested = RelationLineage(table: leaf, ancestors: [partition, outbox])
        #expect(RelationRole.of(leaf, outboxTables: [outbox], lineage: nested, fitsOutbox: { _ in false })
            == .descendant(leaf, of: outbox))
        // The nearest outbox ancestor wins when outbox tables are nested in each other.
        let child = name("audit.events_eu")
        let both = RelationLineage(table: child, ancestors: [audit, outbox])
        #expect(RelationRole.of(child, outboxTables: [outbox, audit], lineage: both, fitsOutbox: { _ in false })
            == .descendant(child, of: audit))
    }

    @Test("Another table is never taken for the outbox, even with the outbox's columns, while the catalog knows it")
    func otherTables() {
        let orders = name("public.orders")
        let role = RelationRole.of(orders, outboxTables: [outbox], lineage: RelationLineage(table: orders, ancestors: []), fitsOutbox: { _ in true })
        #expect(role == .otherTable(orders))
        #expect(role.outboxTable == nil)
        // A partition of another partitioned table.
        let other = name("public.orders_2026")
        #expect(RelationRole.of(other, outboxTables: [outbox], lineage: RelationLineage(table: other, ancestors: [orders]), fitsOutbox: { _ in true })
            == .otherTable(other))
        // The table-less outbox has no outbox table.
        #expect(RelationRole.of(outbox, outboxTables: [], lineage: nil, fitsOutbox: { _ in true }) == .otherTable(outbox))
    }

    @Test("A relation gone from the catalog is published as the outbox's when it has the outbox's columns, else counted as another table")
    func goneRelations() {
        let gone = name("public.outbox_2025_12")
        #expect(RelationRole.of(gone, outboxTables: [outbox], lineage: nil, fitsOutbox: { _ in true })
            == .goneWithOutboxColumns(gone, assumed: outbox))
        #expect(RelationRole.of(gone, outboxTables: [outbox], lineage: nil, fitsOutbox: { _ in true }).outboxTable == outbox)
        #expect(RelationRole.of(gone, outboxTables: [outbox], lineage: nil, fitsOutbox: { _ in false }) == .otherTable(gone))
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
