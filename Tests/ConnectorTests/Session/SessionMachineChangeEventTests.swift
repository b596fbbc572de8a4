@testable import Connector
import DebeziumFormat
@testable import KafkaClient
import PgOutputDecoder
import PostgresLSN
import PostgresNames
import Testing

/// pgoutput data-change messages made by hand (protocol 1: no xid), for the change-event path.
private enum ChangeWire {
    /// A Relation message with REPLICA IDENTITY DEFAULT; `key` marks the primary-key columns.
    static func relation(id: UInt32, schema: String, name: String, columns: [(name: String, typeOID: UInt32, key: Bool)]) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "R")] + be(id) + Array(schema.utf8) + [0] + Array(name.utf8) + [0] + [UInt8(ascii: "d")]
        bytes += be(UInt16(columns.count))
        for column in columns {
            bytes += [column.key ? 1 : 0] + Array(column.name.utf8) + [0] + be(column.typeOID) + be(Int32(-1))
        }
        return bytes
    }

    static func insert(relation: UInt32, _ values: [String?]) -> [UInt8] {
        [UInt8(ascii: "I")] + be(relation) + [UInt8(ascii: "N")] + tuple(values)
    }

    /// An UPDATE without an old tuple (the key did not change, REPLICA IDENTITY DEFAULT).
    static func update(relation: UInt32, _ values: [String?]) -> [UInt8] {
        [UInt8(ascii: "U")] + be(relation) + [UInt8(ascii: "N")] + tuple(values)
    }

    /// An UPDATE that changed the key: the old key tuple ('K'), then the new row.
    static func update(relation: UInt32, oldKey: [String?], _ values: [String?]) -> [UInt8] {
        [UInt8(ascii: "U")] + be(relation) + [UInt8(ascii: "K")] + tuple(oldKey) + [UInt8(ascii: "N")] + tuple(values)
    }

    /// A DELETE with the old key tuple ('K'): the key columns, NULL for the rest.
    static func delete(relation: UInt32, oldKey values: [String?]) -> [UInt8] {
        [UInt8(ascii: "D")] + be(relation) + [UInt8(ascii: "K")] + tuple(values)
    }

    static func truncate(relations: [UInt32]) -> [UInt8] {
        [UInt8(ascii: "T")] + be(Int32(relations.count)) + [0] + relations.flatMap(be)
    }

    private static func tuple(_ values: [String?]) -> [UInt8] {
        var bytes = be(UInt16(values.count))
        for value in values {
            if let value {
                bytes += [UInt8(ascii: "t")] + be(Int32(value.utf8.count)) + Array(value.utf8)
            } else {
                bytes += [UInt8(ascii: "n")]
            }
        }
        return bytes
    }

    private static func be<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }
}

extension MachineHarness {
    /// The captured table: `public.items (id int4 PRIMARY KEY, name text)`.
    static let items = QualifiedTableName(schema: "public", name: "items")
    static let itemsRelationID: UInt32 = 16_400
    static let itemsTable = CapturedTable(schema: "public", name: "items", columns: [
        CapturedTable.Column(name: "id", type: ChangeEventColumnType(type: .int4), optional: false, isKey: true),
        CapturedTable.Column(name: "name", type: ChangeEventColumnType(type: .text), optional: true, isKey: false),
    ])
    /// The Relation message of `public.items`, column for column as the catalog describes it.
    static let itemsRelation = ChangeWire.relation(
        id: itemsRelationID, schema: "public", name: "items", columns: [("id", 23, true), ("name", 25, false)]
    )
    /// A table the include list does not match, with the same columns.
    static let otherRelationID: UInt32 = 16_500
    static let otherRelation = ChangeWire.relation(
        id: otherRelationID, schema: "public", name: "other", columns: [("id", 23, true), ("name", 25, false)]
    )

