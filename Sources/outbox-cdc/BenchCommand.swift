import ArgumentParser
import Foundation
import Logging
import OutboxBench
import Threads

/// `outbox-cdc bench …`: the benchmarks that show what outbox-cdc costs and gains (see BENCHMARKS.md).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure end-to-end latency against a polling relay, backlog drain against the raw limits, and the decoder.",
        subcommands: [BenchLatencyCommand.self, BenchDrainCommand.self, BenchDecoderCommand.self, BenchPollRelayCommand.self]
    )
}

/// The database and brokers a benchmark runs against, and where the processes it starts write their logs.
struct BenchTargetOptions: ParsableArguments {
    @Option(help: "PostgreSQL connection URL; the role needs REPLICATION and CREATE. [env: OUTBOX_CDC_DB]")
    var db: String?

    @Option(help: "Kafka bootstrap servers. [env: OUTBOX_CDC_BROKERS]")
    var brokers: String?

    @Option(name: .customLong("log-dir"), help: "Where the started relays write their logs. (default: $TMPDIR/outbox-cdc-bench)")
    var logDirectory: String?

    @Option(name: .customLong("kafka-property"), help: ArgumentHelp(
        "A librdkafka property for every producer in the run (outbox-cdc's, the poller's, the bare one); repeat for more.",
        valueName: "key=value"))
    var kafkaProperties: [String] = []

    func target(_ environment: Environment) throws -> BenchTarget {
        let database = try environment.databaseSettings(db, purpose: "the PostgreSQL connection URL the benchmark creates its tables in")
        guard let brokers = try environment.brokers(brokers) else {
            throw UsageError("--brokers is required (or set OUTBOX_CDC_BROKERS): Kafka bootstrap servers")
        }
        let directory = logDirectory ?? ((environment["TMPDIR"] ?? "/tmp") + "/outbox-cdc-bench")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw UsageError("--log-dir: cannot create \(directory): \(error.localizedDescription)")
        }
        return BenchTarget(
            database: database, brokers: brokers, executable: try Self.ownExecutable(), logDirectory: directory,
            kafkaProperties: Dictionary(try parseKafkaProperties(kafkaProperties), uniquingKeysWith: { _, later in later })
        )
    }

    /// This binary, which the benchmark runs again as the relays under test.
    static func ownExecutable() throws -> String {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return path
    }
}

/// Turns a bad input into ArgumentParser's usage error (exit 64), and any other failure into exit 1.
private func runBench<Result: Sendable>(
    logging: LoggingOptions, _ body: @escaping @Sendable (Environment, Logger) throws -> Result
) async throws -> Result {
    let environment = Environment.current
    let logger: Logger
    do {
        logger = try logging.bootstrap(environment: environment)
    } catch let error as UsageError {
        throw ValidationError(error.description)
    }
    do {
        return try await DedicatedThread.run(name: "cdc-bench") { try body(environment, logger) }
    } catch let error as UsageError {
        throw ValidationError(error.description)
    } catch {
        logger.critical("\(error)")
        throw ExitCode(1)
    }
}

private func write(_ data: Data, to path: String?, what: String) throws {
    guard let path else { return }
    do {
        try data.write(to: URL(fileURLWithPath: path))
    } catch {
        throw BenchFileError(description: "cannot write the \(what) to \(path): \(error.localizedDescription)")
    }
}

private struct BenchFileError: Error, CustomStringConvertible {
    var description: String
}

