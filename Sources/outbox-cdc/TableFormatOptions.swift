import ArgumentParser
import Connector

/// `--table-format` and the column flags: which columns make which part of a record.
struct TableFormatOptions: ParsableArguments {
    @Option(name: .customLong("table-format"), help: ArgumentHelp(
        "The outbox table's layout: eventrouter (Debezium's Outbox Event Router: id, aggregatetype, aggregateid, payload), the polling relays' gox, goharvest, kafka-outbox-relay and outbox-event-bus, or generic (name the columns with the flags below). [env: OUTBOX_CDC_TABLE_FORMAT] (default: eventrouter)",
        valueName: "format"))
    var name: String?

    @Option(name: .customLong("topic-column"), help: "The column holding the topic (generic). [env: OUTBOX_CDC_TOPIC_COLUMN]")
    var topicColumn: String?

    @Option(name: .customLong("key-column"), help: "The column holding the record key. [env: OUTBOX_CDC_KEY_COLUMN]")
    var keyColumn: String?

    @Option(name: .customLong("value-column"), help: "The column holding the record value (json/jsonb as text, bytea as bytes). [env: OUTBOX_CDC_VALUE_COLUMN]")
    var valueColumn: String?

    @Option(name: .customLong("id-column"), help: "The column identifying the event, in logs (and, for eventrouter, the id header). [env: OUTBOX_CDC_ID_COLUMN]")
    var idColumn: String?

    @Option(name: .customLong("partition-column"), help: "A smallint/integer column choosing the partition. [env: OUTBOX_CDC_PARTITION_COLUMN]")
    var partitionColumn: String?

    @Option(name: .customLong("timestamp-column"), help: "A timestamp column for the record timestamp (without time zone: read as UTC). [env: OUTBOX_CDC_TIMESTAMP_COLUMN]")
    var timestampColumn: String?

    @Option(name: .customLong("traceparent-column"), help: "A column with the W3C traceparent the row was written under (or Debezium's tracingspancontext text): sent as the traceparent (and tracestate) header. [env: OUTBOX_CDC_TRACEPARENT_COLUMN]")
    var traceparentColumn: String?

    @Option(name: .customLong("headers-column"), help: ArgumentHelp(
        "A json/jsonb column of headers: an object {\"name\": \"value\"} or, with --headers-format pairs, an array of {\"key\", \"value\"} objects. [env: OUTBOX_CDC_HEADERS_COLUMN]"))
    var headersColumn: String?

    @Option(name: .customLong("headers-format"), help: "object or pairs, for --headers-column. [env: OUTBOX_CDC_HEADERS_FORMAT] (default: object)")
    var headersFormat: String?

    @Option(name: .customLong("header-names-column"), help: "A text[] column of header names, paired with --header-values-column. [env: OUTBOX_CDC_HEADER_NAMES_COLUMN]")
    var headerNamesColumn: String?

    @Option(name: .customLong("header-values-column"), help: "A text[] column of header values. [env: OUTBOX_CDC_HEADER_VALUES_COLUMN]")
    var headerValuesColumn: String?

    @Option(name: .customLong("pending-condition"), help: ArgumentHelp(
        "SQL condition picking the rows a polling relay has not published yet, for --publish-pending (gox: status = 'PENDING'; goharvest: every row). [env: OUTBOX_CDC_PENDING_CONDITION]",
        valueName: "sql"))
    var pendingCondition: String?

    @Flag(name: .customLong("publish-pending"), inversion: .prefixedNo, help: ArgumentHelp(
        "When the slot is created, first publish the rows left pending in the table, read in the snapshot the slot starts from, so that a polling relay's backlog is published once. [env: OUTBOX_CDC_PUBLISH_PENDING] (default: on for the polling relays' formats)"))
    var publishPending: Bool?

    /// The flags that choose columns, which a Debezium configuration sets itself.
    var flagsGiven: [(String, String?)] {
        [("--table-format", name), ("--topic-column", topicColumn), ("--key-column", keyColumn), ("--value-column", valueColumn),
         ("--id-column", idColumn), ("--partition-column", partitionColumn), ("--timestamp-column", timestampColumn),
         ("--headers-column", headersColumn), ("--header-names-column", headerNamesColumn),
         ("--header-values-column", headerValuesColumn), ("--pending-condition", pendingCondition),
         ("--traceparent-column", traceparentColumn)]
    }

    /// The format named, with the column flags applied on top, and whether to publish pending rows.
    func resolve(_ environment: Environment) throws -> (OutboxTableFormat, publishPending: Bool) {
        let name = environment.resolve(self.name, "OUTBOX_CDC_TABLE_FORMAT") ?? "eventrouter"
        let column = { (flag: String?, variable: String) in environment.resolve(flag, variable) }
        let topic = column(topicColumn, "OUTBOX_CDC_TOPIC_COLUMN")
        var format: OutboxTableFormat
        if name == "generic" {
            guard let topic else {
                throw UsageError("--table-format generic needs --topic-column (and usually --value-column, --key-column)")
            }
            format = OutboxTableFormat(
                name: "generic", topic: .column(topic), key: nil, value: "value", eventID: nil, idHeader: false
            )
        } else if let builtIn = OutboxTableFormat.builtIn[name] {
            format = builtIn
            if let topic {
                format.topic = builtIn.topic == OutboxTableFormat.eventRouter.topic
                    ? .prefixed(column: topic, prefix: "outbox.event.") : .column(topic)
            }
        } else {
            throw UsageError("--table-format must be eventrouter, gox, goharvest, kafka-outbox-relay, outbox-event-bus or generic, not '\(name)'")
        }
        if let key = column(keyColumn, "OUTBOX_CDC_KEY_COLUMN") { format.key = key }
        if let value = column(valueColumn, "OUTBOX_CDC_VALUE_COLUMN") { format.value = value }
        if let id = column(idColumn, "OUTBOX_CDC_ID_COLUMN") { format.eventID = id }
        if let partition = column(partitionColumn, "OUTBOX_CDC_PARTITION_COLUMN") { format.partition = partition }
        if let timestamp = column(timestampColumn, "OUTBOX_CDC_TIMESTAMP_COLUMN") { format.timestamp = timestamp }
        if let trace = column(traceparentColumn, "OUTBOX_CDC_TRACEPARENT_COLUMN") { format.traceContext = trace }
        if let condition = column(pendingCondition, "OUTBOX_CDC_PENDING_CONDITION") { format.pendingCondition = condition }
        let headers = column(headersColumn, "OUTBOX_CDC_HEADERS_COLUMN")
        let headerNames = column(headerNamesColumn, "OUTBOX_CDC_HEADER_NAMES_COLUMN")
        let headerValues = column(headerValuesColumn, "OUTBOX_CDC_HEADER_VALUES_COLUMN")
        switch (headers, headerNames, headerValues) {
        case (nil, nil, nil):
            break
        case (let headers?, nil, nil):
            switch environment.resolve(headersFormat, "OUTBOX_CDC_HEADERS_FORMAT") ?? "object" {
            case "object": format.headers = .jsonObject(column: headers)
            case "pairs": format.headers = .jsonPairs(column: headers)
            case let other: throw UsageError("--headers-format must be object or pairs, not '\(other)'")
            }
        case (nil, let names?, let values?):
            format.headers = .textArrays(names: names, values: values)
        default:
            throw UsageError("name headers either with --headers-column, or with both --header-names-column and --header-values-column")
        }
        let publishPending = try publishPending ?? environment.bool("OUTBOX_CDC_PUBLISH_PENDING") ?? (name != "eventrouter" && name != "generic")
        return (format, publishPending)
    }
}