    /// A machine publishing Debezium's change events of `public.items` (`table.include.list=public.items`,
    /// `topic.prefix=dbz`, JsonConverter without schemas), with a catalog that describes the table when asked.
    static func changeEvents(
        settings: ChangeEventSettings = ChangeEventSettings(), skippedOperations: Set<ReplicationSettings.Operation> = [.truncate],
        onError: ErrorPolicy = .fail, progress: ConnectorProgress = ConnectorProgress()
    ) throws -> MachineHarness {
        var harness = MachineHarness(onError: onError, tables: [], progress: progress)
        let json = ConverterSetting(kind: .json, options: ["schemas.enable": "false"])
        var records = DebeziumRecordSettings(
            keyConverter: json, valueConverter: json, topicPrefix: "dbz", contextHeaders: false,
            runID: "0192f0c4-0000-7000-8000-000000000000", records: .changeEvents(settings)
        )
        records.skippedOperations = skippedOperations
        let mapper = ChangeEventMapper(records: records, settings: settings, skippedOperations: skippedOperations, capturedTables: [:])
        let rules = SessionMachine.Rules(
            onError: onError, statusInterval: .seconds(1), heartbeatInterval: nil, streamMaxHeldBytes: 64 << 20,
            eventIDColumn: nil, outboxTables: [], outboxTablesByLineage: [], publicationListsTables: true,
            includeList: try TableIncludeList("public.items"), readsTable: true, publication: "dbz_pub"
        )
        harness.machine = SessionMachine(
            rules: rules, progress: progress, decoder: PgOutputDecoder(protocolVersion: 1),
            mapper: .changeEvents(mapper, messages: try DebeziumMessageWriter(settings: records), connectorName: "dbz", databaseName: "app"),
            now: harness.now
        )
        harness.catalog = { question in
            switch question {
            case .capturedTable(let table): .capturedTable(table == items ? itemsTable : nil)
            case .lineage: .lineage(nil, knownDescendantOf: nil)
            case .shape: .shape(nil)
            case .notNullColumns: .notNullColumns([])
            }
        }
        return harness
    }

    /// The records librdkafka took, as text: topic, key (nil: a null key), value (nil: a tombstone).
    var producedText: [(topic: String, key: String?, value: String?)] {
        produced.map { record in
            (record.event.topic, record.event.key.map { String(decoding: $0, as: UTF8.self) }, record.event.value.map { String(decoding: $0, as: UTF8.self) })
        }
    }

    /// What the session would leave for the next one if it broke now (the harness itself goes on unchanged).
    func interruptedIfBrokenNow() -> InterruptedTransaction? {
        var copy = machine
        return copy.sessionBroke().interrupted
    }
}

/// The change-event path of the session machine: a change's records in order, the transaction confirmed only
/// once all of them are acknowledged, and one change counted per pgoutput message however many records it makes.
@Suite("SessionMachine change events")
struct SessionMachineChangeEventTests {
    private static let commitLSN = LSN(0x2000)
    private static let commitEnd = LSN(0x2100)
    private static let items = MachineHarness.itemsRelationID

    /// One transaction, from `LSN(0x1000)` on, 0x100 apart: Begin, the Relation of `public.items`, the changes, Commit.
    private static func transaction(_ changes: [[UInt8]], commit: Bool = true) -> [[UInt8]] {
        [Wire.begin(commitLSN: commitLSN, xid: 700), MachineHarness.itemsRelation] + changes
            + (commit ? [Wire.commit(commitLSN: commitLSN, endLSN: commitEnd)] : [])
    }

    /// Where the n-th change of `transaction` is (after Begin and Relation).
    private static func changePosition(_ index: Int) -> LSN {
        LSN(0x1000 + UInt64(2 + index) * 0x100)
    }

    // MARK: - One record per change

    /// An INSERT of a captured table is one create record on `<prefix>.<schema>.<table>`, keyed by the primary key, confirmed once acknowledged.
    @Test("An INSERT becomes one create record keyed by the primary key, and its transaction is confirmed once it is acknowledged")
    func insertIsOneCreateRecord() throws {
        var harness = try MachineHarness.changeEvents()
        let actions = harness.receive(pgoutput: Self.transaction([ChangeWire.insert(relation: Self.items, ["1", "apple"])]), from: LSN(0x1000))
        #expect(actions.contains { if case .ask(.capturedTable(MachineHarness.items)) = $0 { true } else { false } }, "the catalog describes the captured table")
        let records = harness.producedText
        try #require(records.count == 1)
        #expect(records[0].topic == "dbz.public.items")
        #expect(records[0].key == #"{"id":1}"#)
        let value = try #require(records[0].value)
        #expect(value.hasPrefix(#"{"before":null,"after":{"id":1,"name":"apple"},"source":{"version":"3.6.3.Final","connector":"postgresql","name":"dbz""#), "\(value)")
        #expect(value.contains(#""op":"c""#))
        #expect(value.contains(#""db":"app""#) && value.contains(#""table":"items""#) && value.contains(#""txId":700"#))
        #expect(value.contains(#""lsn":\#(Self.changePosition(0).rawValue)"#), "the source names the change's own position: \(value)")
        #expect(harness.confirmed == .zero, "nothing acknowledged, nothing confirmed")

        harness.acknowledge()
        #expect(harness.confirmed == Self.commitEnd)
        #expect(harness.machine.progress.tracker.isIdle)
    }

