/// Decodes pgoutput messages, one XLogData payload at a time.
///
/// Pure and total: bytes in, a `PgOutputMessage` or a `PgOutputDecodingError` out; no I/O, no traps on any
/// input. The only state is whether a streamed block is open: from protocol 2 on, the change messages inside
/// a block (Stream Start ... Stream Stop) carry a leading xid that the same messages outside a block lack,
/// and nothing in the bytes themselves says which form is present. Feed every message of the replication
/// stream, in order, to one decoder (a new decoder per replication connection). A failed decode leaves the
/// state unchanged.
///
/// The relation cache is the consumer's: Relation messages are returned, relation ids are never resolved.
///
/// Decisions beyond the documented wire format:
/// - Strict framing: the message must be consumed exactly; extra bytes are `.unexpectedTrailingBytes`.
/// - Strict protocol: a message type newer than the configured version (streaming before 2, two-phase
///   before 3) is rejected, as are messages the stream-block state rules out (`.streamStateViolation`):
///   both mean the decoder and the server disagree, and guessing would misread the xid prefix.
/// - Strings (names, prefixes, GIDs) must be valid UTF-8 (`.invalidUTF8`), not repaired: they route rows.
///   Request `client_encoding` UTF8 on the replication connection so the walsender converts to it.
/// - Reserved flag bytes (Commit, Prepare...) and unknown Truncate option bits are kept, not rejected.
/// - The empty namespace that stands for `pg_catalog` is returned as "pg_catalog".
public struct PgOutputDecoder: Sendable {
    /// The `proto_version` requested from the server (1 to 4). Values above 4 are decoded as 4, values
    /// below 1 as 1.
    public let protocolVersion: Int

    /// Whether Stream Abort carries the abort LSN and timestamp. PostgreSQL 16+ sends them only when the
    /// protocol version is 4 or later AND the `streaming` option is `parallel`; with `streaming = on` they
    /// are absent even under protocol 4, and nothing in the message tells the two apart.
    public let streamAbortHasAbortInfo: Bool

    /// True between Stream Start and Stream Stop.
    public private(set) var isInsideStreamBlock = false

    /// A decoder for `protocolVersion`, assuming that protocol 4 is used together with `streaming =
    /// parallel` (the reason to request version 4), so Stream Abort is read with its abort LSN and timestamp
    /// from version 4 on. Use `init(protocolVersion:parallelStreaming:)` if version 4 is used with
    /// `streaming = on` or `off`.
    public init(protocolVersion: Int) {
        self.init(protocolVersion: protocolVersion, parallelStreaming: protocolVersion >= 4)
    }

    /// A decoder for `protocolVersion`, told whether the `streaming` option is `parallel`. Parallel
    /// streaming only changes the wire format under protocol 4 or later; below that it is ignored.
    public init(protocolVersion: Int, parallelStreaming: Bool) {
        self.protocolVersion = protocolVersion
        self.streamAbortHasAbortInfo = protocolVersion >= 4 && parallelStreaming
    }

    /// Decodes one pgoutput message from `[UInt8]`; column values and message contents are slices of it.
    public mutating func decode(_ message: [UInt8]) throws(PgOutputDecodingError) -> PgOutputMessage {
        try decode(message[...])
    }

    /// Decodes exactly one pgoutput message: the whole of `message` must be consumed.
    public mutating func decode(_ message: ArraySlice<UInt8>) throws(PgOutputDecodingError) -> PgOutputMessage {
        guard let typeByte = message.first else { throw .emptyMessage }
        guard let type = MessageType(rawValue: typeByte) else { throw .unknownMessageType(typeByte) }
        guard protocolVersion >= type.minimumProtocolVersion else {
            throw .messageTypeNotInProtocolVersion(
                messageType: typeByte, minimumVersion: type.minimumProtocolVersion, configuredVersion: protocolVersion)
        }
        let allowed = isInsideStreamBlock ? type.isAllowedInsideStreamBlock : type != .streamStop
        guard allowed else { throw .streamStateViolation(messageType: typeByte, insideStreamBlock: isInsideStreamBlock) }

        var reader = ByteReader(message, messageType: typeByte)
        _ = try reader.readUInt8("message type")
        let decoded = try decodeBody(type, &reader)
        guard reader.isAtEnd else {
            throw .unexpectedTrailingBytes(messageType: typeByte, count: reader.remaining, offset: reader.offset)
        }

        // Only a fully decoded message moves the state.
        switch type {
        case .streamStart: isInsideStreamBlock = true
        case .streamStop: isInsideStreamBlock = false
        default: break
        }
        return decoded
    }

