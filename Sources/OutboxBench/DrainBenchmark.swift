import Clocks
import KafkaClient
public import Logging
import PostgresLSN
import PostgresWire
import Synchronization
import WALReader

/// `outbox-cdc bench drain`: a backlog of events already in the WAL, and the time outbox-cdc takes to have
/// every one acknowledged by Kafka (the slot confirmed past the last), beside the two limits under it,
/// measured in the same run on the same data: a bare libpq read of the same slot range (a second slot
/// created at the same point), and a bare librdkafka producer sending as many records of the same size.
public struct DrainBenchmark {
    public struct Options: Sendable {
        public var events = 200_000
        public var rowsPerTransaction = 20
        public var payloadBytes = 200
        public var timeout: Duration = .seconds(600)

        public init() {}
    }

    public let target: BenchTarget
    public let options: Options
    public let logger: Logger

    public init(target: BenchTarget, options: Options, logger: Logger) {
        self.target = target
        self.options = options
        self.logger = logger
    }

    public func run() throws -> DrainReport {
        let objects = BenchObjects()
        let database = BenchDatabase(settings: target.database, objects: objects)
        let startLSN = try database.create(rawReadSlot: true)
        defer { database.dropAll() }

        logger.info("writing the backlog", metadata: ["bench.events": "\(options.events)", "bench.prefix": "\(objects.prefix)"])
        try writeBacklog(database: database, objects: objects)
        // Let the server settle before anything is timed: the backlog wakes autovacuum, and a checkpoint
        // would otherwise land in whichever measurement comes first.
        try quiesce(database: database, objects: objects)

        logger.info("raw limit: reading the slot with libpq")
        let rawRead = try readRaw(slot: objects.rawReadSlot, publication: objects.publication, from: startLSN)
        logger.info("raw limit: producing with librdkafka")
        let rawProduceSeconds = try produceRaw(topic: objects.topic("drain_raw"))

        logger.info("outbox-cdc: draining")
        let control = try database.connect()
        defer { control.close() }
        let spawned = ContinuousClock.now
        let child = try ChildProcess(
            executable: target.executable,
            arguments: [
                "run", "--slot", objects.connectorSlot, "--publication", objects.publication,
                "--table", "public.\(objects.cdcTable)", "--no-create", "--log-format", "json",
                // Confirm promptly, so the slot shows the moment the last acknowledgement arrives.
                "--status-interval-ms", "10",
            ] + target.kafkaPropertyArguments,
            environment: target.childEnvironment,
            logPath: "\(target.logDirectory)/\(objects.prefix)-drain.log"
        )
        defer { child.terminate() }
        let deadline = spawned + options.timeout
        while true {
            if let confirmed = try database.slotState(control, slot: objects.connectorSlot).confirmed, confirmed >= rawRead.lastCommitEnd {
                break
            }
            guard ContinuousClock.now < deadline else {
                throw BenchError("outbox-cdc did not confirm \(rawRead.lastCommitEnd) within \(options.timeout); its log: \(child.logPath)")
            }
            // Each look is a query its backend must serve: every millisecond cost that backend about a
            // tenth of a core here, taken from the walsender and outbox-cdc; 5 ms costs a quarter of a
            // percent of a two-second drain in resolution.
            sleep(nanoseconds: 5_000_000)
        }
        let seconds = (ContinuousClock.now - spawned).seconds
        // The walsender serving outbox-cdc did the decoding on the server's side: its CPU against the
        // relay's shows which of the two set the pace.
        let walsenderCPU = try database.slotState(control, slot: objects.connectorSlot).activePID
            .flatMap { ProcessStatistics.cpuSeconds(pid: $0) }
        // Read before the process goes: where its CPU went shows whether reading or producing costs more.
        let threadCPU = child.threadCPUSeconds
        let exit = child.terminate()

        let events = Double(options.events)
        let rawReadRate = events / rawRead.seconds
        let rawProduceRate = events / rawProduceSeconds
        let rate = events / seconds
        return DrainReport(
            events: options.events, seconds: seconds, eventsPerSecond: rate,
            rawReadEventsPerSecond: rawReadRate, rawProduceEventsPerSecond: rawProduceRate,
            ratioToLimit: rate / min(rawReadRate, rawProduceRate), peakRSSBytes: exit.peakResidentBytes,
            rowsPerTransaction: options.rowsPerTransaction, payloadBytes: options.payloadBytes,
            walBytes: Int(rawRead.lastCommitEnd.rawValue - startLSN.rawValue),
            relayCPUSeconds: exit.cpuSeconds, relayThreadCPUSeconds: threadCPU, walsenderCPUSeconds: walsenderCPU
        )
    }