    /// WAL written before `ALTER TABLE items ALTER id TYPE int8` and read after it: the Relation says int4, the
    /// catalog int8. Key membership and nullability go by the column's name, as Debezium takes them; the type is
    /// the WAL's.
    @Test("A column whose type changed since its WAL was written keeps its key membership and nullability by name")
    func typeChangedSinceTheWALKeepsTheKey() throws {
        var harness = try MachineHarness.changeEvents()
        harness.catalog = { question in
            guard case .capturedTable = question else { return .notNullColumns([]) }
            return .capturedTable(CapturedTable(schema: "public", name: "items", columns: [
                CapturedTable.Column(name: "id", type: ChangeEventColumnType(type: .int8), optional: false, isKey: true),
                CapturedTable.Column(name: "name", type: ChangeEventColumnType(type: .text), optional: true, isKey: false),
            ]))
        }
        harness.receive(pgoutput: Self.transaction([ChangeWire.insert(relation: Self.items, ["1", "apple"])]), from: LSN(0x1000))
        let records = harness.producedText
        try #require(records.count == 1)
        #expect(records[0].key == #"{"id":1}"#)
    }

    /// A DELETE makes the delete record, then a tombstone under the same key, in that order and in the same transaction.
    @Test("A DELETE becomes the delete record then its tombstone; the transaction waits for both acknowledgements")
    func deleteIsADeleteThenATombstone() throws {
        var harness = try MachineHarness.changeEvents()
        harness.receive(pgoutput: Self.transaction([ChangeWire.delete(relation: Self.items, oldKey: ["1", nil])]), from: LSN(0x1000))
        let records = harness.producedText
        try #require(records.count == 2)
        #expect(records.map(\.topic) == ["dbz.public.items", "dbz.public.items"])
        #expect(records.map(\.key) == [#"{"id":1}"#, #"{"id":1}"#])
        let delete = try #require(records[0].value)
        #expect(delete.hasPrefix(#"{"before":{"id":1,"name":null},"after":null,"#), "\(delete)")
        #expect(delete.contains(#""op":"d""#))
        #expect(records[1].value == nil, "the tombstone")
        #expect(Set(harness.produced.map(\.ticket)).count == 1, "both records belong to the transaction")

        harness.acknowledge([0])
        #expect(harness.confirmed == .zero, "the tombstone is still in flight")
        #expect(harness.machine.progress.tracker.eventsInFlight == 1)
        harness.acknowledge([1])
        #expect(harness.confirmed == Self.commitEnd)
    }

    /// The acknowledgements may come in any order: the tombstone's first confirms nothing until the delete's arrives.
    @Test("Acknowledging the tombstone before the delete record confirms nothing until the delete record too is acknowledged")
    func tombstoneAcknowledgedFirstStillWaitsForTheDelete() throws {
        var harness = try MachineHarness.changeEvents()
        harness.receive(pgoutput: Self.transaction([ChangeWire.delete(relation: Self.items, oldKey: ["1", nil])]), from: LSN(0x1000))
        try #require(harness.produced.count == 2)
        harness.acknowledge([1])
        #expect(harness.confirmed == .zero)
        harness.acknowledge([0])
        #expect(harness.confirmed == Self.commitEnd)
    }