    /// The leading xid of change messages, present from protocol 2 on inside a streamed block only.
    private func readStreamedTransactionID(_ reader: inout ByteReader) throws(PgOutputDecodingError) -> UInt32? {
        guard protocolVersion >= 2, isInsideStreamBlock else { return nil }
        return try reader.readUInt32("streamed transaction id")
    }

    private func decodeBody(
        _ type: MessageType, _ reader: inout ByteReader
    ) throws(PgOutputDecodingError) -> PgOutputMessage {
        switch type {
        case .begin:
            return .begin(
                PgOutputMessage.Begin(
                    finalLSN: try reader.readLSN("final LSN"),
                    commitTimestamp: try reader.readTimestamp("commit timestamp"),
                    transactionID: try reader.readUInt32("transaction id")))

        case .commit:
            return .commit(
                PgOutputMessage.Commit(
                    flags: try reader.readUInt8("flags"),
                    commitLSN: try reader.readLSN("commit LSN"),
                    endLSN: try reader.readLSN("end LSN"),
                    commitTimestamp: try reader.readTimestamp("commit timestamp")))

        case .origin:
            return .origin(
                PgOutputMessage.Origin(
                    originLSN: try reader.readLSN("origin LSN"),
                    name: try reader.readCString("origin name")))

        case .relation:
            return .relation(try decodeRelation(&reader))

        case .type:
            return .type(
                PgOutputMessage.TypeDefinition(
                    transactionID: try readStreamedTransactionID(&reader),
                    typeOID: try reader.readUInt32("type OID"),
                    namespace: Self.namespace(try reader.readCString("type namespace")),
                    name: try reader.readCString("type name")))

        case .insert:
            let transactionID = try readStreamedTransactionID(&reader)
            let relationID = try reader.readUInt32("relation id")
            try Self.expectTupleMarker(&reader, TupleMarker.new, expected: "'N'")
            return .insert(
                PgOutputMessage.Insert(
                    transactionID: transactionID, relationID: relationID, newTuple: try Self.decodeTuple(&reader)))

        case .update:
            let transactionID = try readStreamedTransactionID(&reader)
            let relationID = try reader.readUInt32("relation id")
            let markerOffset = reader.offset
            var marker = try reader.readUInt8("tuple marker")
            var oldTuple: PgOutputMessage.OldTuple?
            if let kind = PgOutputMessage.OldTuple.Kind(rawValue: marker) {
                oldTuple = PgOutputMessage.OldTuple(kind: kind, tuple: try Self.decodeTuple(&reader))
                try Self.expectTupleMarker(&reader, TupleMarker.new, expected: "'N'")
                marker = TupleMarker.new
            }
            guard marker == TupleMarker.new else {
                throw .invalidTupleMarker(
                    messageType: reader.messageType, found: marker, expected: "'K', 'O' or 'N'", offset: markerOffset)
            }
            return .update(
                PgOutputMessage.Update(
                    transactionID: transactionID, relationID: relationID, oldTuple: oldTuple,
                    newTuple: try Self.decodeTuple(&reader)))

        case .delete:
            let transactionID = try readStreamedTransactionID(&reader)
            let relationID = try reader.readUInt32("relation id")
            let markerOffset = reader.offset
            let marker = try reader.readUInt8("tuple marker")
            guard let kind = PgOutputMessage.OldTuple.Kind(rawValue: marker) else {
                throw .invalidTupleMarker(
                    messageType: reader.messageType, found: marker, expected: "'K' or 'O'", offset: markerOffset)
            }
            return .delete(
                PgOutputMessage.Delete(
                    transactionID: transactionID, relationID: relationID,
                    oldTuple: PgOutputMessage.OldTuple(kind: kind, tuple: try Self.decodeTuple(&reader))))

        case .truncate:
            let transactionID = try readStreamedTransactionID(&reader)
            let count = try reader.readLength("relation count")
            let options = PgOutputMessage.Truncate.Options(rawValue: try reader.readUInt8("options"))
            var relationIDs: [UInt32] = []
            // Bounded by what the bytes can hold, so a corrupt count cannot make us allocate gigabytes.
            relationIDs.reserveCapacity(min(count, reader.remaining / 4))
            for _ in 0..<count {
                relationIDs.append(try reader.readUInt32("relation id"))
            }
            return .truncate(
                PgOutputMessage.Truncate(transactionID: transactionID, options: options, relationIDs: relationIDs))

        case .message:
            let transactionID = try readStreamedTransactionID(&reader)
            let flags = try reader.readUInt8("flags")
            let lsn = try reader.readLSN("message LSN")
            let prefix = try reader.readCString("prefix")
            let length = try reader.readLength("content length")
            return .message(
                PgOutputMessage.LogicalMessage(
                    transactionID: transactionID, flags: flags, lsn: lsn, prefix: prefix,
                    content: try reader.readBytes(length, "content")))

        case .streamStart:
            return .streamStart(
                PgOutputMessage.StreamStart(
                    transactionID: try reader.readUInt32("transaction id"),
                    isFirstSegment: try reader.readBoolean("first segment flag")))

        case .streamStop:
            return .streamStop

        case .streamCommit:
            return .streamCommit(
                PgOutputMessage.StreamCommit(
                    transactionID: try reader.readUInt32("transaction id"),
                    flags: try reader.readUInt8("flags"),
                    commitLSN: try reader.readLSN("commit LSN"),
                    endLSN: try reader.readLSN("end LSN"),
                    commitTimestamp: try reader.readTimestamp("commit timestamp")))

        case .streamAbort:
            let transactionID = try reader.readUInt32("transaction id")
            let subtransactionID = try reader.readUInt32("subtransaction id")
            guard streamAbortHasAbortInfo else {
                return .streamAbort(
                    PgOutputMessage.StreamAbort(transactionID: transactionID, subtransactionID: subtransactionID))
            }
            return .streamAbort(
                PgOutputMessage.StreamAbort(
                    transactionID: transactionID, subtransactionID: subtransactionID,
                    abortLSN: try reader.readLSN("abort LSN"),
                    abortTimestamp: try reader.readTimestamp("abort timestamp")))

        case .beginPrepare:
            return .beginPrepare(
                PgOutputMessage.BeginPrepare(
                    prepareLSN: try reader.readLSN("prepare LSN"),
                    endLSN: try reader.readLSN("end LSN"),
                    prepareTimestamp: try reader.readTimestamp("prepare timestamp"),
                    transactionID: try reader.readUInt32("transaction id"),
                    gid: try reader.readCString("GID")))

        case .prepare:
            return .prepare(try Self.decodePrepare(&reader))

        case .commitPrepared:
            return .commitPrepared(
                PgOutputMessage.CommitPrepared(
                    flags: try reader.readUInt8("flags"),
                    commitLSN: try reader.readLSN("commit LSN"),
                    endLSN: try reader.readLSN("end LSN"),
                    commitTimestamp: try reader.readTimestamp("commit timestamp"),
                    transactionID: try reader.readUInt32("transaction id"),
                    gid: try reader.readCString("GID")))

        case .rollbackPrepared:
            return .rollbackPrepared(
                PgOutputMessage.RollbackPrepared(
                    flags: try reader.readUInt8("flags"),
                    prepareEndLSN: try reader.readLSN("prepare end LSN"),
                    rollbackEndLSN: try reader.readLSN("rollback end LSN"),
                    prepareTimestamp: try reader.readTimestamp("prepare timestamp"),
                    rollbackTimestamp: try reader.readTimestamp("rollback timestamp"),
                    transactionID: try reader.readUInt32("transaction id"),
                    gid: try reader.readCString("GID")))

        case .streamPrepare:
            return .streamPrepare(try Self.decodePrepare(&reader))
        }
    }

