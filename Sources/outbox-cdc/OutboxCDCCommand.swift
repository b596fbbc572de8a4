import ArgumentParser
import Connector
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
        subcommands: [RunCommand.self, StatusCommand.self, SetupCommand.self, TeardownCommand.self, TailCommand.self, BenchCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

enum VersionInfo {
    static let outboxCDC = "0.1.0"

    static var text: String {
        "outbox-cdc \(outboxCDC) (libpq \(PostgresConnection.libpqVersion), librdkafka \(KafkaProducer.librdkafkaVersion))"
    }
}