    /// A full librdkafka queue on the tombstone pauses everything; the tombstone goes first once there is room.
    @Test("A full queue on the tombstone waits for room, then produces the tombstone before the next change")
    func fullQueueOnTheTombstoneKeepsTheOrder() throws {
        var harness = try MachineHarness.changeEvents()
        harness.producerAnswers = [.enqueued, .queueFull]
        let untilDelete = harness.receive(pgoutput: Self.transaction([ChangeWire.delete(relation: Self.items, oldKey: ["1", nil])], commit: false), from: LSN(0x1000))
        guard case .waitForQueueRoom = untilDelete.last else {
            Issue.record("expected a wait for room after the delete record: \(untilDelete)")
            return
        }
        #expect(harness.produced.count == 1, "the delete record only")
        // Messages the stream had already delivered wait behind the tombstone.
        let later = harness.receive(pgoutput: [ChangeWire.insert(relation: Self.items, ["2", "pear"]), Wire.commit(commitLSN: Self.commitLSN, endLSN: Self.commitEnd)], from: Self.changePosition(1))
        guard case .waitForQueueRoom = later.last else {
            Issue.record("still waiting for room: \(later)")
            return
        }
        #expect(harness.produced.count == 1, "nothing overtakes the tombstone")
        guard case .waitForQueueRoom = harness.machine.nextAction(now: harness.now) else {
            Issue.record("no read while the tombstone waits")
            return
        }

        harness.machine.queueMayHaveRoom()
        harness.run()
        let records = harness.producedText
        try #require(records.count == 3)
        #expect(records.map(\.key) == [#"{"id":1}"#, #"{"id":1}"#, #"{"id":2}"#])
        #expect(records[0].value?.contains(#""op":"d""#) == true)
        #expect(records[1].value == nil, "the tombstone comes second")
        #expect(records[2].value?.contains(#""op":"c""#) == true, "the next change only after it")
        harness.acknowledge()
        #expect(harness.confirmed == Self.commitEnd)
    }

    /// `tombstones.on.delete=false` leaves the tombstone out: a DELETE is one record.
    @Test("With tombstones.on.delete=false a DELETE is one record")
    func deleteWithoutTombstone() throws {
        var settings = ChangeEventSettings()
        settings.tombstonesOnDelete = false
        var harness = try MachineHarness.changeEvents(settings: settings)
        harness.receive(pgoutput: Self.transaction([ChangeWire.delete(relation: Self.items, oldKey: ["1", nil])]), from: LSN(0x1000))
        let records = harness.producedText
        try #require(records.count == 1)
        #expect(records[0].key == #"{"id":1}"#)
        #expect(records[0].value?.contains(#""op":"d""#) == true)
        harness.acknowledge()
        #expect(harness.confirmed == Self.commitEnd)
    }

    /// An UPDATE that changes the primary key is three records of one change: the old key's delete and tombstone, then the new key's create.
    @Test("A key-changing UPDATE is a delete, a tombstone and a create, produced in order and counted as one change")
    func keyChangingUpdateIsThreeRecordsOfOneChange() throws {
        var harness = try MachineHarness.changeEvents()
        harness.receive(pgoutput: Self.transaction([ChangeWire.update(relation: Self.items, oldKey: ["1", nil], ["100", "apple"])], commit: false), from: LSN(0x1000))
        let records = harness.producedText
        try #require(records.count == 3)
        #expect(records.map(\.key) == [#"{"id":1}"#, #"{"id":1}"#, #"{"id":100}"#])
        #expect(records[0].value?.contains(#""op":"d""#) == true)
        #expect(records[1].value == nil, "the old key's tombstone")
        #expect(records[2].value?.contains(#""op":"c""#) == true)
        #expect(harness.produced[0].event.headers.first?.name == "__debezium.newkey")
        #expect(harness.produced[2].event.headers.first?.name == "__debezium.oldkey")
        #expect(harness.interruptedIfBrokenNow()?.changesHandled == 1)

        harness.receive(pgoutput: [Wire.commit(commitLSN: Self.commitLSN, endLSN: Self.commitEnd)], from: Self.changePosition(1))
        harness.acknowledge([0, 1])
        #expect(harness.confirmed == .zero, "the create is still in flight")
        harness.acknowledge([2])
        #expect(harness.confirmed == Self.commitEnd)
    }

    // MARK: - Changes that make no record

