import DebeziumFormat
import KafkaClient
import PgOutputDecoder
import PostgresLSN
import PostgresNames
import WALReader

/// The rules of one replication session, as a value with no I/O: what to publish, when the slot may be
/// confirmed, when to stop. Its driver (`SessionDriver`) owns the connections and the producer, asks
/// `nextAction` what to do, does it, and reports back.
///
/// Inputs: replication messages (`received`), what librdkafka did with a record (`produced`), delivery
/// outcomes from Kafka (`delivered`), room in librdkafka's queue (`queueMayHaveRoom`), a stop request
/// (`stopRequested`), catalog answers (`answered`), the server's WAL position (`serverWALObserved`); time comes
/// with every call as `now`. The rules it keeps:
/// - the LSN rule: the slot is confirmed only up to a contiguous watermark of transactions Kafka has
///   acknowledged in full (`CheckpointTracker`), and promptly: within `promptConfirmationSpacing` of moving
///   (the driver has acknowledgements wake its reads while no confirmation waits: `confirmationWaiting`);
/// - a keepalive's WAL end is confirmed only when nothing is in flight and no streamed transaction is open;
/// - a stop lets the transaction being read finish (until the stop's deadline), then finishes;
/// - streamed in-progress transactions are held until their commit and dropped at their abort, within a
///   memory bound past which the session reconnects without streaming;
/// - the error policy for events that can never be published (fail, skip, dead-letter);
/// - a transaction a broken session had begun is continued, not repeated, when the server sends it again.
///
/// Messages are handled one at a time from a backlog, and reading waits until the backlog is empty and
/// every record is with librdkafka: a full producer queue pauses reading, which bounds memory.
struct SessionMachine {
    /// What the configuration fixes for the session.
    struct Rules: Sendable {
        var onError: ErrorPolicy
        var statusInterval: Duration
        var heartbeatInterval: Duration?
        var streamMaxHeldBytes: Int
        /// The format's event id column, to name a row that cannot be mapped.
        var eventIDColumn: String?
        /// This session's outbox tables (none for the table-less outbox).
        var outboxTables: [QualifiedTableName]
        /// The tables whose partitions and children carry outbox rows: the outbox tables, and the partitioned
        /// tables of partitions Debezium's list matched.
        var outboxTablesByLineage: [QualifiedTableName]
        /// The publication names its tables (not FOR ALL TABLES, no schema).
        var publicationListsTables: Bool
        /// Debezium's `table.include.list`, when the outbox tables are chosen by it.
        var includeList: TableIncludeList?
        /// Whether the session reads outbox tables at all (not only logical decoding messages).
        var readsTable: Bool
        var publication: String
        /// How long to wait for room in librdkafka's queue before looking at everything else again.
        var queueWait: Duration = .milliseconds(100)
        /// `--mark-published`: the rows of confirmed transactions are kept for the old relay's marks.
        var marksPublishedRows = false
    }

    /// The least time between two status updates sent because the confirmed position moved (under load at
    /// most a hundred a second; the `statusInterval` keepalive comes besides).
    static let promptConfirmationSpacing = Duration.milliseconds(10)

    let rules: Rules
    /// What the run knows across sessions; the driver takes it back when the session ends.
    private(set) var progress: ConnectorProgress
    private var decoder: PgOutputDecoder
    private var mapper: RowMapper
    private var streamed = StreamedTransactions()
    /// What each Relation message said, by relation id.
    private var relations: [UInt32: DescribedRelation] = [:]

    /// Decoded messages waiting to be handled, oldest first, from `backlog[backlogHead]`.
    private var backlog: [PendingMessage] = []
    private var backlogHead = 0
    /// Answers gathered for the message at the head of the backlog (its handling starts again with each).
    private var answers: [CatalogQuestion: CatalogAnswer] = [:]
    private var awaiting: CatalogQuestion?
    /// The record to hand to librdkafka next, and whether its queue was full at the last try.
    private var outgoing: RecordToProduce?
    private var queueFull = false
    /// The message whose record is `outgoing`, counted as handled once librdkafka has the record.
    private var outgoingCountsAsChange = false
    /// The records of the same change after `outgoing` (a change event's delete and its tombstone, say); the
    /// change counts as handled once librdkafka has the last.
    private var queued: [RecordToProduce] = []

    /// The transaction being received (xid, commit time, last commit LSN): for timings and Debezium's messages.
    private var transaction = DebeziumTransactionContext(transactionID: nil, commitTime: 0, lastCommitLSN: nil, lastCommitEndLSN: nil)
    /// The send time of the last XLogData message (Unix microseconds), carried by the records made from it.
    private var walSentTime: Int64 = 0
    /// The ticket of the transaction being received.
    private var ticket: CheckpointTracker.Ticket?
    /// The Begin of the transaction being received.
    private var begin: (transactionID: UInt32?, commitLSN: LSN)?
    /// Data changes of that transaction handled so far, and where the last one was.
    private var changesHandled = 0
    private var lastChangePosition = LSN.zero
    /// While a continued transaction's first changes arrive again: how many are still to be passed over, and
    /// where the last of them must be.
    private var passingOver: (remaining: Int, last: LSN)?

    /// The WAL position of the message being handled, for error messages.
    private var position = LSN.zero
    /// The server's end of WAL as last heard (XLogData and keepalives), and as last asked on another connection.
    private(set) var serverWALEnd = LSN.zero
    private var serverWALAsked = LSN.zero

