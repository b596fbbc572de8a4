import Clocks
import Histogram
import KafkaClient
public import Logging
import PostgresLSN
public import WALReader

/// Where the benchmark runs: the database, the brokers, and the outbox-cdc executable it starts.
public struct BenchTarget: Sendable {
    public var database: ConnectionSettings
    public var brokers: String
    /// The outbox-cdc binary; the benchmark runs the connector and the polling relay as child processes
    /// so that each one's CPU time and peak RSS are its own.
    public var executable: String
    /// Where the children's logs go (kept after the run for a look).
    public var logDirectory: String
    /// librdkafka properties for every producer in the run (outbox-cdc's, the poller's, the bare ones),
    /// over outbox-cdc's defaults, so that all of them always run with the same settings.
    public var kafkaProperties: [String: String]

    public init(database: ConnectionSettings, brokers: String, executable: String, logDirectory: String, kafkaProperties: [String: String] = [:]) {
        self.database = database
        self.brokers = brokers
        self.executable = executable
        self.logDirectory = logDirectory
        self.kafkaProperties = kafkaProperties
    }

    /// outbox-cdc's producer settings with the run's overrides.
    func producerProperties(clientID: String) -> [String: String] {
        KafkaProducer.configuration(brokers: brokers, clientID: clientID, overrides: kafkaProperties)
    }

    /// The overrides as a child's `--kafka-property` arguments.
    var kafkaPropertyArguments: [String] {
        kafkaProperties.sorted { $0.key < $1.key }.flatMap { ["--kafka-property", "\($0.key)=\($0.value)"] }
    }

    /// The children's environment: secrets travel there rather than on a command line anyone can read.
    var childEnvironment: [String: String] {
        ["OUTBOX_CDC_DB": database.connectionString, "OUTBOX_CDC_BROKERS": brokers]
    }
}

/// `outbox-cdc bench latency`: the same stamped load through outbox-cdc and through a polling relay, each
/// event timed from just before its commit to its arrival at a consumer; beside them, the broker's own
/// produce-to-consume latency at the same rate.
public struct LatencyBenchmark {
    public struct Options: Sendable {
        public var rate = 1000
        public var duration: Duration = .seconds(20)
        public var warmup: Duration = .seconds(2)
        public var writers = 4
        public var payloadBytes = 200
        public var pollInterval: Duration = .milliseconds(100)
        public var batchSize = 50
        public var fetchWaitMilliseconds = 5
        /// How long after the last write the consumer may wait for the last event.
        public var settleTimeout: Duration = .seconds(60)
        public var modes: [LatencyMode] = LatencyMode.allCases
        /// The broker's process, when it runs on this machine: its CPU is reported beside the relays'.
        public var brokerPID: Int32?

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

    /// Runs every mode in turn; blocking. Creates its tables, publication and slot and drops them after.
    public func run() throws -> LatencyReport {
        let objects = BenchObjects()
        let database = BenchDatabase(settings: target.database, objects: objects)
        try database.create()
        defer { database.dropAll() }
        logger.info("bench objects created", metadata: ["bench.prefix": "\(objects.prefix)"])

        var report = LatencyReport(settings: .init(options))
        for mode in options.modes {
            logger.info("measuring", metadata: ["bench.mode": "\(mode.rawValue)", "bench.rate": "\(options.rate)"])
            let measured = try measure(mode, objects: objects, database: database)
            logger.info("measured", metadata: [
                "bench.mode": "\(mode.rawValue)", "bench.p50_ms": "\(measured.run.p50Milliseconds)",
                "bench.p99_ms": "\(measured.run.p99Milliseconds)", "bench.events": "\(measured.run.events)",
            ])
            report.add(measured.run, histogram: measured.histogram)
        }
        return report
    }

