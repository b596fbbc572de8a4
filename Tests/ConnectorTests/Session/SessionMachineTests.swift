@testable import Connector
@testable import KafkaClient
import PgOutputDecoder
import PostgresLSN
import PostgresNames
import Testing
import WALReader

/// The replication session's rules, each on its own, with real pgoutput captures and no PostgreSQL or Kafka.
@Suite("SessionMachine")
struct SessionMachineTests {
    // MARK: - The LSN rule

    @Test("The slot is confirmed only to the end of transactions Kafka acknowledged in full, in commit order")
    func confirmsAContiguousWatermarkOfAcknowledgedTransactions() throws {
        let basic = try BasicFixture()
        var harness = MachineHarness()
        harness.receive(pgoutput: [basic.relation], from: LSN(0x1000))
        // Two transactions, one row each.
        harness.receive(pgoutput: [Wire.begin(commitLSN: LSN(0x2000), xid: 700), basic.firstInsert, Wire.commit(commitLSN: LSN(0x2000), endLSN: LSN(0x2100))], from: LSN(0x1100))
        harness.receive(pgoutput: [Wire.begin(commitLSN: LSN(0x3000), xid: 701), basic.firstInsert, Wire.commit(commitLSN: LSN(0x3000), endLSN: LSN(0x3100))], from: LSN(0x2200))
        #expect(harness.produced.count == 2)
        #expect(harness.confirmed == .zero, "nothing acknowledged, nothing confirmed")

        // The second transaction's acknowledgement alone confirms nothing.
        harness.acknowledge([1])
        harness.advance(.milliseconds(20))
        #expect(MachineHarness.statuses(harness.run()).allSatisfy { $0.confirmed == .zero })
        #expect(harness.confirmed == .zero)

        // The first one's moves the watermark over both, and a status update says so within the spacing.
        harness.acknowledge([0])
        harness.advance(.milliseconds(10))
        let statuses = MachineHarness.statuses(harness.run())
        #expect(statuses.map(\.confirmed) == [LSN(0x3100)])
        #expect(statuses.first?.confirmedMoved == true)
        #expect(statuses.first?.replyRequested == false, "a prompt confirmation asks for no keepalive")
    }

    @Test("A moved confirmation is sent within the spacing, never more often, and the keepalive interval comes besides")
    func promptConfirmationIsSpacedAndKeepaliveStillComes() throws {
        let basic = try BasicFixture()
        var harness = MachineHarness(statusInterval: .seconds(10))
        harness.receive(pgoutput: [basic.relation, Wire.begin(commitLSN: LSN(0x2000), xid: 700), basic.firstInsert, Wire.commit(commitLSN: LSN(0x2000), endLSN: LSN(0x2100))], from: LSN(0x1000))
        harness.acknowledge(at: 1_700_000_000_123_456)
        // Within the spacing of the last update: nothing yet, and the read waits no longer than the rest of it.
        harness.advance(.milliseconds(4))
        #expect(MachineHarness.statuses(harness.run()).isEmpty)
        guard case .read(let timeout) = harness.machine.nextAction(now: harness.now) else {
            Issue.record("expected a read")
            return
        }
        #expect(timeout <= .milliseconds(6))
        harness.advance(.milliseconds(6))
        let prompt = MachineHarness.statuses(harness.run())
        #expect(prompt.map(\.confirmed) == [LSN(0x2100)])
        // The update carries when the acknowledgement that completed the transaction arrived: the driver times
        // acknowledgement-to-confirmation from it.
        #expect(prompt.first?.confirmingAcknowledgementArrivedAt == 1_700_000_000_123_456)
        // Nothing moved: no update until the keepalive interval, which asks for a reply (nothing in flight).
        harness.advance(.seconds(5))
        #expect(MachineHarness.statuses(harness.run()).isEmpty)
        harness.advance(.seconds(5))
        let keepalive = MachineHarness.statuses(harness.run())
        #expect(keepalive.count == 1 && keepalive.first?.replyRequested == true && keepalive.first?.confirmedMoved == false)
        #expect(keepalive.first?.confirmingAcknowledgementArrivedAt == nil, "nothing newly confirmed: nothing to time")
    }