    private var lastStatus: ContinuousClock.Instant
    private var lastReportedPosition = LSN.zero
    /// Since when a confirmed position the server has not heard of waits (for the debug log's delay).
    private var confirmationWaitingSince: ContinuousClock.Instant?
    /// When the acknowledgement that first moved the confirmed position since the last update reached outbox-cdc
    /// (Unix microseconds, the delivery report's stamp).
    private var confirmingAcknowledgementArrivedAt: Int64?
    private var replyOwed = false
    private var lastHeartbeat: ContinuousClock.Instant
    private var notices: [SessionNotice] = []
    private var noticeHead = 0

    /// A stop was asked for, to be done by this moment at the latest.
    private var stopBy: ContinuousClock.Instant?
    private var finishingBeforeStop = false
    /// Why the session must end, once decided.
    private var ending: SessionAction?

    init(rules: Rules, progress: ConnectorProgress, decoder: PgOutputDecoder, mapper: RowMapper, now: ContinuousClock.Instant) {
        self.rules = rules
        self.progress = progress
        self.decoder = decoder
        self.mapper = mapper
        self.lastStatus = now
        self.lastHeartbeat = now
    }

    // MARK: - Inputs

    /// A CopyData message from the walsender.
    mutating func received(_ bytes: ArraySlice<UInt8>) {
        let message: ReplicationMessage
        do {
            message = try ReplicationMessage.parse(bytes)
        } catch {
            return end(.fail(.replicationMessage(error, lsn: position), drainFirst: false))
        }
        switch message {
        case .primaryKeepalive(let keepalive):
            serverWALEnd = max(serverWALEnd, keepalive.walEnd)
            // A streamed transaction still open is in flight too: its WAL end is not confirmed past it.
            if streamed.isEmpty { _ = progress.tracker.serverSent(upTo: keepalive.walEnd) }
            if keepalive.replyRequested { replyOwed = true }
        case .xLogData(let data):
            position = data.walStart
            walSentTime = data.serverTime.unixEpochMicroseconds ?? 0
            serverWALEnd = max(serverWALEnd, data.walEnd)
            receive(pgoutput: data.payload)
        }
    }

    /// A message handed over without a replication stream (the rows a polling relay left pending).
    mutating func enqueue(_ message: PgOutputMessage, at position: LSN) {
        backlog.append(PendingMessage(position: position, message: message))
    }

    /// A row of the initial snapshot, handed over without a replication stream: published as a read (op `r`)
    /// with its place in the snapshot, under Debezium's change events.
    mutating func enqueueSnapshotRead(_ row: PgOutputMessage.Insert, marker: SnapshotMarker, at position: LSN) {
        backlog.append(PendingMessage(position: position, message: .insert(row), snapshot: marker))
    }

    /// The outcome of the last `.produce` action.
    mutating func produced(_ outcome: ProduceResult, now: ContinuousClock.Instant) {
        guard let record = outgoing else { return }
        switch outcome {
        case .enqueued:
            queueFull = false
            outgoing = nil
            guard let ticket = record.ticket else { return }
            switch record.owner {
            case .change:
                progress.eventProduced(in: ticket, now: now)
            case .ownTransaction(let endLSN, _):
                progress.eventProduced(in: ticket, now: now)
                _ = progress.tracker.commitTransaction(ticket, endLSN: endLSN)
            case .refusedRecord:
                // Stands in for the refused record, which still counts as in flight: its acknowledgement ends it.
                break
            }
            if outgoingCountsAsChange { changeHandled(at: record.position) }
        case .queueFull:
            queueFull = true
        case .failed(let error):
            // Refused at once (the topic is invalid, the record too large…): no delivery report follows.
            queueFull = false
            refusedAtOnce(record, error: error)
        }
    }

    /// librdkafka's queue may have room again (or the wait for it timed out).
    mutating func queueMayHaveRoom() {
        queueFull = false
    }

    /// What Kafka said about records produced earlier. Returns the commit and acknowledgement times (Unix
    /// microseconds) of the acknowledged events whose commit time is known, for the driver's timings.
    @discardableResult
    mutating func delivered(_ outcomes: [DeliveryOutcome], now: ContinuousClock.Instant) -> [AcknowledgementTiming] {
        var timings: [AcknowledgementTiming] = []
        timings.reserveCapacity(outcomes.count)
        for outcome in outcomes {
            switch progress.apply(outcome, policy: rules.onError, now: now) {
            case .acknowledged(let timing)?: timings.append(timing)
            case let notice?: notices.append(notice)
            case nil: break
            }
            if confirmingAcknowledgementArrivedAt == nil, case .acknowledged(_, let at, _) = outcome,
               progress.tracker.confirmed != lastReportedPosition {
                confirmingAcknowledgementArrivedAt = at
            }
        }
        if confirmationWaitingSince == nil, progress.tracker.confirmed != lastReportedPosition { confirmationWaitingSince = now }
        return timings
    }

    /// The outbox rows whose transactions Kafka has now acknowledged in full (`--mark-published`).
    mutating func takeConfirmedRows() -> [PublishedRow] {
        progress.takeConfirmedRows()
    }