    private func measure(_ mode: LatencyMode, objects: BenchObjects, database: BenchDatabase) throws -> (run: LatencyRun, histogram: Histogram<UInt64>) {
        let control = try database.connect()
        defer { control.close() }

        // The relay under test, started and ready before any event is written.
        var relay: ChildProcess?
        var backendPID: Int32?
        var table: String?
        switch mode {
        case .broker:
            break
        case .cdc:
            let child = try ChildProcess(
                executable: target.executable,
                arguments: [
                    "run", "--slot", objects.connectorSlot, "--publication", objects.publication,
                    "--table", "public.\(objects.cdcTable)", "--no-create", "--log-format", "json",
                ] + target.kafkaPropertyArguments,
                environment: target.childEnvironment,
                logPath: "\(target.logDirectory)/\(objects.prefix)-cdc-\(options.rate).log"
            )
            relay = child
            try child.waitForLog(message: "streaming", timeout: .seconds(30))
            backendPID = try database.slotState(control, slot: objects.connectorSlot).activePID
            table = objects.cdcTable
        case .poll:
            let child = try ChildProcess(
                executable: target.executable,
                arguments: [
                    "bench", "poll-relay", "--table", objects.pollTable,
                    "--poll-interval-ms", "\(options.pollInterval.nanoseconds / 1_000_000)",
                    "--batch-size", "\(options.batchSize)", "--log-format", "json",
                ] + target.kafkaPropertyArguments,
                environment: target.childEnvironment,
                logPath: "\(target.logDirectory)/\(objects.prefix)-poll-\(options.rate).log"
            )
            relay = child
            let ready = try child.waitForLog(message: PollingRelay.readyMessage, timeout: .seconds(30))
            backendPID = ready["pg.backend_pid"].flatMap { Int32($0) }
            table = objects.pollTable
        }
        defer { relay?.terminate() }

        let start = WallClock.nowNanoseconds() + 200_000_000
        let schedule = PacedLoad.Schedule(
            rate: options.rate, payloadBytes: options.payloadBytes, startNanoseconds: start,
            measureFromNanoseconds: start + options.warmup.nanoseconds,
            endNanoseconds: start + options.warmup.nanoseconds + options.duration.nanoseconds
        )
        let consumer = try LatencyConsumer(
            brokers: target.brokers, topic: objects.topic(mode.rawValue), fetchWaitMilliseconds: options.fetchWaitMilliseconds,
            measureFromNanoseconds: schedule.measureFromNanoseconds, logger: logger
        )
        let consumerThread = consumer.start()

        // Load figures cover the relay's whole working window: from ready to the last event consumed.
        let windowStart = WallClock.nowNanoseconds()
        let relayCPUStart = relay?.cpuSeconds ?? 0
        let runQueueWaitStart = runQueueWaits(relay: relay?.pid, backend: backendPID)
        let brokerCPUStart = options.brokerPID.flatMap { ProcessStatistics.cpuSeconds(pid: $0) }
        let backendCPUStart = backendPID.flatMap { ProcessStatistics.cpuSeconds(pid: $0) } ?? 0
        let scannedStart = try table.map { try database.rowsScanned(control, table: $0) } ?? 0

        let load: PacedLoad.Running = switch mode {
        case .broker:
            PacedLoad.startProducer(properties: target.producerProperties(clientID: "outbox-cdc-bench-producer"), topic: objects.topic(mode.rawValue), schedule: schedule, logger: logger)
        case .cdc:
            PacedLoad.startWriters(settings: target.database, table: objects.cdcTable, aggregateType: objects.aggregateType(mode.rawValue), writers: options.writers, schedule: schedule)
        case .poll:
            PacedLoad.startWriters(settings: target.database, table: objects.pollTable, aggregateType: objects.aggregateType(mode.rawValue), writers: options.writers, schedule: schedule)
        }
        let outcome = try load.join()
        let (histogram, received) = try consumer.finish(expected: outcome.measuredEvents, timeout: options.settleTimeout, thread: consumerThread)
        let windowEnd = WallClock.nowNanoseconds()
        let relayCPUEnd = relay?.cpuSeconds ?? relayCPUStart
        let runQueueWaitEnd = runQueueWaits(relay: relay?.pid, backend: backendPID)
        let brokerCPUEnd = options.brokerPID.flatMap { ProcessStatistics.cpuSeconds(pid: $0) }
        let backendCPUEnd = backendPID.flatMap { ProcessStatistics.cpuSeconds(pid: $0) } ?? backendCPUStart
        let exit = relay?.terminate()
        // The poller's backend has exited with the poller, so its statistics are flushed by now.
        let scannedEnd = try table.map { try database.rowsScanned(control, table: $0) } ?? 0
        let windowSeconds = Double(windowEnd - windowStart) / 1e9

        var run = LatencyRun(mode: mode.rawValue, targetRate: options.rate, histogram: histogram)
        run.achievedRate = Double(outcome.measuredEvents) / options.duration.seconds
        run.events = received
        run.lost = max(0, outcome.measuredEvents - received)
        run.peakRSSBytes = exit?.peakResidentBytes
        if let brokerCPUStart, let brokerCPUEnd {
            run.brokerCPUPercent = percent(brokerCPUEnd - brokerCPUStart, of: windowSeconds)
        }
        func waitPerSecond(_ start: Double?, _ end: Double?) -> Double? {
            guard let start, let end, windowSeconds > 0 else { return nil }
            return ((end - start) * 1000 / windowSeconds * 100).rounded() / 100
        }
        run.relayRunQueueWait = waitPerSecond(runQueueWaitStart.relay, runQueueWaitEnd.relay)
        run.databaseBackendRunQueueWait = waitPerSecond(runQueueWaitStart.backend, runQueueWaitEnd.backend)
        run.brokerRunQueueWait = waitPerSecond(runQueueWaitStart.broker, runQueueWaitEnd.broker)
        if relay != nil {
            run.relayCPUPercent = percent(relayCPUEnd - relayCPUStart, of: windowSeconds)
            run.databaseBackendCPUPercent = percent(backendCPUEnd - backendCPUStart, of: windowSeconds)
            run.databaseRowsScanned = scannedEnd - scannedStart
        }
        switch mode {
        case .broker:
            if let acknowledgements = outcome.acknowledgementLatency, acknowledgements.totalCount > 0 {
                run.toAckP50Milliseconds = Double(acknowledgements.valueAtPercentile(50)) / 1000
                run.toAckP99Milliseconds = Double(acknowledgements.valueAtPercentile(99)) / 1000
            }
        case .cdc:
            run.databaseQueriesPerSecond = 0
            if let line = relay?.logRecords.first(where: { $0["msg"] == "commit-to-acknowledgement latency" }) {
                run.toAckP50Milliseconds = line["latency.p50_ms"].flatMap { Double($0) }
                run.toAckP99Milliseconds = line["latency.p99_ms"].flatMap { Double($0) }
            }
            if let line = relay?.logRecords.first(where: { $0["msg"] == "commit-to-produce latency" }) {
                run.commitToProduceP50Milliseconds = line["latency.p50_ms"].flatMap { Double($0) }
                run.commitToProduceP99Milliseconds = line["latency.p99_ms"].flatMap { Double($0) }
            }
            for (name, owner) in LatencyStage.owners {
                guard let line = relay?.logRecords.first(where: { $0["msg"] == "\(name) latency" }),
                      let p50 = line["latency.p50_ms"].flatMap({ Double($0) }), let p99 = line["latency.p99_ms"].flatMap({ Double($0) }),
                      let p999 = line["latency.p999_ms"].flatMap({ Double($0) }), let max = line["latency.max_ms"].flatMap({ Double($0) })
                else { continue }
                run.stages.append(LatencyStage(name: name, owner: owner, p50Milliseconds: p50, p99Milliseconds: p99, p999Milliseconds: p999, maxMilliseconds: max))
            }
        case .poll:
            if let line = relay?.logRecords.first(where: { $0["msg"] == PollingRelay.stoppedMessage }),
               let statements = line["poll.statements"].flatMap({ Double($0) }) {
                run.databaseQueriesPerSecond = (statements / windowSeconds * 10).rounded() / 10
            }
        }
        if run.lost > 0 {
            logger.error("events did not arrive", metadata: ["bench.mode": "\(mode.rawValue)", "bench.lost": "\(run.lost)", "bench.log": "\(relay?.logPath ?? "-")"])
        }
        return (run, histogram)
    }

    private func runQueueWaits(relay: Int32?, backend: Int32?) -> (relay: Double?, backend: Double?, broker: Double?) {
        (relay.flatMap { ProcessStatistics.runQueueWaitSeconds(pid: $0) }, backend.flatMap { ProcessStatistics.runQueueWaitSeconds(pid: $0) },
         options.brokerPID.flatMap { ProcessStatistics.runQueueWaitSeconds(pid: $0) })
    }

    private func percent(_ cpuSeconds: Double, of wallSeconds: Double) -> Double {
        guard wallSeconds > 0 else { return 0 }
        return (cpuSeconds / wallSeconds * 1000).rounded() / 10
    }
}

/// What carries the events in one latency measurement.
public enum LatencyMode: String, CaseIterable, Sendable {
    /// A bare producer straight to the broker: the floor.
    case broker
    /// outbox-cdc: commit → WAL → Kafka.
    case cdc
    /// The polling relay.
    case poll
}
