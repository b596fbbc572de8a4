import PgOutputDecoder
import PostgresLSN
import Testing

/// Decodes the messages captured from PostgreSQL 15 (protocols 1 to 3) and 18 (protocol 4; see
/// scripts/capture-pgoutput-fixtures) and checks the values the capture SQL put in. Values that change with
/// every capture (xids, OIDs of new tables, LSNs, commit and abort times) are checked for consistency between
/// messages instead of against constants.
@Suite("Fixtures from PostgreSQL")
struct FixtureDecodingTests {
    // Built-in type OIDs (pg_type.dat); stable across PostgreSQL versions.
    static let int4: UInt32 = 23, int8: UInt32 = 20, text: UInt32 = 25, jsonb: UInt32 = 3802, bytea: UInt32 = 17
    static let uuid: UInt32 = 2950, numeric: UInt32 = 1700, varchar: UInt32 = 1043, bool: UInt32 = 16
    static let timestamptz: UInt32 = 1184

    @Test("every fixture decodes completely, in order", arguments: Fixture.all)
    func everyMessageDecodes(fixture: Fixture) throws {
        let decoded = try fixture.decodeAll()
        #expect(decoded.count == (try fixture.messages().count))
        #expect(decoded.count >= 4)
        // A capture always ends outside a streamed block.
        var decoder = fixture.makeDecoder()
        for message in decoded { _ = try decoder.decode(message.bytes) }
        #expect(!decoder.isInsideStreamBlock)
    }