    /// Stop at the end of the transaction being read, or by `deadline` at the latest.
    mutating func stopRequested(by deadline: ContinuousClock.Instant) {
        if stopBy == nil { stopBy = deadline }
    }

    /// The answer to the last `.ask`.
    mutating func answered(_ answer: CatalogAnswer) {
        guard let question = awaiting else { return }
        answers[question] = answer
        awaiting = nil
    }

    /// The server's WAL position, asked on another connection: the walsender's own positions only say how
    /// far it has decoded.
    mutating func serverWALObserved(_ position: LSN) {
        serverWALAsked = max(serverWALAsked, position)
    }

    // MARK: - What next

    mutating func nextAction(now: ContinuousClock.Instant) -> SessionAction {
        // What happened is said before the session ends for it.
        if noticeHead < notices.count { return takeNotice() }
        if let ending { return ending }
        if let fatal = progress.fatalError {
            return ended(.fail(fatal, drainFirst: fatal.leavesKafkaWorking))
        }
        // Confirm promptly: what Kafka has acknowledged is told to the server within a spacing, not at the
        // next status interval, so that a crash repeats as little as the acknowledgements allow.
        if progress.tracker.confirmed != lastReportedPosition, lastStatus.duration(to: now) >= Self.promptConfirmationSpacing {
            return .sendStatus(status(now: now, askingForReply: false))
        }
        if replyOwed || lastStatus.duration(to: now) >= rules.statusInterval {
            replyOwed = false
            return .sendStatus(status(now: now, askingForReply: true))
        }
        while true {
            // Stopping between transactions, or when finishing this one takes too long; a transaction cut short
            // is confirmed by nothing and read again after a restart.
            if let stopBy {
                if ticket == nil || now >= stopBy { return ended(.finish) }
                if !finishingBeforeStop {
                    finishingBeforeStop = true
                    return .notice(.finishingTransactionBeforeStop)
                }
            }
            if outgoing == nil, !queued.isEmpty {
                outgoing = queued.removeFirst()
                outgoingCountsAsChange = queued.isEmpty
            }
            if var record = outgoing {
                if queueFull { return .waitForQueueRoom(rules.queueWait) }
                if case .ownTransaction(let endLSN, nil) = record.owner {
                    record.owner = .ownTransaction(endLSN: endLSN, ticket: progress.tracker.beginTransaction())
                    outgoing = record
                }
                return .produce(record)
            }
            if let question = awaiting { return .ask(question) }
            if let deadLetter = nextDeadLetter() {
                outgoing = deadLetter
                outgoingCountsAsChange = false
                continue
            }
            guard backlogHead < backlog.count else { break }
            handleHeadOfBacklog()
            if noticeHead < notices.count { return takeNotice() }
            if let ending { return ending }
        }
        if let heartbeat = rules.heartbeatInterval, lastHeartbeat.duration(to: now) >= heartbeat {
            lastHeartbeat = now
            return .runHeartbeat
        }
        var untilStatus = rules.statusInterval - lastStatus.duration(to: now)
        // A confirmation waiting for its spacing to pass. (Acknowledgements that arrive while none waits wake
        // the read: the driver asks the delivery inbox for that, by `confirmationWaiting`.)
        if confirmationWaiting {
            untilStatus = min(untilStatus, Self.promptConfirmationSpacing - lastStatus.duration(to: now))
        }
        if let heartbeat = rules.heartbeatInterval {
            untilStatus = min(untilStatus, heartbeat - lastHeartbeat.duration(to: now))
        }
        if let stopBy { untilStatus = min(untilStatus, now.duration(to: stopBy)) }
        return .read(timeout: max(untilStatus, .zero))
    }

    /// A confirmed position not yet sent waits for the spacing of status updates: the read's timeout ends at
    /// the spacing, so acknowledgements need not wake it until then.
    var confirmationWaiting: Bool { progress.tracker.confirmed != lastReportedPosition }

    /// The last status update of an orderly stop, after Kafka had its time.
    mutating func finalStatus(now: ContinuousClock.Instant) -> StatusUpdate {
        status(now: now, askingForReply: true)
    }

    /// The session broke (not a stop, not a fatal error): what the run keeps. A transaction begun and not
    /// finished is kept for the next session to continue, when any of its changes was handled.
    mutating func sessionBroke() -> ConnectorProgress {
        if let ticket, let begin, changesHandled > 0, progress.tracker.openTransaction == ticket {
            progress.interrupted = InterruptedTransaction(
                ticket: ticket, transactionID: begin.transactionID, commitLSN: begin.commitLSN,
                changesHandled: changesHandled, lastChangePosition: lastChangePosition
            )
        } else {
            progress.interrupted = nil
            progress.tracker.abandonOpenTransaction()
        }
        return progress
    }

    /// Nothing waits to be handled or handed to librdkafka, and Kafka has acknowledged everything (dead
    /// letters included): the hand-off of pending rows is complete.
    var isSettled: Bool {
        backlogHead == backlog.count && outgoing == nil && queued.isEmpty && awaiting == nil && progress.deadLetters.isEmpty && progress.tracker.isIdle
    }

    // MARK: - Handling messages

