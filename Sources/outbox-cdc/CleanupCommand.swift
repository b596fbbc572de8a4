import ArgumentParser
import Connector
import Foundation
import Logging
import PostgresNames
import Threads
import WALReader

/// `outbox-cdc cleanup`: one retention pass, for a cron job or for a table whose outbox-cdc is stopped.
/// The running connector does the same at an interval with `--retention`.
struct CleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Delete outbox rows older than --retention once (as the running connector does at an interval), then exit.",
        discussion: """
            Rows deleted after their commit are still published: the slot's WAL holds their inserts. So cleanup runs \
            only while the slot exists; before it does, a row's only copy is the table. The old relay's dead letters \
            (kafka-outbox-relay's errored = 1) are never deleted.
            """
    )

    @OptionGroup var target: SlotOptions

    @Option(help: "The outbox table(s), comma-separated. [env: OUTBOX_CDC_TABLE] (default: public.outbox)")
    var table: String?

    @OptionGroup var tableFormat: TableFormatOptions

    @OptionGroup var takeover: TakeoverOptions

    func run() async throws {
        let resolved = try target.resolve(purpose: "the database whose outbox to clean up")
        let environment = resolved.environment
        let settings: RetentionSettings
        let tables: [QualifiedTableName]
        do {
            let (format, _) = try tableFormat.resolve(environment)
            guard let retention = try takeover.resolve(format: format, environment).retention else {
                throw UsageError("cleanup needs a retention age: give --retention (the \(format.name) format has no default)")
            }
            settings = retention
            tables = try QualifiedTableName.parseList(environment.resolve(table, "OUTBOX_CDC_TABLE") ?? "public.outbox")
        } catch let error as UsageError {
            throw ValidationError(error.description)
        } catch {
            throw ValidationError("--table: \(error)")
        }
        // The command prints its own one-line result; the pass logs only what went wrong.
        let logger = {
            var logger = Logger(label: "outbox-cdc.cleanup")
            logger.logLevel = .warning
            return logger
        }()
        let slot = resolved.slot
        let database = resolved.database
        let report: RetentionPassReport
        do {
            report = try await DedicatedThread.run(name: "cdc-cleanup") {
                let control = try PostgresConnection.connect(database)
                defer { control.close() }
                guard try control.slotExists(slot) else {
                    throw UsageError("the replication slot \(slot) does not exist: rows not yet in a slot's WAL would be lost; start outbox-cdc first (or name its slot with --slot)")
                }
                return try OutboxRetention(database: database, tables: tables, settings: settings, logger: logger).runOnce()
            }
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(1)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        var line = "deleted \(report.rowsDeleted) rows older than \(settings.age.milliseconds / 1000)s by \(settings.column)"
        if !report.partitionsDropped.isEmpty { line += "; dropped partitions \(report.partitionsDropped.map(\.description).joined(separator: ", "))" }
        if !report.partitionsKept.isEmpty { line += "; kept partitions holding dead letters \(report.partitionsKept.map(\.description).joined(separator: ", "))" }
        print(line)
    }
}