    /// Prepare ('P') and Stream Prepare ('p') share one layout.
    private static func decodePrepare(_ reader: inout ByteReader) throws(PgOutputDecodingError) -> PgOutputMessage.Prepare {
        PgOutputMessage.Prepare(
            flags: try reader.readUInt8("flags"),
            prepareLSN: try reader.readLSN("prepare LSN"),
            endLSN: try reader.readLSN("end LSN"),
            prepareTimestamp: try reader.readTimestamp("prepare timestamp"),
            transactionID: try reader.readUInt32("transaction id"),
            gid: try reader.readCString("GID"))
    }

    private func decodeRelation(_ reader: inout ByteReader) throws(PgOutputDecodingError) -> PgOutputMessage.Relation {
        let transactionID = try readStreamedTransactionID(&reader)
        let relationID = try reader.readUInt32("relation id")
        let namespace = Self.namespace(try reader.readCString("namespace"))
        let name = try reader.readCString("relation name")
        let identityOffset = reader.offset
        let identityByte = try reader.readUInt8("replica identity")
        guard let replicaIdentity = PgOutputMessage.Relation.ReplicaIdentity(rawValue: identityByte) else {
            throw .invalidFieldValue(
                messageType: reader.messageType, field: "replica identity", value: identityByte, offset: identityOffset)
        }
        let count = Int(try reader.readUInt16("column count"))
        var columns: [PgOutputMessage.Relation.Column] = []
        // A column takes at least 10 bytes (flags, empty name, type OID, modifier).
        columns.reserveCapacity(min(count, reader.remaining / 10))
        for _ in 0..<count {
            columns.append(
                PgOutputMessage.Relation.Column(
                    flags: try reader.readUInt8("column flags"),
                    name: try reader.readCString("column name"),
                    typeOID: try reader.readUInt32("column type OID"),
                    typeModifier: try reader.readInt32("column type modifier")))
        }
        return PgOutputMessage.Relation(
            transactionID: transactionID, relationID: relationID, namespace: namespace, name: name,
            replicaIdentity: replicaIdentity, columns: columns)
    }