    // MARK: - Keepalives

    @Test("A keepalive's WAL end is confirmed only while nothing is in flight")
    func keepaliveConfirmsOnlyWhenIdle() throws {
        let basic = try BasicFixture()
        var harness = MachineHarness()
        harness.receive(Wire.keepalive(walEnd: LSN(0x500)))
        #expect(harness.confirmed == LSN(0x500), "idle: the WAL other tables wrote is confirmed")

        harness.receive(pgoutput: [basic.relation, Wire.begin(commitLSN: LSN(0x2000), xid: 700), basic.firstInsert, Wire.commit(commitLSN: LSN(0x2000), endLSN: LSN(0x2100))], from: LSN(0x1000))
        harness.receive(Wire.keepalive(walEnd: LSN(0x9000), replyRequested: true))
        #expect(harness.confirmed == LSN(0x500), "an event in flight: the keepalive confirms nothing")
        let reply = MachineHarness.statuses(harness.actions).last
        #expect(reply?.replyRequested == false, "a keepalive reply asks for no reply while events are in flight")

        harness.acknowledge()
        harness.receive(Wire.keepalive(walEnd: LSN(0x9000)))
        #expect(harness.confirmed == LSN(0x9000))
    }

    @Test("A streamed transaction still open keeps the keepalive's WAL end from being confirmed")
    func openStreamedTransactionBlocksKeepaliveConfirmation() throws {
        let messages = try pgoutputFixture("proto2_streaming")
        var harness = MachineHarness(protocolVersion: 2, tables: [QualifiedTableName(schema: "public", name: "bulk")])
        // Up to the first Stream Stop: a streamed block held, its transaction not committed.
        let firstStop = try #require(messages.firstIndex { $0.first == UInt8(ascii: "E") })
        harness.receive(pgoutput: Array(messages[...firstStop]), from: LSN(0x1000))
        let before = harness.confirmed
        harness.acknowledge()
        harness.receive(Wire.keepalive(walEnd: LSN(0xFFFF_0000_0000)))
        #expect(harness.confirmed < LSN(0xFFFF_0000_0000), "confirmed \(harness.confirmed) past a streamed transaction still open (was \(before))")
    }

    // MARK: - Stopping

    @Test("A stop between transactions finishes at once; inside one, the transaction is read to its Commit first")
    func stopFinishesTheTransactionBeingRead() throws {
        let basic = try BasicFixture()
        var idle = MachineHarness()
        idle.machine.stopRequested(by: idle.now.advanced(by: .seconds(30)))
        #expect(idle.run().contains { if case .finish = $0 { true } else { false } })

        var harness = MachineHarness()
        harness.receive(pgoutput: [basic.relation, Wire.begin(commitLSN: LSN(0x2000), xid: 700), basic.firstInsert], from: LSN(0x1000))
        harness.machine.stopRequested(by: harness.now.advanced(by: .seconds(30)))
        let stopping = harness.run()
        #expect(MachineHarness.notices(stopping).contains { if case .finishingTransactionBeforeStop = $0 { true } else { false } })
        #expect(!stopping.contains { if case .finish = $0 { true } else { false } }, "the transaction is still open")
        let rest = harness.receive(pgoutput: [Wire.commit(commitLSN: LSN(0x2000), endLSN: LSN(0x2100))], from: LSN(0x1300))
        #expect(rest.contains { if case .finish = $0 { true } else { false } })
        harness.acknowledge()
        #expect(harness.machine.finalStatus(now: harness.now).confirmed == LSN(0x2100), "the stop's last update confirms the finished transaction")
    }

