/// A logical decoding message (`pg_logical_emit_message`) as Debezium's PostgreSQL connector publishes it
/// when `message.prefix.include.list` is unset. The EventRouter passes such records through untouched
/// (their value is not a change-event envelope), so they reach topic `<topic.prefix>.message` with
/// Debezium's message key and value and no headers at all (logical-message).
public struct LogicalDecodingMessageRecord: Sendable, Equatable {
    /// `pg_logical_emit_message`'s prefix.
    public var prefix: String
    /// The message content, as bytes (`binary.handling.mode=bytes`: base64 in JSON).
    public var content: [UInt8]
    /// The transaction id of a transactional message; nil for a non-transactional one (`"txId":null`).
    public var transactionID: Int64?
    /// The message's LSN (`source.lsn`, the second member of `source.sequence`).
    public var lsn: UInt64
    /// The LSN of the last commit Debezium processed (the first member of `source.sequence`); nil before
    /// any (`[null,"…"]`). For a non-transactional message Debezium reports the message's own LSN here.
    public var lastCommitLSN: UInt64?
    /// `source.ts_ms`/`ts_us`/`ts_ns`: the commit time Debezium holds for the message, in microseconds
    /// since the epoch (for a non-transactional message, the last commit time it saw).
    public var commitTimeMicroseconds: Int64
    /// The envelope's top-level `ts_ms`: when Debezium processed the message.
    public var processingTimeMilliseconds: Int64

    public init(prefix: String, content: [UInt8], transactionID: Int64?, lsn: UInt64, lastCommitLSN: UInt64?,
                commitTimeMicroseconds: Int64, processingTimeMilliseconds: Int64) {
        self.prefix = prefix
        self.content = content
        self.transactionID = transactionID
        self.lsn = lsn
        self.lastCommitLSN = lastCommitLSN
        self.commitTimeMicroseconds = commitTimeMicroseconds
        self.processingTimeMilliseconds = processingTimeMilliseconds
    }

    /// Debezium 3.6.3's `source.version`.
    public static let debeziumVersion = "3.6.3.Final"

    /// `<topic.prefix>.message` (with the default `topic.delimiter`).
    public static func topic(topicPrefix: String) -> String {
        topicPrefix + ".message"
    }

    /// The key: the Struct `{prefix}` (`io.debezium.connector.postgresql.MessageKey`, version 1, one optional
    /// string field) through the key converter. StringConverter writes `Struct{prefix=outbox}` (captured);
    /// JsonConverter `{"prefix":"outbox"}` without schemas, and with schemas the envelope of that schema as
    /// Debezium's `PostgresSchemaFactory` declares it (not captured).
    public func key(converter: ConverterSetting) throws(ConnectSerializationError) -> [UInt8]? {
        let schema = ConnectSchema.struct(
            name: "io.debezium.connector.postgresql.MessageKey", optional: false, version: 1,
            fields: [ConnectField(name: "prefix", schema: ConnectSchema(type: .string, optional: true))])
        return try ConnectRecordSerializer(converter: converter).serialize(.struct([.string(prefix)]), schema: schema)
    }

    /// Why the value cannot be written for a converter.
    public enum ValueError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Only JsonConverter without schemas was captured; the schema of the message envelope (its
        /// `source` block's parameters in particular) is not reproduced, and StringConverter would print the
        /// content's `byte[]` address. ByteArrayConverter and BinaryDataConverter fail the task in Debezium.
        case unsupportedConverter(ConverterKind, schemasEnabled: Bool?)

        public var description: String {
            switch self {
            case .unsupportedConverter(let kind, let schemas):
                return "logical decoding messages under \(kind.rawValue)\(schemas == true ? " with schemas" : "") are not reproduced;"
                    + " set message.prefix.exclude.list=.* or use JsonConverter with schemas.enable=false"
            }
        }
    }

    /// The value: Debezium's message envelope as JsonConverter writes it without schemas. Member order as
    /// captured: `op`, `ts_ms`, `source` {version, connector, name, ts_ms, snapshot, db, sequence, ts_us,
    /// ts_ns, schema, table, txId, lsn, xmin, origin, origin_lsn}, `transaction`, `message` {prefix, content}.
    public func value(converter: ConverterSetting, topicPrefix: String, databaseName: String) throws(ValueError) -> [UInt8] {
        guard converter.kind == .json, converter.schemasEnabled == false else {
            throw .unsupportedConverter(converter.kind, schemasEnabled: converter.schemasEnabled)
        }
        // `Instant` arithmetic: milliseconds round down.
        let commitMilliseconds = commitTimeMicroseconds >= 0
            ? commitTimeMicroseconds / 1_000 : (commitTimeMicroseconds - 999) / 1_000
        // `source.sequence` is itself JSON text: `["<last commit lsn>","<lsn>"]`.
        let sequence = "[" + (lastCommitLSN.map { "\"\($0)\"" } ?? "null") + ",\"\(lsn)\"]"
        var json = JacksonJSONWriter(reservingCapacity: 512)
        json.openObject()
        json.key("op"); json.string("m"); json.comma()
        json.key("ts_ms"); json.integer(Int(processingTimeMilliseconds)); json.comma()
        json.key("source")
        json.openObject()
        json.key("version"); json.string(Self.debeziumVersion); json.comma()
        json.key("connector"); json.string("postgresql"); json.comma()
        json.key("name"); json.string(topicPrefix); json.comma()
        json.key("ts_ms"); json.integer(Int(commitMilliseconds)); json.comma()
        json.key("snapshot"); json.string("false"); json.comma()
        json.key("db"); json.string(databaseName); json.comma()
        json.key("sequence"); json.string(sequence); json.comma()
        json.key("ts_us"); json.integer(Int(commitTimeMicroseconds)); json.comma()
        json.key("ts_ns"); json.integer(Int(commitTimeMicroseconds) &* 1_000); json.comma()
        json.key("schema"); json.string(""); json.comma()
        json.key("table"); json.string(""); json.comma()
        json.key("txId"); if let transactionID { json.integer(Int(transactionID)) } else { json.null() }; json.comma()
        // A Java long: an LSN past 2⁶³ would print negative there too.
        json.key("lsn"); json.integer(Int(truncatingIfNeeded: lsn)); json.comma()
        json.key("xmin"); json.null(); json.comma()
        json.key("origin"); json.null(); json.comma()
        json.key("origin_lsn"); json.null()
        json.closeObject()
        json.comma()
        json.key("transaction"); json.null(); json.comma()
        json.key("message")
        json.openObject()
        json.key("prefix"); json.string(prefix); json.comma()
        json.key("content"); json.string(Base64.encode(content))
        json.closeObject()
        json.closeObject()
        return json.bytes
    }
}