    private mutating func receive(pgoutput payload: ArraySlice<UInt8>) {
        let message: PgOutputMessage
        do {
            message = try decoder.decode(payload)
        } catch {
            return end(.fail(.decoding(error, lsn: position), drainFirst: false))
        }
        if streamed.take(message, at: position, bytes: payload.count) {
            if streamed.heldBytes > rules.streamMaxHeldBytes {
                // Reconnect without streaming, so that the server spills such transactions to its disk and sends
                // each at its commit (and backpressure bounds memory).
                progress.streamingTurnedOff = true
                notices.append(.streamedTooMuch(heldBytes: streamed.heldBytes, position: position))
                end(.reconnect(reason: "streaming of in-progress transactions turned off"))
            }
            return
        }
        guard case .streamCommit(let commit) = message else {
            // Nothing waits before it (reading happens only then): handled at once, kept only if it must wait for
            // a catalog answer.
            if backlogHead == backlog.count, outgoing == nil, queued.isEmpty, awaiting == nil, ending == nil {
                handleNow(message, at: position)
            } else {
                backlog.append(PendingMessage(position: position, message: message))
            }
            return
        }
        // A streamed transaction committed: its held changes, handled as one ordinary transaction.
        let changes = streamed.commit(commit)
        notices.append(.streamedTransactionCommitted(transactionID: commit.transactionID, changes: changes.count, position: commit.commitLSN))
        backlog.append(PendingMessage(position: position, message: .begin(.init(finalLSN: commit.commitLSN, commitTimestamp: commit.commitTimestamp, transactionID: commit.transactionID))))
        for change in changes { backlog.append(PendingMessage(position: change.position, message: change.message)) }
        backlog.append(PendingMessage(position: position, message: .commit(.init(flags: 0, commitLSN: commit.commitLSN, endLSN: commit.endLSN, commitTimestamp: commit.commitTimestamp))))
    }

    /// Why handling a message stopped before its end.
    private enum Interruption: Error {
        /// It needs this answer first; nothing was changed yet, and it is handled again once answered.
        case ask(CatalogQuestion)
        case end(SessionAction)
    }

    /// The usual path: a message handled as it arrives, without passing through the backlog.
    private mutating func handleNow(_ message: PgOutputMessage, at messagePosition: LSN) {
        switch attempt(message, at: messagePosition) {
        case .ask(let question)?:
            // Handled again from its start once answered.
            backlog.append(PendingMessage(position: messagePosition, message: message))
            awaiting = question
        case .end(let action)?:
            end(action)
        case nil:
            break
        }
    }

    private mutating func handleHeadOfBacklog() {
        let pending = backlog[backlogHead]
        switch attempt(pending.message, at: pending.position, snapshot: pending.snapshot) {
        case .ask(let question)?:
            awaiting = question
            return
        case .end(let action)?:
            end(action)
            return
        case nil:
            break
        }
        if !answers.isEmpty { answers.removeAll() }
        backlogHead += 1
        if backlogHead == backlog.count {
            backlog.removeAll(keepingCapacity: backlog.capacity <= 1024)
            backlogHead = 0
        }
    }

    /// Handles one message at its position; returns what interrupted it, if anything.
    private mutating func attempt(_ message: PgOutputMessage, at messagePosition: LSN, snapshot: SnapshotMarker? = nil) -> Interruption? {
        position = messagePosition
        do {
            if let snapshot, case .insert(let row) = message {
                try publishChange([(row.relationID, .read(new: ChangeEventMapper.values(row.newTuple)))], row: row.newTuple, snapshot: snapshot)
            } else {
                try handle(message)
            }
            return nil
        } catch {
            return error
        }
    }

    /// The answer to a question, or an interruption to ask it.
    private func answer(_ question: CatalogQuestion) throws(Interruption) -> CatalogAnswer {
        guard let answer = answers[question] else { throw .ask(question) }
        return answer
    }

    private mutating func handle(_ message: PgOutputMessage) throws(Interruption) {
        switch message {
        case .begin(let begin):
            beginTransaction(begin)
        case .relation(let relation):
            try describe(relation)
        case .insert(let insert):
            guard ticket != nil else { return }
            if try passOver() { return }
            if mapper.publishesChangeEvents {
                return try publishChange([(insert.relationID, .insert(new: ChangeEventMapper.values(insert.newTuple)))], row: insert.newTuple)
            }
            try resolveRole(of: insert.relationID)
            try map(insert)
        case .commit(let commit):
            if passingOver != nil { try differsFromFirstReading() }
            if let ticket {
                _ = progress.tracker.commitTransaction(ticket, endLSN: commit.endLSN)
            }
            ticket = nil
            begin = nil
            transaction.transactionID = nil
            transaction.lastCommitLSN = commit.commitLSN
            transaction.lastCommitEndLSN = commit.endLSN
        case .message(let logical):
            if logical.isTransactional, ticket != nil, try passOver() { return }
            try publish(logical)
        case .truncate(let truncate):
            if ticket != nil, try passOver() { return }
            if mapper.publishesChangeEvents {
                return try publishChange(truncate.relationIDs.map { ($0, .truncate) }, row: nil)
            }
            if truncate.relationIDs.contains(where: { relations[$0]?.role?.outboxTable != nil }) {
                // Emptying the outbox publishes nothing (Debezium publishes nothing for it either), but say so.
                notices.append(.outboxTruncated(position: position))
            }
            changeHandled(at: position)
        case .update(let update):
            if ticket != nil, try passOver() { return }
            if mapper.publishesChangeEvents {
                let old = update.oldTuple.map { ChangeEventMapper.values($0.tuple) }
                let change = TableChange.update(old: old, oldIsKeyOnly: update.oldTuple?.kind == .key, new: ChangeEventMapper.values(update.newTuple))
                return try publishChange([(update.relationID, change)], row: update.newTuple)
            }
            // Only inserts are outbox events; a publication made by hand may send the rest.
            countIgnored(update.relationID, as: .update)
            changeHandled(at: position)
        case .delete(let delete):
            if ticket != nil, try passOver() { return }
            if mapper.publishesChangeEvents {
                let change = TableChange.delete(old: ChangeEventMapper.values(delete.oldTuple.tuple), oldIsKeyOnly: delete.oldTuple.kind == .key)
                return try publishChange([(delete.relationID, change)], row: delete.oldTuple.tuple)
            }
            countIgnored(delete.relationID, as: .delete)
            changeHandled(at: position)
        default:
            break
        }
    }