    @Test("A stop whose deadline passes in the middle of a transaction finishes without it")
    func stopDeadlineCutsTheTransactionShort() throws {
        let basic = try BasicFixture()
        var harness = MachineHarness()
        harness.receive(pgoutput: [basic.relation, Wire.begin(commitLSN: LSN(0x2000), xid: 700), basic.firstInsert], from: LSN(0x1000))
        harness.machine.stopRequested(by: harness.now.advanced(by: .seconds(2)))
        harness.run()
        harness.advance(.seconds(2))
        #expect(harness.run().contains { if case .finish = $0 { true } else { false } })
        harness.acknowledge()
        #expect(harness.machine.finalStatus(now: harness.now).confirmed == .zero, "a transaction cut short confirms nothing")
    }

    // MARK: - Streamed transactions

    @Test("Streamed transactions: nothing before Stream Commit, nothing of an aborted one or an aborted subtransaction")
    func streamedTransactionsPublishAtTheirCommitOnly() throws {
        let messages = try pgoutputFixture("proto2_streaming")
        let bulk = QualifiedTableName(schema: "public", name: "bulk")
        let format = OutboxTableFormat(name: "generic", topic: .prefixed(column: "state", prefix: "bulk."), key: "id", value: "filler", eventID: "id", idHeader: true)
        var harness = MachineHarness(protocolVersion: 2, format: format, tables: [bulk])
        // What the fixture streams: inserts into bulk by (sub)transaction, and which were aborted.
        var decoder = PgOutputDecoder(protocolVersion: 2)
        let decoded = try messages.map { try decoder.decode($0[...]) }
        var produced: [Int] = []
        for (index, message) in messages.enumerated() {
            harness.receive(pgoutput: [message], from: LSN(0x10000 + UInt64(index) * 0x100))
            if case .streamCommit = decoded[index] {
                produced.append(harness.produced.count)
            } else if case .commit = decoded[index] {
                produced.append(harness.produced.count)
            } else if produced.last != harness.produced.count, case .streamStart = decoded[index] {
                Issue.record("records produced inside a stream block")
            }
        }
        // The small transaction (a row of another table), then each streamed commit's rows only.
        let abortedSubtransactions: Set<UInt32> = Set(decoded.compactMap { if case .streamAbort(let abort) = $0, abort.subtransactionID != abort.transactionID { abort.subtransactionID } else { nil } })
        let abortedTransactions: Set<UInt32> = Set(decoded.compactMap { if case .streamAbort(let abort) = $0, abort.subtransactionID == abort.transactionID { abort.transactionID } else { nil } })
        let committedInserts = decoded.filter { message in
            guard case .insert(let insert) = message, let xid = insert.transactionID else { return false }
            return !abortedSubtransactions.contains(xid) && !abortedTransactions.contains(xid)
        }.count
        #expect(produced.first == 0)
        #expect(harness.produced.count == committedInserts)
        #expect(harness.produced.count > 0)
    }

    @Test("Streamed changes held past the memory bound: streaming is turned off for the run, and the session reconnects")
    func streamedPastTheBoundReconnectsWithoutStreaming() throws {
        let messages = try pgoutputFixture("proto2_streaming")
        var harness = MachineHarness(protocolVersion: 2, tables: [QualifiedTableName(schema: "public", name: "bulk")], streamMaxHeldBytes: 1000)
        let actions = harness.receive(pgoutput: messages, from: LSN(0x1000))
        #expect(actions.contains { if case .reconnect = $0 { true } else { false } })
        #expect(MachineHarness.notices(actions).contains { if case .streamedTooMuch = $0 { true } else { false } })
        #expect(harness.machine.progress.streamingTurnedOff)
    }

    // MARK: - The error policy

    @Test("A row that cannot be mapped: fail stops before it, confirming what came before")
    func poisonRowUnderFail() throws {
        let basic = try BasicFixture()
        var harness = MachineHarness(onError: .fail)
        harness.receive(pgoutput: [basic.relation, Wire.begin(commitLSN: LSN(0x2000), xid: 700), basic.firstInsert, Wire.commit(commitLSN: LSN(0x2000), endLSN: LSN(0x2100))], from: LSN(0x1000))
        let actions = harness.receive(pgoutput: [Wire.begin(commitLSN: LSN(0x3000), xid: 701), basic.secondInsert], from: LSN(0x2200))
        guard case .fail(let error, let drainFirst) = actions.last else {
            Issue.record("expected the session to fail: \(actions)")
            return
        }
        #expect(drainFirst, "Kafka still works: what came before may still be acknowledged")
        #expect(error.isAboutOneRow)
        harness.acknowledge()
        #expect(harness.machine.finalStatus(now: harness.now).confirmed == LSN(0x2100), "the slot stays before the row")
    }

