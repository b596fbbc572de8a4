@testable import Connector
import Foundation
import KafkaClient
import PgOutputDecoder
import PostgresLSN
import PostgresNames
import TestSupport
import Testing
import WALReader

/// A pgoutput fixture captured from a real server (Tests/PgOutputDecoderTests/Fixtures), one message per line.
func pgoutputFixture(_ name: String) throws -> [[UInt8]] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PgOutputDecoderTests/Fixtures/\(name).hex")
    let text = try String(contentsOf: url, encoding: .utf8)
    return try text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map { line in
        try #require(bytes(hex: String(line)), "a hex line of \(name)")
    }
}

/// pgoutput and walsender messages made by hand, for positions and transactions the fixtures do not have.
enum Wire {
    static func xLogData(_ payload: [UInt8], at position: LSN, walEnd: LSN? = nil) -> [UInt8] {
        [UInt8(ascii: "w")] + be(position.rawValue) + be((walEnd ?? position).rawValue) + be(UInt64(0)) + payload
    }

    static func keepalive(walEnd: LSN, replyRequested: Bool = false) -> [UInt8] {
        [UInt8(ascii: "k")] + be(walEnd.rawValue) + be(UInt64(0)) + [replyRequested ? 1 : 0]
    }

    /// Begin: the commit's LSN, a commit time (microseconds since 2000-01-01), the xid.
    static func begin(commitLSN: LSN, xid: UInt32, commitTime: Int64 = 800_000_000_000_000) -> [UInt8] {
        [UInt8(ascii: "B")] + be(commitLSN.rawValue) + be(UInt64(bitPattern: commitTime)) + be(xid)
    }

    static func commit(commitLSN: LSN, endLSN: LSN) -> [UInt8] {
        [UInt8(ascii: "C"), 0] + be(commitLSN.rawValue) + be(endLSN.rawValue) + be(UInt64(800_000_000_000_000))
    }

    /// A logical decoding message (protocol 1: no xid).
    static func message(prefix: String, content: String, transactional: Bool, lsn: LSN) -> [UInt8] {
        [UInt8(ascii: "M"), transactional ? 1 : 0] + be(lsn.rawValue) + Array(prefix.utf8) + [0]
            + be(UInt32(content.utf8.count)) + Array(content.utf8)
    }

    private static func be<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }
}

/// Drives a `SessionMachine` the way `SessionDriver` does, with a scripted producer and catalog and a clock
/// of its own: no sockets, no servers.
struct MachineHarness {
    var machine: SessionMachine
    var now: ContinuousClock.Instant
    /// What librdkafka answers to each `.produce`, in turn; `.enqueued` once the script is used up.
    var producerAnswers: [ProduceResult] = []
    /// The catalog's answers.
    var catalog: (CatalogQuestion) -> CatalogAnswer = { question in
        switch question {
        case .lineage: .lineage(nil, knownDescendantOf: nil)
        case .shape: .shape(nil)
        case .notNullColumns: .notNullColumns([])
        case .capturedTable: .capturedTable(nil)
        }
    }
    /// Every action carried out so far, and the records librdkafka took with their tickets.
    var actions: [SessionAction] = []
    var produced: [RecordToProduce] = []

    /// The Event Router-like format over fixture table `public.basic`: topic from `note`, value `payload`,
    /// id `id`. Its first row has a topic; its second has a NULL `note`, which no record can be made of.
    static let basicFormat = OutboxTableFormat(
        name: "generic", topic: .column("note"), key: "name", value: "payload", eventID: "id", idHeader: true
    )
    static let basic = QualifiedTableName(schema: "public", name: "basic")