    /// Commits the events in transactions of `rowsPerTransaction` rows, from one server-side loop.
    private func writeBacklog(database: BenchDatabase, objects: BenchObjects) throws {
        let connection = try database.connect()
        defer { connection.close() }
        // The same payload shape the latency writers send, padded to the same size.
        let template = StampedPayload.make(sentNanoseconds: 1_700_000_000_000_000_000, size: options.payloadBytes)
        let perTransaction = max(1, options.rowsPerTransaction)
        try connection.query("""
            DO $bench$
            DECLARE
                total constant int := \(options.events);
                per_transaction constant int := \(perTransaction);
                written int := 0;
            BEGIN
                WHILE written < total LOOP
                    INSERT INTO public.\(objects.cdcTable) (aggregatetype, aggregateid, type, payload)
                    SELECT \(try connection.literal(objects.aggregateType("drain"))), 'key-' || ((written + g) % 64), 'bench',
                           \(try connection.literal(template))::jsonb
                    FROM generate_series(1, least(per_transaction, total - written)) AS g;
                    written := written + per_transaction;
                    COMMIT;
                END LOOP;
            END
            $bench$
            """)
    }

    private func quiesce(database: BenchDatabase, objects: BenchObjects) throws {
        let connection = try database.connect()
        defer { connection.close() }
        try connection.query("VACUUM (ANALYZE) public.\(objects.cdcTable)")
        try connection.query("CHECKPOINT")
    }

    /// Reads the slot from `start` until every Insert and the Commit after the last have arrived, looking
    /// at each message's first byte and nothing more.
    private func readRaw(slot: String, publication: String, from start: LSN) throws -> (seconds: Double, lastCommitEnd: LSN) {
        let began = ContinuousClock.now
        let connection = try PostgresConnection.connect(target.database.renamed("outbox-cdc-bench-raw-read"), replication: true)
        defer { connection.close() }
        let stream = try ReplicationStream.start(
            on: connection, slot: slot, from: start,
            pluginOptions: [("proto_version", "1"), ("publication_names", try connection.identifier(publication))],
            wakeup: Wakeup()
        )
        defer { stream.finish() }
        var inserts = 0
        let deadline = began + options.timeout
        while ContinuousClock.now < deadline {
            guard case .message(let message) = try stream.read(timeout: .seconds(1)) else { continue }
            // XLogData: 'w', walStart, walEnd, sendTime (8 bytes each), then the pgoutput message.
            guard message.count > 25, message[0] == UInt8(ascii: "w") else { continue }
            switch message[25] {
            case UInt8(ascii: "I"):
                inserts += 1
            case UInt8(ascii: "C") where inserts >= options.events:
                // Commit: flags (1), commit LSN (8), end LSN (8), time (8).
                var commit = BigEndianReader(message[(25 + 10)...])
                guard let end = commit.readUInt64() else { throw BenchError("short Commit message") }
                return ((ContinuousClock.now - began).seconds, LSN(end))
            default:
                break
            }
        }
        throw BenchError("the bare read saw \(inserts) of \(options.events) inserts within \(options.timeout)")
    }

    /// Produces as many records as there are events, of the same size, with outbox-cdc's settings.
    private func produceRaw(topic: String) throws -> Double {
        let began = ContinuousClock.now
        let properties = target.producerProperties(clientID: "outbox-cdc-bench-raw-produce")
        let failures = Atomic<Int>(0)
        let producer = try KafkaProducer(configuration: properties, logger: logger) { report in
            if report.error != nil { failures.add(1, ordering: .relaxed) }
        }
        defer { producer.shutdown() }
        let value = Array(StampedPayload.make(sentNanoseconds: 1_700_000_000_000_000_000, size: options.payloadBytes).utf8)
        // An event id is a UUID in text, 36 bytes.
        let id = Array("00000000-0000-4000-8000-000000000000".utf8)
        for index in 0 ..< options.events {
            let key = Array("key-\(index % 64)".utf8)
            while true {
                let result = producer.produce(topic: topic, key: key, value: value, headers: [KafkaHeader(name: "id", value: id)], correlation: UInt64(index + 1))
                if result == .enqueued { break }
                guard result == .queueFull else { throw BenchError("bare producer: \(result)") }
                producer.waitForQueueSpace(timeout: .milliseconds(100))
            }
        }
        guard producer.flush(timeout: options.timeout), failures.load(ordering: .relaxed) == 0 else {
            throw BenchError("bare producer: the broker did not acknowledge every record")
        }
        return (ContinuousClock.now - began).seconds
    }
}
