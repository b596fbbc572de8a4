import Foundation
import ArgumentParser
import Connector

/// What outbox-cdc does for the polling relay it replaces, beyond publishing: the relay's own marks on
/// published rows (the way back to it) and the cleanup it did.
struct TakeoverOptions: ParsableArguments {
    @Flag(name: .customLong("mark-published"), inversion: .prefixedNo, help: ArgumentHelp(
        "Once Kafka has acknowledged a row's transaction, set the old relay's own completion mark on the row (gox: status SENT; goharvest: delete; kafka-outbox-relay: push_completed_at; outbox-event-bus: delivered), so that the relay could take over again without sending it twice. For eventrouter and generic the mark is a delete. [env: OUTBOX_CDC_MARK_PUBLISHED] (default: on for the polling relays' formats, off for eventrouter and generic)"))
    var markPublished: Bool?

    @Option(name: .customLong("mark-published-as"), help: ArgumentHelp(
        "mark (the relay's own completion mark) or delete (gox's DELETE completion mode). [env: OUTBOX_CDC_MARK_PUBLISHED_AS] (default: mark)",
        valueName: "mark|delete"))
    var markPublishedAs: String?

    @Option(name: .customLong("retention"), help: ArgumentHelp(
        "Delete outbox rows older than this (e.g. 90s, 30m, 1h, 7d; off keeps them), in small batches, or drop the partitions of a table range-partitioned by the retention column. The old relay's dead letters are never deleted. [env: OUTBOX_CDC_RETENTION] (default: the replaced relay's: kafka-outbox-relay 1h, outbox-event-bus 7d, others off)",
        valueName: "duration"))
    var retention: String?

    @Option(name: .customLong("retention-column"), help: "The timestamp column a row's age is measured by (default: the format's: kafka-outbox-relay push_completed_at, outbox-event-bus stored_timestamp, gox created_timestamp). [env: OUTBOX_CDC_RETENTION_COLUMN]")
    var retentionColumn: String?

    struct Resolved {
        var mark: OutboxTableFormat.PublishedMark?
        var retention: RetentionSettings?
    }

    func resolve(format: OutboxTableFormat, _ environment: Environment) throws -> Resolved {
        let pollerFormat = format.publishedMark != nil && format.name != "eventrouter"
        let marks = try markPublished ?? environment.bool("OUTBOX_CDC_MARK_PUBLISHED") ?? pollerFormat
        var resolved = Resolved()
        if marks {
            guard format.eventID != nil else {
                throw UsageError("--mark-published marks rows by their primary key: name it with --id-column")
            }
            switch environment.resolve(markPublishedAs, "OUTBOX_CDC_MARK_PUBLISHED_AS") ?? "mark" {
            case "mark": resolved.mark = format.publishedMark ?? .delete
            case "delete": resolved.mark = .delete
            case let other: throw UsageError("--mark-published-as must be mark or delete, not '\(other)'")
            }
        }
        let retentionText = environment.resolve(retention, "OUTBOX_CDC_RETENTION")
        let age: Duration?
        if let retentionText {
            age = try Self.duration(retentionText)
        } else {
            age = format.defaultRetention
        }
        let column = environment.resolve(retentionColumn, "OUTBOX_CDC_RETENTION_COLUMN") ?? format.retentionColumn
        if let age {
            guard let column else {
                throw UsageError("--retention needs the column a row's age is measured by: name it with --retention-column (a timestamp column of the outbox table)")
            }
            guard let key = format.eventID else {
                throw UsageError("--retention deletes rows by their primary key: name it with --id-column")
            }
            resolved.retention = RetentionSettings(age: age, column: column, primaryKey: key, keepCondition: format.deadLetterCondition)
        }
        return resolved
    }

    /// `90s`, `30m`, `1h`, `7d`, `500ms`; `off`, `none` or `0` for no retention.
    static func duration(_ text: String) throws -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if ["off", "none", "0"].contains(trimmed) { return nil }
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count)
            // "ms" ends in "s" too: a number part that is no number falls through to the next unit.
            guard let value = Double(number), value > 0, value.isFinite else { continue }
            let milliseconds = value * unit.seconds * 1000
            guard milliseconds >= 1, milliseconds < 1e15 else { break }
            return .milliseconds(Int64(milliseconds))
        }
        throw UsageError("--retention must be a duration such as 90s, 30m, 1h or 7d (or off), not '\(text)'")
    }
}