    init(
        onError: ErrorPolicy = .fail, protocolVersion: Int = 1, format: OutboxTableFormat = basicFormat,
        tables: [QualifiedTableName] = [basic], statusInterval: Duration = .seconds(1), streamMaxHeldBytes: Int = 64 << 20,
        progress: ConnectorProgress = ConnectorProgress(), messagePrefix: String? = "outbox"
    ) {
        now = .now
        let rules = SessionMachine.Rules(
            onError: onError, statusInterval: statusInterval, heartbeatInterval: nil, streamMaxHeldBytes: streamMaxHeldBytes,
            eventIDColumn: format.eventID, outboxTables: tables, outboxTablesByLineage: tables, publicationListsTables: true,
            includeList: nil, readsTable: true, publication: "outbox_pub"
        )
        machine = SessionMachine(
            rules: rules, progress: progress, decoder: PgOutputDecoder(protocolVersion: protocolVersion),
            mapper: .native(OutboxEventMapper(tables: tables, format: format), messages: messagePrefix.map(LogicalMessageRouter.init(prefix:))),
            now: now
        )
    }

    /// Passes time.
    mutating func advance(_ duration: Duration) {
        now = now.advanced(by: duration)
    }

    /// Receives one walsender message, then carries out actions until the machine wants to read (or ends).
    @discardableResult
    mutating func receive(_ bytes: [UInt8]) -> [SessionAction] {
        machine.received(bytes[...])
        return run()
    }

    /// Receives pgoutput messages, each in an XLogData at its own position (from `start`, 0x100 apart).
    @discardableResult
    mutating func receive(pgoutput messages: [[UInt8]], from start: LSN) -> [SessionAction] {
        var all: [SessionAction] = []
        for (index, message) in messages.enumerated() {
            all += receive(Wire.xLogData(message, at: LSN(start.rawValue + UInt64(index) * 0x100)))
        }
        return all
    }

    /// Carries out actions until `.read` or the session's end; returns them (the `.read` not included).
    @discardableResult
    mutating func run() -> [SessionAction] {
        var done: [SessionAction] = []
        for _ in 0 ..< 100_000 {
            let action = machine.nextAction(now: now)
            switch action {
            case .read:
                actions += done
                return done
            case .produce(let record):
                let answer = producerAnswers.isEmpty ? .enqueued : producerAnswers.removeFirst()
                if case .enqueued = answer { produced.append(record) }
                machine.produced(answer, now: now)
            case .waitForQueueRoom:
                // The queue stays full until the test says otherwise.
                done.append(action)
                actions += done
                return done
            case .ask(let question):
                machine.answered(catalog(question))
            case .finish, .fail, .reconnect:
                done.append(action)
                actions += done
                return done
            case .sendStatus, .notice, .runHeartbeat:
                break
            }
            done.append(action)
        }
        Issue.record("the machine did not come to rest")
        return done
    }

    /// Kafka acknowledges records taken so far (all, or those at the given indices of `produced`); `at` is the
    /// reports' arrival stamp (Unix microseconds).
    mutating func acknowledge(_ indices: [Int]? = nil, at: Int64 = 0) {
        let records = (indices ?? Array(produced.indices)).map { produced[$0] }
        machine.delivered(records.compactMap { $0.ticket }.map { .acknowledged($0, at: at, sinceProduce: 0) }, now: now)
    }

    var confirmed: LSN { machine.progress.tracker.confirmed }

    /// The status updates among `actions`.
    static func statuses(_ actions: [SessionAction]) -> [StatusUpdate] {
        actions.compactMap { if case .sendStatus(let update) = $0 { update } else { nil } }
    }

    static func notices(_ actions: [SessionAction]) -> [SessionNotice] {
        actions.compactMap { if case .notice(let notice) = $0 { notice } else { nil } }
    }
}

/// The fixture `proto1_basic`: Begin, Relation (public.basic), two Inserts, Commit.
struct BasicFixture {
    let begin: [UInt8]
    let relation: [UInt8]
    let firstInsert: [UInt8]
    let secondInsert: [UInt8]
    let commit: [UInt8]

    init() throws {
        let messages = try pgoutputFixture("proto1_basic")
        try #require(messages.count == 5)
        (begin, relation, firstInsert, secondInsert, commit) = (messages[0], messages[1], messages[2], messages[3], messages[4])
    }
}