    private mutating func beginTransaction(_ begin: PgOutputMessage.Begin) {
        let commitTime = begin.commitTimestamp.unixEpochMicroseconds ?? 0
        transaction.transactionID = begin.transactionID
        transaction.commitTime = commitTime
        self.begin = (begin.transactionID, begin.finalLSN)
        lastChangePosition = .zero
        changesHandled = 0
        passingOver = nil
        if let interrupted = progress.interrupted, interrupted.commitLSN == begin.finalLSN,
           interrupted.transactionID == begin.transactionID, progress.tracker.openTransaction == interrupted.ticket {
            // Sent again after a break: its events handed to Kafka are in flight under its ticket still.
            ticket = interrupted.ticket
            passingOver = (interrupted.changesHandled, interrupted.lastChangePosition)
            changesHandled = interrupted.changesHandled
            lastChangePosition = interrupted.lastChangePosition
            notices.append(.transactionContinued(transactionID: begin.transactionID, passedOver: interrupted.changesHandled, commitLSN: begin.finalLSN))
        } else {
            // Abandons any transaction left open, whose events then no longer count towards a confirmation.
            ticket = progress.tracker.beginTransaction(commitTime: commitTime)
        }
        progress.interrupted = nil
    }

    /// Opens the transaction of rows handed over from a snapshot (no Begin message): `transactionID` and
    /// `startTime` (Unix microseconds) are the snapshot transaction's, which Debezium's snapshot reads carry.
    mutating func beginHandOver(at position: LSN, transactionID: UInt32? = nil, startTime: Int64 = 0) {
        ticket = progress.tracker.beginTransaction()
        begin = (nil, position)
        changesHandled = 0
        transaction = DebeziumTransactionContext(transactionID: transactionID, commitTime: startTime, lastCommitLSN: nil, lastCommitEndLSN: nil)
    }

    /// In a continued transaction, passes over the changes a broken session had handled. Returns whether
    /// this one was passed over.
    private mutating func passOver() throws(Interruption) -> Bool {
        guard var passing = passingOver else { return false }
        guard position <= passing.last else { try differsFromFirstReading() }
        passing.remaining -= 1
        if passing.remaining > 0 {
            passingOver = passing
        } else {
            guard position == passing.last else { try differsFromFirstReading() }
            passingOver = nil
        }
        return true
    }

    /// A continued transaction does not arrive as it did the first time: which of its changes were handled
    /// is not known, so it is read again from its start as a new transaction in a new session.
    private mutating func differsFromFirstReading() throws(Interruption) -> Never {
        progress.tracker.abandonOpenTransaction()
        ticket = nil
        passingOver = nil
        throw .end(.reconnect(reason: "a transaction sent again after a reconnect differs from its first sending; reading it again from its start"))
    }

    private mutating func changeHandled(at position: LSN) {
        guard ticket != nil else { return }
        changesHandled += 1
        lastChangePosition = position
    }

    private mutating func describe(_ relation: PgOutputMessage.Relation) throws(Interruption) {
        // An outbox table by name is known at once. Any other relation's role waits for its first row: a
        // publication via the partition root also describes the partition itself, whose id no row then
        // carries, and most relations of a FOR ALL TABLES publication need no catalog question.
        let name = QualifiedTableName(schema: relation.namespace, name: relation.name)
        // A relation described again (after ALTER TABLE) keeps the role it has, so that the mapper compares the
        // new columns with the old layout.
        let known = relations[relation.relationID].flatMap { $0.table == name ? $0.role : nil }
        let role: RelationRole? = known ?? (isOutboxTable(name) ? .outbox(name) : nil)
        if role != nil, let question = mapper.catalogQuestion(before: relation, of: name) {
            // A table Debezium's list matched after the start (a partition created since), or a captured table
            // altered since.
            mapper.learn(try answer(question), about: name)
        }
        let isOutbox: Bool
        do { isOutbox = try mapper.register(relation, as: role?.outboxTable, at: position) } catch { throw .end(Self.action(for: error)) }
        relations[relation.relationID] = DescribedRelation(relation: relation, table: name, tableLabel: name.description, role: role)
        notices.append(.relationDescribed(name, relationID: relation.relationID, isOutbox: isOutbox))
    }

    private static func action(for error: StreamingError) -> SessionAction {
        switch error.reason {
        case .fatal(let fatal): .fail(fatal, drainFirst: fatal.leavesKafkaWorking)
        case .transient(let reason), .slotBusy(let reason): .reconnect(reason: reason)
        }
    }

