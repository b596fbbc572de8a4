import Clocks
import DebeziumFormat
import KafkaClient
import Logging
import PostgresLSN
import PostgresWire
import WALReader

/// Carries out a `SessionMachine`'s actions on the reading thread: owns the replication stream, the catalog
/// connection (`ServerWatch`) and the heartbeat connection; produces to the run's producer. It decides
/// nothing the machine can decide: it asks, does, and reports back.
struct SessionDriver {
    let connector: OutboxConnector
    let producer: KafkaProducer
    let replication: ReplicationStream
    private(set) var machine: SessionMachine
    var serverWatch: ServerWatch
    /// The ordinary connection the heartbeat statement runs on, opened at the first beat.
    private var heartbeatConnection: PostgresConnection?
    /// Actions carried out since the inputs from other threads were last taken in.
    private var actionsSinceInputs = 0
    /// When the last replication message was read (Unix microseconds), for the records made from it.
    private var lastReadTime: Int64 = 0

    init(connector: OutboxConnector, producer: KafkaProducer, replication: ReplicationStream, machine: SessionMachine, serverWatch: ServerWatch) {
        self.connector = connector
        self.producer = producer
        self.replication = replication
        self.machine = machine
        self.serverWatch = serverWatch
    }

    var logger: Logger { connector.logger }

    /// Runs the session until the machine finishes it (returns: a stop) or ends it (throws: a reconnect or a
    /// fatal error).
    mutating func run() throws(StreamingError) {
        do {
            try carryOutActions()
        } catch {
            // Whatever broke, what Kafka did acknowledge is still worth confirming.
            try? send(machine.finalStatus(now: .now))
            throw error
        }
    }

    private mutating func carryOutActions() throws(StreamingError) {
        while true {
            // Other threads' inputs before each wait, and every so often while messages are being handled.
            if actionsSinceInputs >= 64 { takeInputs() }
            let action = machine.nextAction(now: .now)
            if case .read = action {} else { actionsSinceInputs += 1 }
            switch action {
            case .read(let timeout):
                // Asking for `.read` changes nothing in the machine: with the inputs taken in first, it may
                // have something else due (a confirmation, a stop), so it is asked again.
                if actionsSinceInputs > 0 {
                    takeInputs()
                    continue
                }
                // A commit read after its events' acknowledgements confirms them without any report to come.
                connector.markConfirmedRows(machine.takeConfirmedRows())
                try checkServer()
                // An acknowledgement wakes the wait only when what it confirms could be sent at once; while a
                // confirmation waits for the spacing, the timeout ends the wait at the spacing. Outcomes that
                // came meanwhile are taken first.
                guard connector.inbox.wakeOnAcknowledgement(!machine.confirmationWaiting) else {
                    takeInputs()
                    continue
                }
                let read: ReplicationStream.ReadResult
                do {
                    read = try replication.read(timeout: timeout)
                } catch {
                    throw StreamingError(error)
                }
                if case .message(let bytes) = read {
                    lastReadTime = WallClock.nowMicroseconds()
                    machine.received(bytes[...])
                    actionsSinceInputs += 1
                } else {
                    // Woken, or the timeout (the spacing) passed: what Kafka said meanwhile goes into the
                    // status update due now.
                    takeInputs()
                }
            case .produce(let record):
                connector.produce(record, with: producer, reportingTo: &machine, readAt: lastReadTime)
            case .waitForQueueRoom(let timeout):
                _ = producer.waitForQueueSpace(timeout: timeout)
                machine.queueMayHaveRoom()
                takeInputs()
            case .sendStatus(let update):
                try send(update)
            case .runHeartbeat:
                beat()
            case .ask(let question):
                machine.answered(try ask(question))
            case .notice(let notice):
                connector.say(notice)
            case .finish:
                // Stopping: give Kafka its bounded time, then tell the server exactly what was acknowledged.
                connector.drain(producer)
                takeInputs()
                try send(machine.finalStatus(now: .now))
                let progress = machine.progress
                logger.info("stopped", metadata: [
                    "cdc.lsn": "\(progress.tracker.confirmed)", "cdc.events_skipped": .stringConvertible(progress.skippedEvents),
                    "cdc.events_dead_lettered": .stringConvertible(progress.deadLetteredEvents),
                ])
                return
            case .fail(let error, let drainFirst):
                // A row that cannot be published, or a record Kafka refused, leaves Kafka working: let what came
                // before it be acknowledged (as Debezium's task had sent it before dying), so that less is repeated.
                if drainFirst {
                    connector.drain(producer)
                    takeInputs()
                }
                throw StreamingError(error)
            case .reconnect(let reason):
                throw StreamingError(reason: .transient(reason))
            }
        }
    }

