import Clocks
import KafkaClient
public import Logging
import Synchronization
public import WALReader

/// A polling outbox relay built the way the seed pollers (gox, goharvest, kafka-outbox-relay, Kafka Connect
/// JDBC) work, so the benchmark can set outbox-cdc against the design it replaces:
///
/// every `interval`, in one transaction, `SELECT … WHERE NOT sent ORDER BY seq LIMIT batch FOR UPDATE SKIP
/// LOCKED`, publish the rows, wait for Kafka's acknowledgements, `UPDATE … SET sent = true`, COMMIT. A full
/// batch polls again at once (otherwise a 100 ms / 50-row poller could never pass 500 events/s); a short
/// one sleeps out the rest of the interval. It uses the same librdkafka settings as outbox-cdc, so the
/// difference measured is the design, not the producer.
public final class PollingRelay: Sendable {
    public struct Settings: Sendable {
        public var database: ConnectionSettings
        public var brokers: String
        public var table: String
        public var interval: Duration
        public var batchSize: Int
        /// Over outbox-cdc's producer defaults.
        public var kafkaProperties: [String: String]

        public init(database: ConnectionSettings, brokers: String, table: String, interval: Duration, batchSize: Int, kafkaProperties: [String: String] = [:]) {
            self.kafkaProperties = kafkaProperties
            self.database = database
            self.brokers = brokers
            self.table = table
            self.interval = interval
            self.batchSize = batchSize
        }
    }

    /// What the relay asked of the database, for the benchmark's load figures.
    public struct Counters: Sendable {
        public var statements = 0
        public var polls = 0
        public var rowsPublished = 0
    }

    public static let readyMessage = "polling"
    public static let stoppedMessage = "polling relay stopped"

    private let settings: Settings
    private let logger: Logger
    private let stopRequested = Atomic<Bool>(false)

    public init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    /// Polls until `stop()`; blocking, so run it on a thread of its own.
    public func run() throws -> Counters {
        let connection = try PostgresConnection.connect(settings.database.renamed("outbox-cdc-bench-poller"))
        defer { connection.close() }
        let failures = Atomic<Int>(0)
        let properties = KafkaProducer.configuration(
            brokers: settings.brokers, clientID: "outbox-cdc-bench-poller", overrides: settings.kafkaProperties
        )
        let producer = try KafkaProducer(configuration: properties, logger: logger) { report in
            if report.error != nil { failures.add(1, ordering: .relaxed) }
        }
        defer { producer.shutdown() }

        let backendPID = try connection.query("SELECT pg_backend_pid() AS pid")[0, "pid"] ?? "0"
        logger.info("\(Self.readyMessage)", metadata: [
            "pg.backend_pid": "\(backendPID)", "poll.interval_ms": "\(settings.interval.nanoseconds / 1_000_000)",
            "poll.batch_size": "\(settings.batchSize)",
        ])
        let select = """
            SELECT id, aggregatetype, aggregateid, payload FROM public.\(settings.table)
            WHERE NOT sent ORDER BY seq LIMIT \(settings.batchSize) FOR UPDATE SKIP LOCKED
            """
        let markSent = "UPDATE public.\(settings.table) SET sent = true WHERE id = ANY($1::uuid[])"
        var counters = Counters()
        var correlation: UInt64 = 0
        while !stopRequested.load(ordering: .relaxed) {
            let pollStart = ContinuousClock.now
            try connection.query("BEGIN")
            let rows = try connection.query(select).rows
            counters.statements += 2
            counters.polls += 1
            for row in rows {
                guard row.count == 4, let id = row[0], let type = row[1] else { continue }
                correlation += 1
                let key = row[2].map { Array($0.utf8) }
                let value = row[3].map { Array($0.utf8) }
                let headers = [KafkaHeader(name: "id", string: id)]
                while true {
                    switch producer.produce(topic: "outbox.event.\(type)", key: key, value: value, headers: headers, correlation: correlation) {
                    case .enqueued:
                        break
                    case .queueFull:
                        producer.waitForQueueSpace(timeout: .milliseconds(100))
                        continue
                    case .failed(let error):
                        throw BenchError("polling relay: produce failed: \(error)")
                    }
                    break
                }
            }
            if !rows.isEmpty {
                guard producer.flush(timeout: .seconds(60)), failures.load(ordering: .relaxed) == 0 else {
                    throw BenchError("polling relay: Kafka did not acknowledge a batch")
                }
                let ids = "{" + rows.compactMap { $0.first ?? nil }.joined(separator: ",") + "}"
                try connection.query(markSent, parameters: [ids])
                counters.statements += 1
                counters.rowsPublished += rows.count
            }
            try connection.query("COMMIT")
            counters.statements += 1
            if rows.count < settings.batchSize {
                // Sleep out the interval in short steps, so that a stop is prompt.
                let due = pollStart + settings.interval
                while !stopRequested.load(ordering: .relaxed), ContinuousClock.now < due {
                    sleep(nanoseconds: min(ContinuousClock.now.duration(to: due), .milliseconds(10)).nanoseconds)
                }
            }
        }
        logger.info("\(Self.stoppedMessage)", metadata: [
            "poll.statements": "\(counters.statements)", "poll.polls": "\(counters.polls)",
            "poll.rows": "\(counters.rowsPublished)",
        ])
        return counters
    }
}