private func require(_ value: Int, _ name: String, in range: ClosedRange<Int>) throws {
    guard range.contains(value) else {
        throw UsageError("\(name) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
    }
}

struct BenchLatencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Commit-to-consumer latency of outbox-cdc and of a polling relay under the same load, beside the broker's own.",
        discussion: """
            Creates its own outbox tables, publication and slot in the database and drops them afterwards. \
            Writers commit single-row transactions at --rate, stamped just before the statement that commits; a \
            consumer reading every partition records receive time minus stamp. Modes run one after another: \
            broker (a bare producer, the floor), cdc (outbox-cdc), poll (SELECT … FOR UPDATE SKIP LOCKED every \
            --poll-interval-ms for --batch-size rows, publish, mark sent).
            """
    )

    @OptionGroup var target: BenchTargetOptions

    @Option(help: "Events per second, all writers together.")
    var rate = 1000

    @Option(help: "Seconds measured per mode (after the warm-up).")
    var duration = 20

    @Option(help: "Seconds of load before measuring, per mode.")
    var warmup = 2

    @Option(help: "Concurrent writer connections.")
    var writers = 4

    @Option(name: .customLong("payload-bytes"), help: "Size of each event's JSON payload.")
    var payloadBytes = 200

    @Option(name: .customLong("poll-interval-ms"), help: "The polling relay's interval.")
    var pollIntervalMilliseconds = 100

    @Option(name: .customLong("batch-size"), help: "The polling relay's batch.")
    var batchSize = 50

    @Option(name: .customLong("fetch-wait-ms"), help: "The consumer's fetch.wait.max.ms (the broker holds a fetch this long).")
    var fetchWaitMilliseconds = 5

    @Option(help: "Modes to run, comma-separated: broker, cdc, poll.")
    var modes = "broker,cdc,poll"

    @Option(name: .customLong("broker-pid"), help: "The broker's process ID, when it runs on this machine: its CPU is reported too.")
    var brokerPID: Int32?

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Write the latency distributions as SVG to this file.")
    var svg: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let command = self
        let report = try await runBench(logging: logging) { environment, logger in
            try require(command.rate, "--rate", in: 1...200_000)
            try require(command.duration, "--duration", in: 1...3600)
            try require(command.warmup, "--warmup", in: 0...600)
            try require(command.writers, "--writers", in: 1...64)
            try require(command.payloadBytes, "--payload-bytes", in: 40...1_000_000)
            try require(command.pollIntervalMilliseconds, "--poll-interval-ms", in: 1...60_000)
            try require(command.batchSize, "--batch-size", in: 1...100_000)
            try require(command.fetchWaitMilliseconds, "--fetch-wait-ms", in: 0...1000)
            var options = LatencyBenchmark.Options()
            options.rate = command.rate
            options.duration = .seconds(command.duration)
            options.warmup = .seconds(command.warmup)
            options.writers = command.writers
            options.payloadBytes = command.payloadBytes
            options.pollInterval = .milliseconds(command.pollIntervalMilliseconds)
            options.batchSize = command.batchSize
            options.fetchWaitMilliseconds = command.fetchWaitMilliseconds
            options.brokerPID = command.brokerPID
            options.modes = try command.modes.split(separator: ",").map { name in
                guard let mode = LatencyMode(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw UsageError("--modes takes broker, cdc and poll, not '\(name)'")
                }
                return mode
            }
            let benchmark = LatencyBenchmark(target: try command.target.target(environment), options: options, logger: logger)
            let report = try benchmark.run()
            try write(try encodeJSON(report), to: command.json, what: "JSON results")
            if let path = command.svg {
                let names = ["cdc": "outbox-cdc", "poll": "polling relay (\(command.pollIntervalMilliseconds) ms, batch \(command.batchSize))", "broker": "broker floor (bare producer)"]
                let order = ["cdc", "poll", "broker"]
                let series = order.compactMap { mode in
                    report.histograms.first { $0.mode == mode }.map { LatencySeries(name: names[mode] ?? mode, microsecondHistogram: $0.histogram) }
                }
                let svg = LatencyChart.svg(
                    title: "Commit-to-consumer latency at \(command.rate) events/s",
                    subtitle: "\(command.duration) s per mode, \(command.writers) writers, \(command.payloadBytes)-byte payloads; log scale",
                    series: series
                )
                try write(Data(svg.utf8), to: path, what: "SVG")
            }
            return report
        }
        print(report.table, terminator: "")
        if report.latency.contains(where: { $0.lost > 0 }) {
            throw ExitCode(1)
        }
    }
}