    /// `skipped.operations=u` drops an UPDATE of a captured table; it still counts as a change, and its transaction confirms with nothing in flight.
    @Test("An UPDATE under skipped.operations=u makes no record, and its transaction is confirmed at its Commit")
    func skippedUpdateMakesNoRecord() throws {
        var harness = try MachineHarness.changeEvents(skippedOperations: [.update])
        harness.receive(pgoutput: Self.transaction([ChangeWire.update(relation: Self.items, ["1", "pear"])], commit: false), from: LSN(0x1000))
        #expect(harness.produced.isEmpty)
        let interrupted = try #require(harness.interruptedIfBrokenNow(), "the skipped update was handled")
        #expect(interrupted.changesHandled == 1 && interrupted.lastChangePosition == Self.changePosition(0))

        harness.receive(pgoutput: [Wire.commit(commitLSN: Self.commitLSN, endLSN: Self.commitEnd)], from: Self.changePosition(1))
        #expect(harness.produced.isEmpty)
        #expect(harness.machine.progress.tracker.eventsInFlight == 0)
        #expect(harness.confirmed == Self.commitEnd, "nothing in flight: confirmed without any acknowledgement")
    }

    /// A relation the include list does not match is not captured: its UPDATE makes no record, is counted as another table's row, and needs no catalog question.
    @Test("An UPDATE of a table not captured makes no record and is noticed as another table's row")
    func updateOfAnotherTableIsIgnored() throws {
        var harness = try MachineHarness.changeEvents()
        let actions = harness.receive(pgoutput: [
            Wire.begin(commitLSN: Self.commitLSN, xid: 700), MachineHarness.otherRelation,
            ChangeWire.update(relation: MachineHarness.otherRelationID, ["1", "pear"]),
            Wire.commit(commitLSN: Self.commitLSN, endLSN: Self.commitEnd),
        ], from: LSN(0x1000))
        #expect(harness.produced.isEmpty)
        #expect(MachineHarness.notices(actions).contains { if case .rowIgnored("public.other", .otherTable) = $0 { true } else { false } })
        #expect(MachineHarness.notices(actions).contains { if case .relationDescribed(_, MachineHarness.otherRelationID, false) = $0 { true } else { false } })
        #expect(!actions.contains { if case .ask = $0 { true } else { false } }, "no catalog question for a table not captured")
        #expect(harness.confirmed == Self.commitEnd)
    }

    /// A TRUNCATE of a captured table is one record with a null key and op `t` once `skipped.operations` leaves truncates in.
    @Test("A TRUNCATE with skipped.operations=none is one record with a null key and op t")
    func truncateIsOneRecordWhenNotSkipped() throws {
        var harness = try MachineHarness.changeEvents(skippedOperations: [])
        harness.receive(pgoutput: Self.transaction([ChangeWire.truncate(relations: [Self.items])]), from: LSN(0x1000))
        let records = harness.producedText
        try #require(records.count == 1)
        #expect(records[0].topic == "dbz.public.items")
        #expect(records[0].key == nil)
        let value = try #require(records[0].value)
        #expect(value.hasPrefix(#"{"before":null,"after":null,"#), "\(value)")
        #expect(value.contains(#""op":"t""#))
        #expect(harness.confirmed == .zero)
        harness.acknowledge()
        #expect(harness.confirmed == Self.commitEnd)
    }

    /// Debezium's default `skipped.operations=t` leaves truncates out: no record, the transaction confirmed at its Commit.
    @Test("A TRUNCATE under the default skipped.operations=t makes no record")
    func truncateIsSkippedByDefault() throws {
        var harness = try MachineHarness.changeEvents()
        harness.receive(pgoutput: Self.transaction([ChangeWire.truncate(relations: [Self.items])]), from: LSN(0x1000))
        #expect(harness.produced.isEmpty)
        #expect(harness.confirmed == Self.commitEnd)
    }

    /// One TRUNCATE naming a captured table and another is one change: the captured table's record, the other table noticed as ignored.
    @Test("A TRUNCATE of a captured and an uncaptured table makes one record and counts as one change")
    func truncateOfTwoTablesIsOneChange() throws {
        var harness = try MachineHarness.changeEvents(skippedOperations: [])
        let actions = harness.receive(pgoutput: [
            Wire.begin(commitLSN: Self.commitLSN, xid: 700), MachineHarness.itemsRelation, MachineHarness.otherRelation,
            ChangeWire.truncate(relations: [MachineHarness.otherRelationID, Self.items]),
        ], from: LSN(0x1000))
        #expect(harness.producedText.map(\.topic) == ["dbz.public.items"])
        #expect(harness.producedText.first?.key == nil)
        #expect(MachineHarness.notices(actions).contains { if case .rowIgnored("public.other", .otherTable) = $0 { true } else { false } })
        let interrupted = try #require(harness.interruptedIfBrokenNow())
        #expect(interrupted.changesHandled == 1 && interrupted.lastChangePosition == LSN(0x1300))
    }