    /// Delivery outcomes and the stop request, from the other threads.
    private mutating func takeInputs() {
        actionsSinceInputs = 0
        if connector.takeDeliveries(into: &machine) {
            connector.publishHealth(of: machine.progress, slotLagBytes: nil)
        }
        if let stopBy = connector.stopDeadline { machine.stopRequested(by: stopBy) }
    }

    /// The session's progress for the next one: a transaction cut short is kept for it to continue.
    mutating func progressAfterBreak() -> ConnectorProgress {
        takeInputs()
        return machine.sessionBroke()
    }

    private mutating func checkServer() throws(StreamingError) {
        do {
            try serverWatch.checkIfDue(streamedUpTo: machine.serverWALEnd, logger: logger)
        } catch {
            throw StreamingError(error)
        }
        if let wal = serverWatch.serverWAL { machine.serverWALObserved(wal) }
    }

    private mutating func ask(_ question: CatalogQuestion) throws(StreamingError) -> CatalogAnswer {
        switch question {
        case .lineage(let relationID, let name):
            let lineage = try serverWatch.lineage(ofRelation: relationID, named: name)
            return .lineage(lineage, knownDescendantOf: connector.outboxFamily.outboxTable(ofDescendant: relationID))
        case .shape(let table):
            return .shape(try serverWatch.shape(of: table))
        case .notNullColumns(let table):
            return .notNullColumns(try serverWatch.notNullColumns(of: table))
        case .capturedTable(let table):
            return .capturedTable(try serverWatch.capturedTable(table, modes: connector.configuration.changeEventValueModes ?? ColumnValueModes()))
        }
    }

    /// Tells the server what is confirmed, and records the gauges beside it.
    private func send(_ update: StatusUpdate) throws(StreamingError) {
        var status = StandbyStatusUpdate(confirmed: update.confirmed, clientTime: PostgresTimestamp.now)
        status.replyRequested = update.replyRequested
        do {
            try replication.send(status)
        } catch {
            throw StreamingError(error)
        }
        connector.recordStatus(update, producerQueueDepth: producer.outstandingMessageCount)
        let acknowledgementToConfirmation = update.confirmingAcknowledgementArrivedAt.map { max(0, WallClock.nowMicroseconds() - $0) }
        if let acknowledgementToConfirmation { connector.confirmed(acknowledgementToConfirmationMicroseconds: acknowledgementToConfirmation) }
        connector.publishHealth(of: machine.progress, slotLagBytes: update.slotLagBytes)
        // Up to 100 times a second under load: the line's metadata is built only when it is written.
        if update.confirmedMoved, logger.logLevel <= .debug {
            var metadata: Logger.Metadata = ["cdc.lsn": "\(update.confirmed)"]
            if let delay = update.confirmationDelay { metadata["cdc.confirmation_delay_ms"] = .stringConvertible(delay.milliseconds) }
            if let acknowledgementToConfirmation {
                metadata["cdc.acknowledgement_to_confirmation_ms"] = .stringConvertible(Double(acknowledgementToConfirmation) / 1000)
            }
            logger.debug("confirmed", metadata: metadata)
        }
    }

    /// Runs the heartbeat statement, and under Debezium's format writes its heartbeat record. A failure is
    /// logged and retried at the next interval (the statement on a new connection): a heartbeat helps the
    /// slot along, it never decides what is published.
    private mutating func beat() {
        guard let heartbeat = connector.configuration.heartbeat else { return }
        connector.produceDebeziumHeartbeat(with: producer)
        guard let statement = heartbeat.statement else { return }
        do {
            let connection = try heartbeatConnection ?? PostgresConnection.connect(connector.configuration.database)
            heartbeatConnection = connection
            try connection.query(statement)
        } catch {
            heartbeatConnection?.close()
            heartbeatConnection = nil
            logger.warning("the heartbeat statement failed", metadata: ["error": "\(error)"])
        }
    }