struct BenchDrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Time for outbox-cdc to publish a backlog already in the WAL, beside a bare libpq read and a bare librdkafka producer.",
        discussion: "Creates its own outbox table, publication and two slots (one for the bare read) and drops them afterwards."
    )

    @OptionGroup var target: BenchTargetOptions

    @Option(help: "Events in the backlog.")
    var events = 200_000

    @Option(name: .customLong("rows-per-transaction"), help: "Outbox rows each backlog transaction commits.")
    var rowsPerTransaction = 20

    @Option(name: .customLong("payload-bytes"), help: "Size of each event's JSON payload.")
    var payloadBytes = 200

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let command = self
        let report = try await runBench(logging: logging) { environment, logger in
            try require(command.events, "--events", in: 1...100_000_000)
            try require(command.rowsPerTransaction, "--rows-per-transaction", in: 1...1_000_000)
            try require(command.payloadBytes, "--payload-bytes", in: 40...1_000_000)
            var options = DrainBenchmark.Options()
            options.events = command.events
            options.rowsPerTransaction = command.rowsPerTransaction
            options.payloadBytes = command.payloadBytes
            let report = try DrainBenchmark(target: try command.target.target(environment), options: options, logger: logger).run()
            try write(try encodeJSON(["drain": report]), to: command.json, what: "JSON results")
            return report
        }
        print(report.table, terminator: "")
    }
}

struct BenchDecoderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decoder",
        abstract: "Decoder micro-benchmark: pgoutput messages and bytes per second, decoding alone and with outbox mapping."
    )

    @Option(help: "Insert events to decode (in 20-row transactions).")
    var events = 1_000_000

    @Option(name: .customLong("payload-bytes"), help: "Size of each event's JSON payload.")
    var payloadBytes = 200

    func run() async throws {
        guard (1...100_000_000).contains(events) else { throw ValidationError("--events must be between 1 and 100000000, not \(events)") }
        guard (1...1_000_000).contains(payloadBytes) else { throw ValidationError("--payload-bytes must be between 1 and 1000000, not \(payloadBytes)") }
        let (events, payloadBytes) = (events, payloadBytes)
        let result = try await DedicatedThread.run(name: "cdc-bench-decode") { DecoderBenchmark.run(events: events, payloadBytes: payloadBytes) }
        guard result.isComplete else {
            print("decoding failed: \(result.failure ?? "decoded \(result.decodedInserts) and mapped \(result.mappedEvents) of \(result.expectedEvents) inserts")")
            throw ExitCode(1)
        }
        print("""
            decoded \(result.messages) pgoutput messages (\(result.bytes) bytes) in \(String(format: "%.3f", result.decodeSeconds)) s
            decode:         \(Int(result.messagesPerSecond)) messages/s, \(String(format: "%.1f", result.bytesPerSecond / 1_048_576)) MiB/s
            decode and map: \(Int(result.mappedEventsPerSecond)) outbox events/s
            """)
    }
}

/// The polling relay `bench latency` runs as a child process, so its CPU and memory are its own.
struct BenchPollRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poll-relay",
        abstract: "The benchmark's polling relay (started by bench latency).",
        shouldDisplay: false
    )

    @Option var table: String
    @Option(name: .customLong("poll-interval-ms")) var pollIntervalMilliseconds = 100
    @Option(name: .customLong("batch-size")) var batchSize = 50
    @OptionGroup var target: BenchTargetOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let command = self
        _ = try await runBench(logging: logging) { environment, logger in
            let target = try command.target.target(environment)
            let relay = PollingRelay(settings: .init(
                database: target.database, brokers: target.brokers, table: command.table,
                interval: .milliseconds(command.pollIntervalMilliseconds), batchSize: command.batchSize,
                kafkaProperties: target.kafkaProperties
            ), logger: logger)
            let signals = SignalHandlers(logger: logger) { relay.stop() }
            defer { signals.cancel() }
            return try relay.run().rowsPublished
        }
    }
}