    // MARK: - Counting changes

    /// A change whose records are not all with librdkafka is not handled yet: a break then keeps nothing to pass over.
    @Test("A DELETE counts as handled only once librdkafka has its tombstone too")
    func deleteCountsOnlyOnceTheTombstoneIsTaken() throws {
        var harness = try MachineHarness.changeEvents()
        harness.producerAnswers = [.enqueued, .queueFull]
        harness.receive(pgoutput: Self.transaction([ChangeWire.delete(relation: Self.items, oldKey: ["1", nil])], commit: false), from: LSN(0x1000))
        try #require(harness.produced.count == 1)
        #expect(harness.interruptedIfBrokenNow() == nil, "the delete record alone does not make the change handled")

        harness.machine.queueMayHaveRoom()
        harness.run()
        #expect(harness.produced.count == 2)
        let interrupted = try #require(harness.interruptedIfBrokenNow())
        #expect(interrupted.changesHandled == 1, "a delete and its tombstone are one change")
        #expect(interrupted.lastChangePosition == Self.changePosition(0))
    }

    /// A continued transaction passes over one change per pgoutput message, so a delete's two records are not produced again.
    @Test("After a break, a DELETE with its tombstone and an INSERT are passed over as two changes, and only the rest is produced")
    func continuedTransactionPassesOverMultiRecordChanges() throws {
        let delete = ChangeWire.delete(relation: Self.items, oldKey: ["1", nil])
        let firstInsert = ChangeWire.insert(relation: Self.items, ["2", "pear"])
        let secondInsert = ChangeWire.insert(relation: Self.items, ["3", "plum"])
        var first = try MachineHarness.changeEvents()
        first.receive(pgoutput: Self.transaction([delete, firstInsert], commit: false), from: LSN(0x1000))
        #expect(first.produced.count == 3)
        let progress = first.machine.sessionBroke()
        let interrupted = try #require(progress.interrupted)
        #expect(interrupted.changesHandled == 2, "three records, two changes")
        #expect(interrupted.lastChangePosition == Self.changePosition(1))

        var second = try MachineHarness.changeEvents(progress: progress)
        let actions = second.receive(pgoutput: Self.transaction([delete, firstInsert, secondInsert]), from: LSN(0x1000))
        #expect(MachineHarness.notices(actions).contains { if case .transactionContinued(700, 2, Self.commitLSN) = $0 { true } else { false } })
        let records = second.producedText
        try #require(records.count == 1, "only the change the first session had not handled")
        #expect(records[0].key == #"{"id":3}"#)
        #expect(second.produced.first?.ticket == interrupted.ticket)

        // The first session's three records are still in flight under the transaction's ticket.
        second.acknowledge()
        #expect(second.confirmed == .zero)
        second.machine.delivered(first.produced.compactMap(\.ticket).map { .acknowledged($0, at: 0, sinceProduce: 0) }, now: second.now)
        #expect(second.confirmed == Self.commitEnd)
    }

    /// A delete record librdkafka refuses at once is skipped under `--on-error skip`; its tombstone still follows and completes the change.
    @Test("A delete record refused at once under skip: the tombstone still follows, and the change counts once")
    func refusedDeleteRecordUnderSkipStillSendsTheTombstone() throws {
        var harness = try MachineHarness.changeEvents(onError: .skip)
        harness.producerAnswers = [.failed(KafkaError(code: 17, message: "topic exception"))]
        let actions = harness.receive(pgoutput: Self.transaction([ChangeWire.delete(relation: Self.items, oldKey: ["1", nil])], commit: false), from: LSN(0x1000))
        #expect(MachineHarness.notices(actions).contains { if case .skipped = $0 { true } else { false } })
        #expect(harness.machine.progress.skippedEvents == 1)
        let records = harness.producedText
        try #require(records.count == 1)
        #expect(records[0].key == #"{"id":1}"#)
        #expect(records[0].value == nil, "the tombstone")
        #expect(harness.interruptedIfBrokenNow()?.changesHandled == 1)

        harness.receive(pgoutput: [Wire.commit(commitLSN: Self.commitLSN, endLSN: Self.commitEnd)], from: Self.changePosition(1))
        #expect(harness.confirmed == .zero)
        harness.acknowledge()
        #expect(harness.confirmed == Self.commitEnd)
    }