    /// An outbox table by its name alone: one of this session's, or one Debezium's list matches (as Debezium
    /// decides per row, a partition created since the start included).
    private func isOutboxTable(_ name: QualifiedTableName) -> Bool {
        if RelationRole.isKnownByName(name, outboxTables: rules.outboxTables) { return true }
        guard rules.readsTable, let list = rules.includeList else { return false }
        return list.includes(schema: name.schema, table: name.name)
    }

    /// Decides the role of a relation not named as an outbox table, at its first row: what the catalog says of
    /// its id now (a partition or child of an outbox table, or another table). The mapper then takes a
    /// partition's or child's Relation as its outbox table's.
    private mutating func resolveRole(of relationID: UInt32) throws(Interruption) {
        guard var known = relations[relationID], known.role == nil else { return }
        guard case .lineage(let lineage, let knownDescendantOf) = try answer(.lineage(relationID: relationID, name: known.table)) else { return }
        let relation = known.relation
        let role = RelationRole.of(
            known.table, outboxTables: rules.outboxTablesByLineage, knownDescendantOf: knownDescendantOf, lineage: lineage,
            publicationListsTables: rules.publicationListsTables, fitsOutbox: mapper.fits(relation)
        )
        if case .otherTable(let name) = role, let list = rules.includeList {
            // Under Debezium's list with the publication via the root: rows of a partition the list matches
            // arrive under its partitioned table's name, which the list does not match, and Debezium drops them
            // (a partition created since the start, which the start check could not see).
            if case .shape(.partitioned(let partitions)?) = try answer(.shape(name)),
               let matched = partitions.first(where: { list.includes(schema: $0.schema, table: $0.name) }) {
                throw .end(.fail(.setup(.partitionRowsNamedByUnmatchedRoot(matched, root: name, publication: rules.publication)), drainFirst: false))
            }
        }
        if let outbox = role.outboxTable {
            // Debezium publishes a row only under a name its table filter includes: rows named by a partition or
            // child are dropped by it. Stopping is the one deliberate difference (README).
            if case .debezium = mapper {
                throw .end(.fail(.rowsDebeziumWouldDrop(relation: known.table, outbox: outbox, lsn: position), drainFirst: true))
            }
            do { _ = try mapper.register(relation, as: outbox, at: position) } catch { throw .end(Self.action(for: error)) }
        }
        known.role = role
        relations[relationID] = known
        if case .outbox = role {} else if progress.announcedRelations.insert(role.relation).inserted {
            notices.append(.relationRole(role, relationID: relationID, position: position))
        }
    }

    /// An INSERT of the transaction being read: its record, or the error policy for a row that cannot be mapped.
    private mutating func map(_ insert: PgOutputMessage.Insert) throws(Interruption) {
        guard let ticket else { return }
        let mapped: (OutboxEvent, warning: String?)?
        do {
            mapped = try mapper.event(for: insert, at: position)
        } catch {
            guard case .fatal(let fatal) = error.reason, fatal.isAboutOneRow else { throw .end(Self.action(for: error)) }
            let described = relations[insert.relationID]
            let names = described?.columnNames ?? insert.newTuple.columns.indices.map { "column\($0 + 1)" }
            let row = zip(names, insert.newTuple.columns).map { name, value in
                (name: name, value: value.bytes.map { String(decoding: $0, as: UTF8.self) })
            }
            let eventID = row.first { $0.name == rules.eventIDColumn }?.value ?? "(unknown)"
            try poisoned(
                fatal, reason: fatal.rowProblem, eventID: eventID, table: described?.table, owner: .change(ticket),
                deadLetter: KafkaMessageContent(key: nil, value: CompactJSON.object(row), headers: [])
            )
            return
        }
        guard let (event, warning) = mapped else {
            if let table = relations[insert.relationID]?.tableLabel {
                notices.append(.rowIgnored(table: table, reason: .otherTable))
            }
            changeHandled(at: position)
            return
        }
        if let warning {
            notices.append(.mappingWarning(warning, eventID: event.eventIDText, position: position))
        }
        if rules.marksPublishedRows, let key = event.eventID, let table = relations[insert.relationID]?.role?.outboxTable {
            // Marked once its transaction is confirmed, as the old relay marks what it sent.
            progress.publishedRows.note(PublishedRow(table: table, primaryKey: String(decoding: key, as: UTF8.self)), in: ticket)
        }
        offer(RecordToProduce(event: event, owner: .change(ticket), position: position, commitTime: transaction.commitTime), countsAsChange: true)
    }