    private enum TupleMarker {
        static let new: UInt8 = 0x4E // 'N'
    }

    private enum ColumnKind {
        static let null: UInt8 = 0x6E // 'n'
        static let unchangedToast: UInt8 = 0x75 // 'u'
        static let text: UInt8 = 0x74 // 't'
        static let binary: UInt8 = 0x62 // 'b'
    }

    private static func expectTupleMarker(
        _ reader: inout ByteReader, _ marker: UInt8, expected: String
    ) throws(PgOutputDecodingError) {
        let offset = reader.offset
        let found = try reader.readUInt8("tuple marker")
        guard found == marker else {
            throw .invalidTupleMarker(messageType: reader.messageType, found: found, expected: expected, offset: offset)
        }
    }

    /// The hot path: one array per tuple, values as slices of the input.
    private static func decodeTuple(_ reader: inout ByteReader) throws(PgOutputDecodingError) -> PgOutputMessage.TupleData {
        let count = Int(try reader.readUInt16("tuple column count"))
        var columns: [PgOutputMessage.TupleData.Column] = []
        // Every column takes at least its kind byte: never reserve more than the bytes could describe.
        columns.reserveCapacity(min(count, reader.remaining))
        for _ in 0..<count {
            let kindOffset = reader.offset
            let kind = try reader.readUInt8("tuple column kind")
            switch kind {
            case ColumnKind.null:
                columns.append(.null)
            case ColumnKind.unchangedToast:
                columns.append(.unchangedToast)
            case ColumnKind.text:
                let length = try reader.readLength("column length")
                columns.append(.text(try reader.readBytes(length, "column value")))
            case ColumnKind.binary:
                let length = try reader.readLength("column length")
                columns.append(.binary(try reader.readBytes(length, "column value")))
            default:
                throw .invalidTupleColumnKind(kind, offset: kindOffset)
            }
        }
        return PgOutputMessage.TupleData(columns: columns)
    }

    /// pgoutput abbreviates `pg_catalog` as the empty string.
    private static func namespace(_ sent: String) -> String {
        sent.isEmpty ? "pg_catalog" : sent
    }
}