    /// A change that cannot become records goes whole to the dead-letter topic under `--on-error dlq`: one dead letter, no tombstone, one change.
    @Test("A DELETE whose key cannot be written is one dead letter under dlq, without a tombstone, and its transaction still confirms")
    func unwritableDeleteIsOneDeadLetter() throws {
        var harness = try MachineHarness.changeEvents(onError: .deadLetter(topic: "dlq"))
        let actions = harness.receive(pgoutput: Self.transaction([ChangeWire.delete(relation: Self.items, oldKey: ["abc", nil])], commit: false), from: LSN(0x1000))
        #expect(MachineHarness.notices(actions).contains { if case .deadLettered(_, _, _, "dlq") = $0 { true } else { false } })
        let records = harness.producedText
        try #require(records.count == 1)
        #expect(records[0].topic == "dlq")
        #expect(records[0].value == #"{"id":"abc","name":null}"#, "the old key tuple, by column name")
        #expect(harness.produced[0].isDeadLetter)
        #expect(harness.interruptedIfBrokenNow()?.changesHandled == 1)

        harness.receive(pgoutput: [Wire.commit(commitLSN: Self.commitLSN, endLSN: Self.commitEnd)], from: Self.changePosition(1))
        #expect(harness.confirmed == .zero)
        harness.acknowledge()
        #expect(harness.confirmed == Self.commitEnd)
    }

    // MARK: - Settling

    /// The machine is not settled while a change's later record waits (queued, then refused room), and is once all is produced, committed and acknowledged.
    @Test("isSettled is false while the tombstone waits after the delete record was handed over")
    func notSettledWhileTheTombstoneWaits() throws {
        var harness = try MachineHarness.changeEvents()
        harness.machine.received(Wire.xLogData(Wire.begin(commitLSN: Self.commitLSN, xid: 700), at: LSN(0x1000))[...])
        harness.machine.received(Wire.xLogData(MachineHarness.itemsRelation, at: LSN(0x1100))[...])
        harness.machine.received(Wire.xLogData(ChangeWire.delete(relation: Self.items, oldKey: ["1", nil]), at: LSN(0x1200))[...])

        // Drive the machine by hand up to the delete record, and stop right after librdkafka took it.
        var deleteRecord: RecordToProduce?
        for _ in 0 ..< 100 {
            switch harness.machine.nextAction(now: harness.now) {
            case .ask(let question):
                harness.machine.answered(harness.catalog(question))
            case .produce(let record):
                deleteRecord = record
            case .notice, .sendStatus:
                continue
            case let other:
                Issue.record("unexpected \(other)")
                return
            }
            if deleteRecord != nil { break }
        }
        let record = try #require(deleteRecord)
        #expect(record.event.value.map { String(decoding: $0, as: UTF8.self) }?.contains(#""op":"d""#) == true)
        harness.machine.produced(.enqueued, now: harness.now)
        let ticket = try #require(record.ticket)
        harness.machine.delivered([.acknowledged(ticket, at: 0, sinceProduce: 0)], now: harness.now)
        #expect(!harness.machine.isSettled, "the tombstone is still queued")

        // The tombstone finds the queue full.
        guard case .produce(let tombstone) = harness.machine.nextAction(now: harness.now) else {
            Issue.record("expected the tombstone")
            return
        }
        #expect(tombstone.event.value == nil)
        harness.machine.produced(.queueFull, now: harness.now)
        #expect(!harness.machine.isSettled, "the tombstone still waits for room")

        harness.machine.queueMayHaveRoom()
        harness.producerAnswers = []
        harness.run()
        harness.receive(pgoutput: [Wire.commit(commitLSN: Self.commitLSN, endLSN: Self.commitEnd)], from: LSN(0x1300))
        try #require(harness.produced.count == 1, "the tombstone, as the harness saw it")
        #expect(harness.produced[0].event.value == nil)
        #expect(!harness.machine.isSettled, "the tombstone is not acknowledged yet")
        harness.acknowledge()
        #expect(harness.machine.isSettled)
        #expect(harness.confirmed == Self.commitEnd)
    }
}
