import ArgumentParser
import Connector
import Glibc
import Logging
import KafkaClient
import WALReader

@main
struct OutboxCDCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox-cdc",
        abstract: "Relay transactional-outbox rows from PostgreSQL logical replication to Kafka, at least once.",
        discussion: """
            Every option can also be set through an OUTBOX_CDC_* environment variable (named in its help); \
            a flag wins over the environment.
            """,
        version: VersionInfo.text,
        subcommands: [RunCommand.self, StatusCommand.self, SetupCommand.self, TeardownCommand.self, CleanupCommand.self, TailCommand.self, BenchCommand.self],
        defaultSubcommand: RunCommand.self
    )

    /// ArgumentParser's own entry point, except that with `--log-format json` (from the command line, the
    /// environment or the `--config` file) a usage error is written as one JSON line like every other, so
    /// that a log pipeline reading JSON does not drop or garble the one line that says why the start failed.
    static func main() async {
        let format = LoggingOptions.requestedFormat(arguments: Array(CommandLine.arguments.dropFirst()), environment: .current)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let text = message(for: error)
            // Help and --version go to standard output as usual; an ExitCode alone was logged before it was thrown.
            guard format == .json, !code.isSuccess, !text.isEmpty else { exit(withError: error) }
            LineLogHandler.writeToStandardError(LineLogHandler.jsonLine(
                level: .critical, label: "outbox-cdc", message: text,
                metadata: ["process.exit_code": .stringConvertible(code.rawValue)]
            ))
            Glibc.exit(code.rawValue)
        }
    }
}

enum VersionInfo {
    static let outboxCDC = "0.1.0"

    static var text: String {
        "outbox-cdc \(outboxCDC) (libpq \(PostgresConnection.libpqVersion), librdkafka \(KafkaProducer.librdkafkaVersion))"
    }
}