    @Test("transaction framing: Begin/Commit LSNs and timestamps agree", arguments: Fixture.all)
    func transactionFraming(fixture: Fixture) throws {
        var openBegin: PgOutputMessage.Begin?
        var lastEnd = LSN.zero
        var commits = 0
        for entry in try fixture.decodeAll() {
            switch entry.message {
            case .begin(let begin):
                #expect(openBegin == nil, "Begin inside a transaction")
                openBegin = begin
                // A plausible capture time (after 2024-01-01), converted without Foundation.
                let unix = try #require(begin.commitTimestamp.unixEpochMicroseconds)
                #expect(unix > 1_704_067_200_000_000)
            case .commit(let commit):
                let begin = try #require(openBegin, "Commit without Begin")
                #expect(commit.flags == 0)
                #expect(commit.commitLSN == begin.finalLSN)
                #expect(commit.endLSN > commit.commitLSN)
                #expect(commit.commitTimestamp == begin.commitTimestamp)
                #expect(commit.commitLSN > lastEnd, "transactions arrive in commit order")
                lastEnd = commit.endLSN
                openBegin = nil
                commits += 1
            case .insert(let change):
                #expect(change.transactionID == nil || entry.decoderBefore.isInsideStreamBlock)
            default:
                break
            }
        }
        #expect(openBegin == nil)
        if fixture.protocolVersion == 1 { #expect(commits >= 1) }
    }

    @Test func protocol1Basic() throws {
        let messages = try Fixture(name: "proto1_basic", protocolVersion: 1).decodeAll().map(\.message)
        try #require(messages.count == 5)

        guard case .begin(let begin) = messages[0], case .relation(let relation) = messages[1],
              case .insert(let first) = messages[2], case .insert(let second) = messages[3],
              case .commit(let commit) = messages[4]
        else {
            Issue.record("unexpected message sequence: \(messages)")
            return
        }
        #expect(begin.finalLSN == commit.commitLSN)
        #expect(relation.transactionID == nil)
        #expect(relation.namespace == "public")
        #expect(relation.name == "basic")
        #expect(relation.replicaIdentity == .default)
        #expect(relation.columns.map(\.name) == [
            "id", "name", "note", "payload", "blob", "uid", "price", "code", "flag", "created_at",
        ])
        #expect(relation.columns.map(\.typeOID) == [
            Self.int4, Self.text, Self.text, Self.jsonb, Self.bytea, Self.uuid, Self.numeric, Self.varchar, Self.bool,
            Self.timestamptz,
        ])
        // numeric(10,2): (10 << 16 | 2) + 4; varchar(20): 20 + 4; the others have no modifier.
        #expect(relation.columns.map(\.typeModifier) == [-1, -1, -1, -1, -1, -1, 655_366, 24, -1, -1])
        #expect(relation.columns.map(\.isKey) == [true] + Array(repeating: false, count: 9))

        #expect(first.relationID == relation.relationID)
        #expect(first.transactionID == nil)
        #expect(first.newTuple.texts == [
            "1", "first", "héllo wörld", #"{"a": 1, "b": [true, null]}"#, #"\xdeadbeef00"#,
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "1234.50", "CODE-1", "t", "2024-01-02 03:04:05.678901+00",
        ])
        #expect(first.newTuple.columns[1] == .text(Array("first".utf8)[...]))
        #expect(second.newTuple.texts == ["2", "second"] + Array(repeating: "<null>", count: 8))
    }

    @Test func updatesAndDeletes() throws {
        let messages = try Fixture(name: "proto1_update_delete", protocolVersion: 1).decodeAll().map(\.message)
        let relations = messages.compactMap { if case .relation(let r) = $0 { r } else { nil } }
        let updates = messages.compactMap { if case .update(let u) = $0 { u } else { nil } }
        let deletes = messages.compactMap { if case .delete(let d) = $0 { d } else { nil } }
        try #require(relations.count == 2 && updates.count == 3 && deletes.count == 2)

        let keyed = relations[0], fullRow = relations[1]
        #expect(keyed.name == "keyed" && keyed.replicaIdentity == .default)
        #expect(keyed.columns.map(\.isKey) == [true, false])
        #expect(fullRow.name == "full_row" && fullRow.replicaIdentity == .full)
        // Under REPLICA IDENTITY FULL every column is part of the identity.
        #expect(fullRow.columns.map(\.isKey) == [true, true])
        #expect(fullRow.columns.map(\.flags) == [1, 1])

        // No key change, default identity: no old tuple.
        #expect(updates[0].relationID == keyed.relationID)
        #expect(updates[0].oldTuple == nil)
        #expect(updates[0].newTuple.texts == ["1", "uno"])
        // Key change: the old key ('K'), non-key columns null.
        #expect(updates[1].oldTuple?.kind == .key)
        #expect(updates[1].oldTuple?.tuple.texts == ["2", "<null>"])
        #expect(updates[1].newTuple.texts == ["10", "two"])
        #expect(deletes[0].relationID == keyed.relationID)
        #expect(deletes[0].oldTuple.kind == .key)
        #expect(deletes[0].oldTuple.tuple.texts == ["1", "<null>"])
        // REPLICA IDENTITY FULL: the whole old row ('O').
        #expect(updates[2].relationID == fullRow.relationID)
        #expect(updates[2].oldTuple?.kind == .full)
        #expect(updates[2].oldTuple?.tuple.texts == ["1", "one"])
        #expect(updates[2].newTuple.texts == ["1", "uno"])
        #expect(deletes[1].oldTuple.kind == .full)
        #expect(deletes[1].oldTuple.tuple.texts == ["2", "two"])
    }

    @Test func unchangedToastColumn() throws {
        let messages = try Fixture(name: "proto1_toast", protocolVersion: 1).decodeAll().map(\.message)
        guard case .relation(let relation) = messages[1], case .update(let update) = messages[2] else {
            Issue.record("unexpected message sequence: \(messages)")
            return
        }
        #expect(relation.columns.map(\.name) == ["id", "title", "body"])
        #expect(update.oldTuple == nil)
        #expect(update.newTuple.columns == [.text(Array("1".utf8)[...]), .text(Array("final".utf8)[...]), .unchangedToast])
    }

    @Test func truncate() throws {
        let messages = try Fixture(name: "proto1_truncate", protocolVersion: 1).decodeAll().map(\.message)
        let relations = Dictionary(
            uniqueKeysWithValues: messages.compactMap { if case .relation(let r) = $0 { (r.name, r.relationID) } else { nil } })
        let truncates = messages.compactMap { if case .truncate(let t) = $0 { t } else { nil } }
        try #require(truncates.count == 2)

        #expect(truncates[0].options == [])
        #expect(truncates[0].relationIDs == [try #require(relations["standalone"])])
        #expect(truncates[1].options == [.cascade, .restartIdentity])
        #expect(truncates[1].options.rawValue == 3)
        #expect(truncates[1].relationIDs == [try #require(relations["parent"]), try #require(relations["child"])])
        #expect(truncates.allSatisfy { $0.transactionID == nil })
    }

    @Test func logicalMessages() throws {
        let messages = try Fixture(name: "proto1_messages", protocolVersion: 1).decodeAll().map(\.message)
        let logical = messages.compactMap { if case .message(let m) = $0 { m } else { nil } }
        try #require(logical.count == 2)

        #expect(logical[0].isTransactional)
        #expect(logical[0].prefix == "outbox")
        #expect(logical[0].content.elementsEqual("transactional content".utf8))
        #expect(!logical[1].isTransactional)
        #expect(logical[1].prefix == "heartbeat")
        #expect(Array(logical[1].content) == [0x00, 0xFF, 0x10])

        // The transactional message sits inside its transaction, before the commit record.
        guard case .commit(let commit) = messages[4] else {
            Issue.record("expected the first transaction's Commit at index 4: \(messages[4])")
            return
        }
        #expect(logical[0].lsn <= commit.commitLSN)
        #expect(logical[1].lsn > commit.endLSN)
    }

    @Test func origin() throws {
        let messages = try Fixture(name: "proto1_origin", protocolVersion: 1).decodeAll().map(\.message)
        guard case .begin(let begin) = messages[0], case .origin(let origin) = messages[1] else {
            Issue.record("expected Begin then Origin: \(messages)")
            return
        }
        #expect(origin.name == "upstream_a")
        #expect(origin.originLSN == LSN(0xAB_CDEF12))
        #expect(origin.originLSN.description == "0/ABCDEF12")
        // pg_replication_origin_xact_setup also sets the transaction's commit time.
        #expect(begin.commitTimestamp.description == "2024-01-02T03:04:05.000000Z")
        #expect(begin.commitTimestamp.unixEpochMicroseconds == 1_704_164_645_000_000)
    }

    @Test func typeMessages() throws {
        let messages = try Fixture(name: "proto1_type", protocolVersion: 1).decodeAll().map(\.message)
        let types = messages.compactMap { if case .type(let t) = $0 { t } else { nil } }
        let relation = try #require(messages.lazy.compactMap { if case .relation(let r) = $0 { r } else { nil } }.first)
        let insert = try #require(messages.lazy.compactMap { if case .insert(let i) = $0 { i } else { nil } }.first)
        try #require(types.count == 2)

        #expect(types.map(\.namespace) == ["public", "public"])
        #expect(types.map(\.name) == ["mood", "point2"])
        #expect(relation.columns.map(\.typeOID) == [Self.int4, types[0].typeOID, types[1].typeOID])
        #expect(insert.newTuple.texts == ["1", "happy", "(3,4)"])
    }

    @Test func binaryColumns() throws {
        let messages = try Fixture(name: "proto1_binary", protocolVersion: 1).decodeAll().map(\.message)
        let insert = try #require(messages.lazy.compactMap { if case .insert(let i) = $0 { i } else { nil } }.first)
        let uuid: [UInt8] = [
            0xA0, 0xEE, 0xBC, 0x99, 0x9C, 0x0B, 0x4E, 0xF8, 0xBB, 0x6D, 0x6B, 0xB9, 0xBD, 0x38, 0x0A, 0x11,
        ]
        #expect(insert.newTuple.columns == [
            .binary([0, 0, 0, 7]),
            .binary([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]),
            .binary(Array("bin".utf8)[...]),
            .binary(uuid[...]),
            .binary([1]),
            .null,
        ])
    }

    @Test func streamingProtocol2() throws {
        let decoded = try Fixture(name: "proto2_streaming", protocolVersion: 2).decodeAll()
        let messages = decoded.map(\.message)

        // The small transaction comes first, as an ordinary Begin ... Commit without in-stream xids.
        guard case .begin = messages[0], case .relation(let side) = messages[1], case .insert(let small) = messages[2],
              case .commit = messages[3]
        else {
            Issue.record("unexpected opening sequence: \(messages.prefix(4))")
            return
        }
        #expect(side.name == "side" && side.transactionID == nil)
        #expect(small.transactionID == nil && small.newTuple.texts == ["3", "three"])

        // Group the streamed blocks and check their xids.
        var currentStream: PgOutputMessage.StreamStart?
        var startsPerTransaction: [UInt32: [Bool]] = [:]
        var inStreamXIDs: [UInt32: Set<UInt32>] = [:]
        var commits: [PgOutputMessage.StreamCommit] = []
        var aborts: [PgOutputMessage.StreamAbort] = []
        var kindsInStreams: Set<String> = []
        for entry in decoded.dropFirst(4) {
            #expect(entry.decoderBefore.isInsideStreamBlock == (currentStream != nil))
            switch entry.message {
            case .streamStart(let start):
                currentStream = start
                startsPerTransaction[start.transactionID, default: []].append(start.isFirstSegment)
            case .streamStop:
                currentStream = nil
            case .streamCommit(let commit):
                commits.append(commit)
            case .streamAbort(let abort):
                aborts.append(abort)
            case let change:
                let stream = try #require(currentStream, "change outside a stream block: \(change)")
                let xid = try #require(change.streamedTransactionID ?? nil, "in-stream change without xid: \(change)")
                inStreamXIDs[stream.transactionID, default: []].insert(xid)
                kindsInStreams.insert(change.caseName)
            }
        }

        #expect(kindsInStreams == ["message", "relation", "update", "delete", "type", "insert", "truncate"])
        // Three large transactions; each one's first block is flagged first, the later ones are not.
        #expect(startsPerTransaction.count == 3)
        for (_, flags) in startsPerTransaction {
            #expect(flags.first == true)
            #expect(flags.dropFirst().allSatisfy { !$0 })
        }

        try #require(commits.count == 2 && aborts.count == 2)
        let committedXIDs = commits.map(\.transactionID)
        // The whole rolled-back transaction: xid == subxid.
        #expect(aborts[0].transactionID == aborts[0].subtransactionID)
        #expect(!committedXIDs.contains(aborts[0].transactionID))
        #expect(aborts[0].abortLSN == nil && aborts[0].abortTimestamp == nil)
        // The rolled-back savepoint: its changes carried the subtransaction's xid inside the parent's blocks.
        #expect(aborts[1].transactionID != aborts[1].subtransactionID)
        #expect(committedXIDs.last == aborts[1].transactionID)
        #expect(inStreamXIDs[aborts[1].transactionID] == [aborts[1].transactionID, aborts[1].subtransactionID])
        // Every other streamed change carries its own transaction's xid.
        for xid in [committedXIDs[0], aborts[0].transactionID] {
            #expect(inStreamXIDs[xid] == [xid])
        }
        for commit in commits {
            #expect(commit.flags == 0)
            #expect(commit.endLSN > commit.commitLSN)
        }
        #expect(commits[0].endLSN < commits[1].commitLSN)

        // Spot-check streamed contents.
        let streamedMessage = try #require(messages.lazy.compactMap { if case .message(let m) = $0 { m } else { nil } }.first)
        #expect(streamedMessage.transactionID == committedXIDs[0])
        #expect(streamedMessage.isTransactional && streamedMessage.prefix == "stream")
        #expect(streamedMessage.content.elementsEqual("in a streamed transaction".utf8))
        let firstBulkInsert = try #require(messages.lazy.compactMap { message -> PgOutputMessage.Insert? in
            if case .insert(let insert) = message, insert.transactionID != nil { insert } else { nil }
        }.first)
        #expect(firstBulkInsert.newTuple.texts == ["1", "new", String(repeating: "x", count: 290) + "1"])
        let streamedTruncate = try #require(messages.lazy.compactMap { if case .truncate(let t) = $0 { t } else { nil } }.first)
        #expect(streamedTruncate.relationIDs == [side.relationID])
        #expect(streamedTruncate.transactionID == committedXIDs[0])
    }

    @Test func twoPhaseProtocol3() throws {
        let decoded = try Fixture(name: "proto3_two_phase", protocolVersion: 3).decodeAll()
        let messages = decoded.map(\.message)
        let beginPrepares = messages.compactMap { if case .beginPrepare(let m) = $0 { m } else { nil } }
        let prepares = messages.compactMap { if case .prepare(let m) = $0 { m } else { nil } }
        let commitPrepareds = messages.compactMap { if case .commitPrepared(let m) = $0 { m } else { nil } }
        let rollbackPrepareds = messages.compactMap { if case .rollbackPrepared(let m) = $0 { m } else { nil } }
        let streamPrepares = messages.compactMap { if case .streamPrepare(let m) = $0 { m } else { nil } }
        let streamStarts = messages.compactMap { if case .streamStart(let m) = $0 { m } else { nil } }
        try #require(beginPrepares.count == 2 && prepares.count == 2 && commitPrepareds.count == 2)
        try #require(rollbackPrepareds.count == 1 && streamPrepares.count == 1 && !streamStarts.isEmpty)

        #expect(beginPrepares.map(\.gid) == ["fixture-gid-commit", "fixture-gid-rollback"])
        for (begin, prepare) in zip(beginPrepares, prepares) {
            #expect(prepare.gid == begin.gid)
            #expect(prepare.transactionID == begin.transactionID)
            #expect(prepare.prepareLSN == begin.prepareLSN)
            #expect(prepare.endLSN == begin.endLSN)
            #expect(prepare.endLSN > prepare.prepareLSN)
            #expect(prepare.prepareTimestamp == begin.prepareTimestamp)
            #expect(prepare.flags == 0)
        }
        let committed = commitPrepareds[0]
        #expect(committed.gid == "fixture-gid-commit")
        #expect(committed.transactionID == prepares[0].transactionID)
        #expect(committed.commitLSN >= prepares[0].endLSN)
        #expect(committed.endLSN > committed.commitLSN)
        #expect(committed.commitTimestamp >= prepares[0].prepareTimestamp)

        let rolledBack = rollbackPrepareds[0]
        #expect(rolledBack.gid == "fixture-gid-rollback")
        #expect(rolledBack.transactionID == prepares[1].transactionID)
        #expect(rolledBack.prepareEndLSN == prepares[1].endLSN)
        #expect(rolledBack.rollbackEndLSN > rolledBack.prepareEndLSN)
        #expect(rolledBack.prepareTimestamp == prepares[1].prepareTimestamp)
        #expect(rolledBack.rollbackTimestamp >= rolledBack.prepareTimestamp)

        // The large prepared transaction was streamed, then closed by Stream Prepare, then committed.
        let streamed = streamPrepares[0]
        #expect(Set(streamStarts.map(\.transactionID)) == [streamed.transactionID])
        #expect(streamStarts.map(\.isFirstSegment) == [true] + Array(repeating: false, count: streamStarts.count - 1))
        #expect(streamed.gid == "fixture-gid-streamed")
        #expect(streamed.endLSN > streamed.prepareLSN)
        #expect(commitPrepareds[1].gid == "fixture-gid-streamed")
        #expect(commitPrepareds[1].transactionID == streamed.transactionID)
        #expect(commitPrepareds[1].commitLSN >= streamed.endLSN)

        // In-stream inserts carry the streamed xid; those of the small prepared transactions do not.
        for entry in decoded {
            guard case .insert(let insert) = entry.message else { continue }
            #expect(insert.transactionID == (entry.decoderBefore.isInsideStreamBlock ? streamed.transactionID : nil))
        }
    }

    @Test func parallelStreamingProtocol4() throws {
        let decoded = try Fixture(name: "proto4_parallel_streaming", protocolVersion: 4, parallelStreaming: true)
            .decodeAll()
        let messages = decoded.map(\.message)

        // Outside the streamed blocks: the small transaction, the large one's Stream Starts with the
        // non-transactional message between its two blocks, its Stream Commit, then the second small one.
        let outsideBlocks = decoded.filter { !$0.decoderBefore.isInsideStreamBlock }.map(\.message)
        try #require(outsideBlocks.map(\.caseName) == [
            "begin", "relation", "insert", "commit", "streamStart", "message", "streamStart", "streamCommit",
            "begin", "insert", "commit",
        ])
        guard case .begin(let firstBegin) = outsideBlocks[0], case .relation(let side) = outsideBlocks[1],
              case .insert(let small) = outsideBlocks[2], case .commit(let firstCommit) = outsideBlocks[3],
              case .streamStart(let start) = outsideBlocks[4], case .message(let progress) = outsideBlocks[5],
              case .streamStart(let restart) = outsideBlocks[6], case .streamCommit(let commit) = outsideBlocks[7],
              case .begin(let lastBegin) = outsideBlocks[8], case .insert(let last) = outsideBlocks[9],
              case .commit(let lastCommit) = outsideBlocks[10]
        else {
            Issue.record("unexpected sequence outside the streamed blocks: \(outsideBlocks)")
            return
        }
        #expect(side.name == "side" && side.transactionID == nil)
        #expect(small.transactionID == nil && small.newTuple.texts == ["2", "two"])
        #expect(firstCommit.commitLSN == firstBegin.finalLSN)

        // One streamed transaction in two blocks; every change inside them carries its xid.
        let xid = start.transactionID
        #expect(start.isFirstSegment && restart.transactionID == xid && !restart.isFirstSegment)
        var kindsInStreams: Set<String> = []
        for entry in decoded where entry.decoderBefore.isInsideStreamBlock {
            if case .streamStop = entry.message { continue }
            #expect((entry.message.streamedTransactionID ?? nil) == xid, "\(entry.message)")
            kindsInStreams.insert(entry.message.caseName)
        }
        #expect(kindsInStreams == ["message", "relation", "update", "insert"])

        // The non-transactional message went out when decoded, while the transaction was still open: no xid,
        // and its LSN lies between the streamed transactional message and the commit.
        let streamedMessage = try #require(messages.lazy.compactMap { message -> PgOutputMessage.LogicalMessage? in
            if case .message(let m) = message, m.transactionID != nil { m } else { nil }
        }.first)
        #expect(streamedMessage.transactionID == xid && streamedMessage.isTransactional)
        #expect(streamedMessage.prefix == "stream")
        #expect(streamedMessage.content.elementsEqual("in a streamed transaction".utf8))
        #expect(progress.transactionID == nil && !progress.isTransactional && progress.prefix == "progress")
        #expect(progress.content.elementsEqual("sent while the transaction is open".utf8))
        #expect(streamedMessage.lsn < progress.lsn && progress.lsn < commit.commitLSN)

        #expect(commit.transactionID == xid && commit.flags == 0)
        #expect(commit.commitLSN > firstCommit.endLSN && commit.endLSN > commit.commitLSN)
        #expect(commit.commitTimestamp >= firstCommit.commitTimestamp)
        #expect(lastBegin.finalLSN == lastCommit.commitLSN && lastCommit.commitLSN > commit.endLSN)
        #expect(last.transactionID == nil && last.relationID == side.relationID)
        #expect(last.newTuple.texts == ["3", "three"])

        // Spot-check streamed contents.
        let update = try #require(messages.lazy.compactMap { if case .update(let u) = $0 { u } else { nil } }.first)
        #expect(update.transactionID == xid && update.relationID == side.relationID)
        #expect(update.oldTuple == nil && update.newTuple.texts == ["1", "uno"])
        let firstBulkInsert = try #require(messages.lazy.compactMap { message -> PgOutputMessage.Insert? in
            if case .insert(let insert) = message, insert.transactionID != nil { insert } else { nil }
        }.first)
        #expect(firstBulkInsert.newTuple.texts == ["1", String(repeating: "x", count: 290) + "1"])
    }

    @Test func streamAbortProtocol4() throws {
        let decoded = try Fixture(name: "proto4_stream_abort", protocolVersion: 4, parallelStreaming: true).decodeAll()

        // Captured with every change streamed at once: nothing is sent as a whole transaction.
        var currentStream: PgOutputMessage.StreamStart?
        var startsPerTransaction: [UInt32: [Bool]] = [:]
        var inStreamXIDs: [UInt32: Set<UInt32>] = [:]
        var insertsByXID: [UInt32: [[String]]] = [:]
        var streamedMessages: [PgOutputMessage.LogicalMessage] = []
        var commits: [(index: Int, commit: PgOutputMessage.StreamCommit)] = []
        var aborts: [(index: Int, abort: PgOutputMessage.StreamAbort)] = []
        for entry in decoded {
            #expect(entry.decoderBefore.isInsideStreamBlock == (currentStream != nil))
            switch entry.message {
            case .streamStart(let start):
                currentStream = start
                startsPerTransaction[start.transactionID, default: []].append(start.isFirstSegment)
            case .streamStop:
                currentStream = nil
            case .streamCommit(let commit):
                commits.append((entry.index, commit))
            case .streamAbort(let abort):
                aborts.append((entry.index, abort))
            case let change:
                let stream = try #require(currentStream, "change outside a stream block: \(change)")
                let xid = try #require(change.streamedTransactionID ?? nil, "in-stream change without xid: \(change)")
                inStreamXIDs[stream.transactionID, default: []].insert(xid)
                if case .insert(let insert) = change { insertsByXID[xid, default: []].append(insert.newTuple.texts) }
                if case .message(let message) = change { streamedMessages.append(message) }
            }
        }
        #expect(startsPerTransaction.count == 3)
        for (_, flags) in startsPerTransaction {
            #expect(flags.first == true)
            #expect(flags.dropFirst().allSatisfy { !$0 })
        }
        try #require(commits.count == 2 && aborts.count == 2)
        let first = commits[0].commit, last = commits[1].commit
        let rolledBack = aborts[0].abort, savepoint = aborts[1].abort
        for commit in [first, last] {
            #expect(commit.flags == 0 && commit.endLSN > commit.commitLSN)
        }
        #expect(last.commitLSN > first.endLSN)
        #expect(insertsByXID[first.transactionID] == [["1", "committed"]])
        #expect(inStreamXIDs[first.transactionID] == [first.transactionID])

        // Protocol 4 with parallel streaming: both Stream Aborts carry the abort LSN (the end of the abort
        // record) and the abort time. forwardCompatible checks how the same bytes read without parallel streaming.
        let rolledBackLSN = try #require(rolledBack.abortLSN), rolledBackTime = try #require(rolledBack.abortTimestamp)
        let savepointLSN = try #require(savepoint.abortLSN), savepointTime = try #require(savepoint.abortTimestamp)

        // The rolled-back transaction: the abort concerns the whole of it (subtransaction xid = xid), after its
        // message and its three inserts were streamed.
        #expect(rolledBack.subtransactionID == rolledBack.transactionID)
        #expect(![first.transactionID, last.transactionID].contains(rolledBack.transactionID))
        #expect(inStreamXIDs[rolledBack.transactionID] == [rolledBack.transactionID])
        #expect(insertsByXID[rolledBack.transactionID] == [
            ["11", "rolled back"], ["12", "rolled back"], ["13", "rolled back"],
        ])
        let abortedMessage = try #require(streamedMessages.first { $0.transactionID == rolledBack.transactionID })
        #expect(abortedMessage.prefix == "abort")
        #expect(abortedMessage.content.elementsEqual("in a rolled-back transaction".utf8))
        #expect(rolledBackLSN > abortedMessage.lsn)
        #expect(rolledBackLSN >= first.endLSN && rolledBackLSN < last.commitLSN)
        // A plausible wall-clock time (after 2024-01-01), between the commits around the rollback.
        let unix = try #require(rolledBackTime.unixEpochMicroseconds)
        #expect(unix > 1_704_067_200_000_000)
        #expect(first.commitTimestamp <= rolledBackTime && rolledBackTime <= last.commitTimestamp)

        // The rolled-back savepoint: its inserts were streamed under the subtransaction's xid inside the
        // blocks of the transaction that later commits; its Stream Abort names both xids and precedes the commit.
        #expect(savepoint.transactionID == last.transactionID)
        #expect(savepoint.subtransactionID != savepoint.transactionID)
        #expect(insertsByXID[savepoint.subtransactionID] == [
            ["31", "rolled back to savepoint"], ["32", "rolled back to savepoint"], ["33", "rolled back to savepoint"],
        ])
        #expect(aborts[1].index < commits[1].index)
        #expect(savepointLSN > rolledBackLSN && savepointLSN <= last.commitLSN)
        #expect(rolledBackTime <= savepointTime && savepointTime <= last.commitTimestamp)
        // The kept rows: 21 under the transaction's own xid, 22 under the new subtransaction that follows
        // ROLLBACK TO SAVEPOINT (the savepoint stays in place).
        let lastXIDs = try #require(inStreamXIDs[last.transactionID])
        let afterRollbackTo = lastXIDs.subtracting([last.transactionID, savepoint.subtransactionID])
        #expect(lastXIDs.count == 3 && afterRollbackTo.count == 1)
        #expect(insertsByXID[last.transactionID] == [["21", "kept"]])
        #expect(afterRollbackTo.first.flatMap { insertsByXID[$0] } == [["22", "kept"]])
    }

    /// Parallel streaming changes one thing on the wire: under protocol 4 Stream Abort then also carries the
    /// abort LSN and timestamp, and nothing in the message says so. A protocol 4 decoder told the streaming is
    /// not parallel therefore reads every fixture message the same, except such a Stream Abort: it rejects
    /// those 16 bytes as trailing (strict framing), and the xids before them decode to the same abort without
    /// the abort fields.
    @Test("fixtures decode the same under protocol 4 without parallel streaming, but for Stream Abort's abort fields",
          arguments: Fixture.all)
    func forwardCompatible(fixture: Fixture) throws {
        var decoder = PgOutputDecoder(protocolVersion: 4, parallelStreaming: false)
        for entry in try fixture.decodeAll() {
            guard case .streamAbort(let abort) = entry.message, abort.abortLSN != nil || abort.abortTimestamp != nil
            else {
                #expect(try decoder.decode(entry.bytes) == entry.message)
                continue
            }
            #expect(fixture.protocolVersion >= 4 && fixture.parallelStreaming)
            #expect(throws: PgOutputDecodingError.unexpectedTrailingBytes(messageType: 0x41, count: 16, offset: 9)) {
                try decoder.decode(entry.bytes)
            }
            #expect(try decoder.decode(entry.bytes.prefix(9))
                == .streamAbort(.init(transactionID: abort.transactionID, subtransactionID: abort.subtransactionID)))
        }
    }
}