    /// A change of a table under Debezium's change events: its records in order (none for a table not captured,
    /// or an operation left out), or the error policy for a change that cannot become them. `row` is what a
    /// dead letter carries of it.
    private mutating func publishChange(
        _ changes: [(relationID: UInt32, change: TableChange)], row: PgOutputMessage.TupleData?, snapshot: SnapshotMarker = .none
    ) throws(Interruption) {
        guard let ticket else { return }
        var events: [OutboxEvent] = []
        for (relationID, change) in changes {
            guard mapper.captures(relationID: relationID) == true else {
                if let table = relations[relationID]?.tableLabel { notices.append(.rowIgnored(table: table, reason: .otherTable)) }
                continue
            }
            do {
                events += try mapper.changeRecords(for: change, relationID: relationID, transaction: transaction, at: position, snapshot: snapshot)
            } catch {
                guard case .fatal(let fatal) = error.reason, fatal.isAboutOneRow else { throw .end(Self.action(for: error)) }
                let described = relations[relationID]
                let names = described?.columnNames ?? []
                let values = (row?.columns ?? []).enumerated().map { index, value in
                    (name: index < names.count ? names[index] : "column\(index + 1)", value: value.bytes.map { String(decoding: $0, as: UTF8.self) })
                }
                try poisoned(
                    fatal, reason: fatal.rowProblem, eventID: "change of \(described?.tableLabel ?? "relation \(relationID)") at \(position)",
                    table: described?.table, owner: .change(ticket),
                    deadLetter: KafkaMessageContent(key: nil, value: CompactJSON.object(values), headers: [])
                )
                return
            }
        }
        guard !events.isEmpty else {
            changeHandled(at: position)
            return
        }
        let records = events.map { event in
            var record = RecordToProduce(event: event, owner: .change(ticket), position: position, commitTime: transaction.commitTime)
            record.walSentTime = walSentTime
            return record
        }
        outgoing = records[0]
        outgoingCountsAsChange = records.count == 1
        queued = Array(records.dropFirst())
    }

    /// A `pg_logical_emit_message` with the outbox prefix. A transactional one belongs to the transaction
    /// being received; a non-transactional one arrives on its own and is confirmed at its own position (not
    /// past it: it may repeat after a restart, never be skipped).
    private mutating func publish(_ message: PgOutputMessage.LogicalMessage) throws(Interruption) {
        let mapped: OutboxEvent?
        var failure: StreamingError?
        do { mapped = try mapper.event(for: message, transaction: transaction) } catch {
            mapped = nil
            failure = error
        }
        if !message.isTransactional { transaction.lastCommitLSN = message.lsn }
        guard mapped != nil || failure != nil else {
            changeHandled(at: position)
            return
        }
        let owner: RecordToProduce.Owner
        if message.isTransactional {
            guard let ticket else { return }
            owner = .change(ticket)
        } else {
            owner = .ownTransaction(endLSN: message.lsn, ticket: nil)
        }
        if let failure {
            guard case .fatal(let fatal) = failure.reason, fatal.isAboutOneRow else { throw .end(Self.action(for: failure)) }
            try poisoned(
                fatal, reason: fatal.rowProblem, eventID: "message \(message.prefix)", table: nil, owner: owner, at: message.lsn,
                deadLetter: KafkaMessageContent(key: Array(message.prefix.utf8), value: Array(message.content), headers: [])
            )
        } else if let mapped {
            offer(RecordToProduce(event: mapped, owner: owner, position: position, commitTime: transaction.commitTime), countsAsChange: message.isTransactional)
        }
    }

    private mutating func offer(_ record: RecordToProduce, countsAsChange: Bool) {
        outgoing = record
        outgoing?.walSentTime = walSentTime
        outgoingCountsAsChange = countsAsChange
    }

    /// Applies the error policy to an event that can never be published as it is.
    private mutating func poisoned(
        _ error: ConnectorError, reason: String, eventID: String, table: QualifiedTableName?, owner: RecordToProduce.Owner,
        at lsn: LSN? = nil, originalTopic: String? = nil, completesChange: Bool = true, deadLetter content: KafkaMessageContent
    ) throws(Interruption) {
        let lsn = lsn ?? position
        switch rules.onError {
        case .fail:
            throw .end(.fail(error, drainFirst: error.leavesKafkaWorking))
        case .skip:
            progress.skippedEvents += 1
            notices.append(.skipped(eventID: eventID, position: lsn, error: error, table: table))
            switch owner {
            case .change:
                // One record of several of a change (a delete before its tombstone) does not complete it.
                if completesChange { changeHandled(at: position) }
            case .ownTransaction(let endLSN, let ticket):
                // Nothing to wait for: its own transaction is complete at once.
                let own = ticket ?? progress.tracker.beginTransaction()
                _ = progress.tracker.commitTransaction(own, endLSN: endLSN)
            case .refusedRecord(let ticket):
                _ = progress.tracker.eventAcknowledged(in: ticket)
            }
        case .deadLetter(let topic):
            var content = content
            content.headers += DeadLetterHeaders.make(reason: reason, eventID: eventID, lsn: lsn, topic: originalTopic, table: table.map(\.description))
            notices.append(.deadLettered(eventID: eventID, position: lsn, error: error, topic: topic))
            progress.deadLetteredEvents += 1
            var record = RecordToProduce(
                event: DeadLetterContent.event(content, topic: topic, eventID: eventID), owner: owner, position: position,
                commitTime: transaction.commitTime
            )
            record.isDeadLetter = true
            offer(record, countsAsChange: { if case .change = owner { completesChange } else { false } }())
        }
    }