    /// Closes the session's own connections.
    mutating func close() {
        serverWatch.close()
        heartbeatConnection?.close()
        heartbeatConnection = nil
    }
}

/// What the session's driver and the hand-over's both do with their machine.
extension OutboxConnector {
    /// Hands the machine's record to librdkafka and tells the machine what librdkafka did with it.
    /// `readAt`: when the message the record comes from was read (Unix microseconds; 0 when it came from no
    /// stream), for timings.
    func produce(_ record: RecordToProduce, with producer: KafkaProducer, reportingTo machine: inout SessionMachine, readAt: Int64 = 0) {
        var partition = record.event.partition
        if let hash = record.event.partitionKeyHash {
            // The old relay's partitioner places the record by a count only the cluster knows.
            do {
                partition = SaramaHashPartitioner.partition(hash: hash, partitions: try producer.partitionCount(topic: record.event.topic))
            } catch {
                // Waited for as librdkafka waits for a broker (message.timeout.ms=0): without end, said
                // in the log, the slot staying before the record.
                let failingFor = producer.partitionCountFailing(topic: record.event.topic).map { $0.duration(to: .now) } ?? .zero
                // Said at the first failure and every ten seconds after, not at each try.
                if failingFor < .seconds(1) || failingFor.milliseconds % 10_000 < 1_000 { logger.warning("the topic's partition count is unknown, so the record cannot be placed as the table format places it yet; asking again", metadata: [
                    "kafka.topic": "\(record.event.topic)", "error": "\(error)", "kafka.failing_ms": .stringConvertible(failingFor.milliseconds),
                ]) }
                // Handled as a full queue: the machine keeps the record and asks again after a wait (at most
                // once a second: partitionCount paces itself).
                machine.produced(.queueFull, now: .now)
                return
            }
        }
        let result = producer.produce(
            topic: record.event.topic, key: record.event.key, value: record.event.value, headers: record.event.headers,
            partition: partition, timestamp: record.event.timestamp, correlation: record.ticket ?? 0
        )
        machine.produced(result, now: .now)
        if case .enqueued = result { handedToKafka(record, readAt: readAt) }
    }

    /// Debezium's heartbeat record, when the format has one: on partition 0, outside every transaction (its
    /// delivery report confirms nothing). Not taken when librdkafka's queue is full: the next beat comes.
    func produceDebeziumHeartbeat(with producer: KafkaProducer) {
        guard case .debezium(let settings) = configuration.recordFormat, let prefix = settings.heartbeatTopicsPrefix else { return }
        let event: OutboxEvent
        do {
            event = try ChangeEventRecordWriter(settings: settings).heartbeat(heartbeatTopicsPrefix: prefix, milliseconds: WallClock.nowMicroseconds() / 1_000)
        } catch {
            logger.warning("the heartbeat record could not be written", metadata: ["error": "\(error)"])
            return
        }
        let result = producer.produce(
            topic: event.topic, key: event.key, value: event.value, headers: [], partition: event.partition, timestamp: nil,
            correlation: Self.heartbeatCorrelation
        )
        if case .enqueued = result {
            // A stop's drain waits for one report per record handed over, this one's too.
            recordsHandedToKafka.add(1, ordering: .relaxed)
        } else {
            logger.debug("the heartbeat record was not taken", metadata: ["kafka.result": "\(result)"])
        }
    }

    /// The correlation of a heartbeat record, whose report the delivery thread tells apart: no ticket (tickets
    /// count up from 1 and never reach it; librdkafka's correlations must be nonzero).
    static let heartbeatCorrelation = UInt64.max

    /// Gives the machine what Kafka reported since the last take, and records the acknowledgements' timings.
    /// Returns whether anything came.
    func takeDeliveries(into machine: inout SessionMachine) -> Bool {
        let outcomes = inbox.takeAll()
        guard !outcomes.isEmpty else { return false }
        for timing in machine.delivered(outcomes, now: .now) { acknowledged(timing) }
        markConfirmedRows(machine.takeConfirmedRows())
        return true
    }
}