    @Test("A row that cannot be mapped: skip counts and logs it, and its transaction is confirmed")
    func poisonRowUnderSkip() throws {
        let basic = try BasicFixture()
        var harness = MachineHarness(onError: .skip)
        let actions = harness.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert, basic.secondInsert, basic.commit], from: LSN(0x1000))
        #expect(harness.produced.count == 1)
        #expect(MachineHarness.notices(actions).contains { if case .skipped(let id, _, _, _) = $0 { id == "2" } else { false } })
        #expect(harness.machine.progress.skippedEvents == 1)
        harness.acknowledge()
        #expect(harness.machine.progress.tracker.isIdle && harness.confirmed > .zero)
    }

    @Test("A row that cannot be mapped: dlq sends the row as a dead letter under its transaction, with why")
    func poisonRowUnderDeadLetter() throws {
        let basic = try BasicFixture()
        var harness = MachineHarness(onError: .deadLetter(topic: "dlq"))
        harness.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert, basic.secondInsert, basic.commit], from: LSN(0x1000))
        #expect(harness.produced.map(\.event.topic) == ["héllo wörld", "dlq"])
        let letter = try #require(harness.produced.last)
        #expect(letter.isDeadLetter)
        #expect(letter.event.headers.contains { $0.name == DeadLetterHeaders.eventID && $0.value == Array("2".utf8) })
        // The transaction is confirmed only once the dead letter too is acknowledged.
        harness.acknowledge([0])
        #expect(harness.confirmed == .zero)
        harness.acknowledge([1])
        #expect(harness.confirmed > .zero)
    }

    @Test("A record librdkafka refuses at once: fatal under fail, a dead letter under dlq; a refused dead letter is fatal")
    func refusedAtOnce() throws {
        let basic = try BasicFixture()
        let refusal = KafkaError(code: 17, message: "topic exception")  // TOPIC_EXCEPTION
        var failing = MachineHarness(onError: .fail)
        failing.producerAnswers = [.failed(refusal)]
        let failed = failing.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert], from: LSN(0x1000))
        guard case .fail(.deliveryFailed, _) = failed.last else {
            Issue.record("expected a fatal refusal: \(failed)")
            return
        }

        var letters = MachineHarness(onError: .deadLetter(topic: "dlq"))
        letters.producerAnswers = [.failed(refusal)]
        letters.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert, Wire.commit(commitLSN: LSN(0x2000), endLSN: LSN(0x2100))], from: LSN(0x1000))
        #expect(letters.produced.map(\.event.topic) == ["dlq"])
        letters.acknowledge()
        #expect(letters.confirmed == LSN(0x2100))

        var nowhere = MachineHarness(onError: .deadLetter(topic: "dlq"))
        nowhere.producerAnswers = [.failed(refusal), .failed(refusal)]
        let lost = nowhere.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert], from: LSN(0x1000))
        guard case .fail(.deliveryFailed, _) = lost.last else {
            Issue.record("a refused dead letter must be fatal: \(lost)")
            return
        }
    }

    @Test("A record Kafka refuses in a delivery report goes to the dead-letter topic once its transaction's Commit is read")
    func refusedDeliveryIsDeadLetteredAfterTheCommit() throws {
        let basic = try BasicFixture()
        var harness = MachineHarness(onError: .deadLetter(topic: "dlq"))
        harness.receive(pgoutput: [basic.relation, Wire.begin(commitLSN: LSN(0x2000), xid: 700), basic.firstInsert], from: LSN(0x1000))
        let ticket = try #require(harness.produced.first?.ticket)
        let content = KafkaMessageContent(key: nil, value: Array("v".utf8), headers: [])
        harness.machine.delivered([.failed(ticket, topic: "héllo wörld", eventID: "1", error: KafkaError(code: 10, message: "too large"), undelivered: content)], now: harness.now)
        harness.run()
        #expect(harness.produced.count == 1, "the dead letter waits for the Commit, whose end it names")
        harness.receive(pgoutput: [Wire.commit(commitLSN: LSN(0x2000), endLSN: LSN(0x2100))], from: LSN(0x1300))
        let letter = try #require(harness.produced.last)
        #expect(letter.event.topic == "dlq")
        #expect(letter.event.headers.contains { $0.name == DeadLetterHeaders.lsn && $0.value == Array("0/2100".utf8) })
        #expect(letter.event.value == nil && letter.event.headers.contains { $0.name == DeadLetterHeaders.valueSize }, "a value too large is left out, its size said")
        #expect(harness.confirmed == .zero)
        harness.acknowledge([1])
        #expect(harness.confirmed == LSN(0x2100), "the dead letter's acknowledgement completes the transaction")
    }

    @Test("A non-transactional logical message is confirmed at its own position, after its acknowledgement")
    func nonTransactionalMessageHasATransactionOfItsOwn() throws {
        var harness = MachineHarness()
        harness.receive(pgoutput: [Wire.message(prefix: "outbox:audit", content: "hello", transactional: false, lsn: LSN(0x4000))], from: LSN(0x4000))
        #expect(harness.produced.map(\.event.topic) == ["audit"])
        #expect(harness.confirmed == .zero)
        harness.acknowledge()
        #expect(harness.confirmed == LSN(0x4000))
    }

    // MARK: - Backpressure

    @Test("A full producer queue pauses reading until librdkafka has room")
    func fullQueuePausesReading() throws {
        let basic = try BasicFixture()
        var harness = MachineHarness()
        harness.producerAnswers = [.queueFull]
        let actions = harness.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert], from: LSN(0x1000))
        guard case .waitForQueueRoom = actions.last else {
            Issue.record("expected a wait for room: \(actions)")
            return
        }
        #expect(harness.produced.isEmpty)
        guard case .waitForQueueRoom = harness.machine.nextAction(now: harness.now) else {
            Issue.record("no read while the record waits")
            return
        }
        harness.machine.queueMayHaveRoom()
        harness.run()
        #expect(harness.produced.count == 1)
    }

    // MARK: - Continuing a transaction after a break

    @Test("After a break the transaction being read is continued: the changes handed to Kafka are not produced again")
    func interruptedTransactionIsContinued() throws {
        let basic = try BasicFixture()
        let format = OutboxTableFormat(name: "generic", topic: .column("name"), key: nil, value: "id", eventID: "id", idHeader: true)
        var first = MachineHarness(format: format)
        first.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert], from: LSN(0x1000))
        #expect(first.produced.count == 1)
        var progress = first.machine.sessionBroke()
        let interrupted = try #require(progress.interrupted)
        #expect(interrupted.changesHandled == 1)
        progress.history = ServerHistory(systemIdentifier: "7", timeline: 1)
        _ = ResumePosition.decide(progress: &progress, server: ServerHistory(systemIdentifier: "7", timeline: 1), serverWAL: LSN(0xFFFF), slotConfirmed: .zero, switchPoint: nil)
        #expect(progress.interrupted != nil, "the same history keeps it")

        var second = MachineHarness(format: format, progress: progress)
        let actions = second.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert, basic.secondInsert, basic.commit], from: LSN(0x1000))
        #expect(second.produced.map(\.event.topic) == ["second"], "only the change the first session had not handled")
        #expect(second.produced.first?.ticket == interrupted.ticket)
        #expect(MachineHarness.notices(actions).contains { if case .transactionContinued(_, 1, _) = $0 { true } else { false } })
        // The first session's record is acknowledged as well (the producer kept it): only then is it confirmed.
        second.machine.delivered([.acknowledged(interrupted.ticket, at: 0, sinceProduce: 0)], now: second.now)
        #expect(second.confirmed == .zero)
        second.acknowledge()
        #expect(second.confirmed > .zero)
    }

    @Test("A continued transaction that arrives otherwise than the first time is read again from its start")
    func continuedTransactionThatDiffersIsReadAgain() throws {
        let basic = try BasicFixture()
        let format = OutboxTableFormat(name: "generic", topic: .column("name"), key: nil, value: "id", eventID: "id", idHeader: true)
        var first = MachineHarness(format: format)
        first.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert, basic.secondInsert], from: LSN(0x1000))
        let progress = first.machine.sessionBroke()
        #expect(progress.interrupted?.changesHandled == 2)
        var second = MachineHarness(format: format, progress: progress)
        // The same transaction, but its changes at other positions than the first time.
        let actions = second.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert, basic.secondInsert], from: LSN(0x5000))
        guard case .reconnect = actions.last else {
            Issue.record("expected a reconnect: \(actions)")
            return
        }
        #expect(second.machine.progress.interrupted == nil)
        #expect(second.machine.progress.tracker.openTransaction == nil, "the transaction's events confirm nothing any more")
    }

    @Test("Another transaction first after the break: the interrupted one is abandoned and read anew")
    func anotherTransactionAbandonsTheInterruptedOne() throws {
        let basic = try BasicFixture()
        var first = MachineHarness()
        first.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert], from: LSN(0x1000))
        let progress = first.machine.sessionBroke()
        var second = MachineHarness(progress: progress)
        second.receive(pgoutput: [basic.relation, Wire.begin(commitLSN: LSN(0x9000), xid: 9), basic.firstInsert], from: LSN(0x1000))
        #expect(second.produced.count == 1)
        #expect(second.produced.first?.ticket != progress.interrupted?.ticket)
    }

    // MARK: - The hand-over of pending rows

    @Test("The hand-over is settled only when Kafka has acknowledged every pending row")
    func handOverSettlesOnAcknowledgement() throws {
        let basic = try BasicFixture()
        var decoder = PgOutputDecoder(protocolVersion: 1)
        var harness = MachineHarness(onError: .skip)
        harness.machine.beginHandOver(at: LSN(0x7000))
        for bytes in [basic.relation, basic.firstInsert, basic.secondInsert] {
            harness.machine.enqueue(try decoder.decode(bytes[...]), at: LSN(0x7000))
        }
        harness.machine.enqueue(.commit(.init(flags: 0, commitLSN: LSN(0x7000), endLSN: LSN(0x7000), commitTimestamp: .init(rawValue: 0))), at: LSN(0x7000))
        harness.run()
        #expect(harness.produced.count == 1, "the unmappable row is skipped")
        #expect(!harness.machine.isSettled)
        harness.acknowledge()
        #expect(harness.machine.isSettled)
        #expect(harness.confirmed == LSN(0x7000))
    }

    // MARK: - Relations

    @Test("A relation that is not an outbox table is asked about at its first row, and its rows are counted, not published")
    func otherRelationIsAskedAboutAndIgnored() throws {
        let basic = try BasicFixture()
        var harness = MachineHarness(tables: [QualifiedTableName(schema: "public", name: "outbox")])
        var asked: [CatalogQuestion] = []
        harness.catalog = { question in
            asked.append(question)
            return .lineage(RelationLineage(table: QualifiedTableName(schema: "public", name: "basic"), ancestors: []), knownDescendantOf: nil)
        }
        let actions = harness.receive(pgoutput: [basic.relation, basic.begin, basic.firstInsert, basic.commit], from: LSN(0x1000))
        #expect(harness.produced.isEmpty)
        #expect(MachineHarness.notices(actions).contains { if case .rowIgnored("public.basic", .otherTable) = $0 { true } else { false } })
        harness.run()
        #expect(harness.confirmed > .zero, "a transaction with nothing to publish is confirmed at once")
        _ = asked
    }
}