    /// librdkafka refused the record at once: fatal, or the error policy when it refuses it for what it is.
    private mutating func refusedAtOnce(_ record: RecordToProduce, error: KafkaError) {
        outgoing = nil
        let fatal = ConnectorError.deliveryFailed(eventID: record.event.eventIDText, topic: record.event.topic, error: error, confirmed: progress.tracker.confirmed)
        guard !record.isDeadLetter, error.refusesThisRecord, rules.onError != .fail else {
            return end(.fail(fatal, drainFirst: true))
        }
        let content = DeadLetterContent.of(
            KafkaMessageContent(key: record.event.key.map(Array.init), value: record.event.value.map(Array.init), headers: record.event.headers),
            refusedFor: error
        )
        let wasChange = outgoingCountsAsChange
        let savedPosition = position
        position = record.position
        defer { position = savedPosition }
        do {
            try poisoned(fatal, reason: "\(error)", eventID: record.event.eventIDText, table: nil, owner: record.owner, at: record.position,
                         originalTopic: record.event.topic, completesChange: wasChange, deadLetter: content)
        } catch {
            if case .end(let action) = error { end(action) }
            return
        }
        if outgoing != nil { outgoingCountsAsChange = wasChange }
    }

    /// A record Kafka refused in a delivery report, ready to go to the dead-letter topic. The report names no
    /// row: the position a dead letter says is the end of the event's transaction, so a letter waits until
    /// that transaction's Commit has been read (until then it is not confirmed anyway).
    private mutating func nextDeadLetter() -> RecordToProduce? {
        guard case .deadLetter(let topic) = rules.onError, !progress.deadLetters.isEmpty else { return nil }
        guard let index = progress.deadLetters.firstIndex(where: { progress.tracker.endLSN(of: $0.ticket) != nil }),
              let lsn = progress.tracker.endLSN(of: progress.deadLetters[index].ticket) else { return nil }
        let letter = progress.deadLetters.remove(at: index)
        var content = letter.content
        content.headers += DeadLetterHeaders.make(reason: letter.reason, eventID: letter.eventID, lsn: lsn, topic: letter.originalTopic, table: nil)
        notices.append(.refusedRecordDeadLettered(eventID: letter.eventID, reason: letter.reason, topic: topic))
        progress.deadLetteredEvents += 1
        var record = RecordToProduce(
            event: DeadLetterContent.event(content, topic: topic, eventID: letter.eventID), owner: .refusedRecord(letter.ticket),
            position: lsn, commitTime: 0
        )
        record.isDeadLetter = true
        return record
    }

    /// An UPDATE or DELETE: never published, always counted, without asking the catalog (no role is needed to
    /// know it is not an event).
    private mutating func countIgnored(_ relationID: UInt32, as reason: IgnoredRowReason) {
        guard let known = relations[relationID] else { return }
        switch known.role {
        case .otherTable, .otherTableWithOutboxColumns: notices.append(.rowIgnored(table: known.tableLabel, reason: .otherTable))
        case .outbox, .descendant, .goneWithOutboxColumns, nil: notices.append(.rowIgnored(table: known.tableLabel, reason: reason))
        }
    }

    // MARK: - Helpers

    private mutating func status(now: ContinuousClock.Instant, askingForReply: Bool) -> StatusUpdate {
        let tracker = progress.tracker
        let confirmed = tracker.confirmed
        let walEnd = max(serverWALEnd, serverWALAsked)
        let newlyConfirmed = tracker.transactionsConfirmed - progress.transactionsCounted
        progress.transactionsCounted = tracker.transactionsConfirmed
        let stall = progress.stallWatch.check(now: now, eventsWaiting: tracker.eventsInFlight, lastProgress: progress.lastProgress)
        var update = StatusUpdate(
            confirmed: confirmed,
            // A keepalive's reply is asked for only by the keepalive updates: asking each prompt update for one
            // would make a busy server answer a hundred times a second.
            replyRequested: tracker.isIdle && askingForReply,
            confirmedMoved: confirmed != lastReportedPosition,
            slotLagBytes: walEnd > confirmed ? walEnd.rawValue - confirmed.rawValue : 0,
            eventsInFlight: tracker.eventsInFlight, newlyConfirmedTransactions: newlyConfirmed,
            oldestUnacknowledgedCommitTime: tracker.oldestUnacknowledgedCommitTime, stall: stall
        )
        update.confirmationDelay = confirmationWaitingSince.map { $0.duration(to: now) }
        update.confirmingAcknowledgementArrivedAt = confirmingAcknowledgementArrivedAt
        lastStatus = now
        lastReportedPosition = confirmed
        confirmationWaitingSince = nil
        confirmingAcknowledgementArrivedAt = nil
        return update
    }

    private mutating func takeNotice() -> SessionAction {
        let notice = notices[noticeHead]
        noticeHead += 1
        if noticeHead == notices.count {
            notices.removeAll(keepingCapacity: true)
            noticeHead = 0
        }
        return .notice(notice)
    }

    /// Decides how the session ends (the first decision stands) and returns it.
    private mutating func ended(_ action: SessionAction) -> SessionAction {
        if ending == nil { ending = action }
        return ending ?? action
    }

    private mutating func end(_ action: SessionAction) {
        _ = ended(action)
    }
}

/// A message waiting in the backlog, at its WAL position; a snapshot read carries its place in the snapshot.
private struct PendingMessage {
    var position: LSN
    var message: PgOutputMessage
    var snapshot: SnapshotMarker?
}

/// A Relation message as described in this session, and the role of its relation once a row needed it.
struct DescribedRelation {
    var relation: PgOutputMessage.Relation
    var table: QualifiedTableName
    /// `table` as metrics and logs print it, made once.
    var tableLabel: String
    var role: RelationRole?
    var columnNames: [String] { relation.columns.map(\.name) }
}
