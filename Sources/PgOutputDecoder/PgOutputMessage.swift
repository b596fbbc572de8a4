public import PostgresLSN
public import PostgresWire

/// One decoded pgoutput message: the payload of one XLogData.
///
/// Field layouts follow PostgreSQL's "Logical Replication Message Formats" (protocol versions 1 to 4).
/// The payload types are nested here rather than top-level because their natural names (`Begin`,
/// `Relation`, `Commit`) are too generic for a module-wide namespace.
///
/// `transactionID` fields typed `UInt32?` are the xid that protocol 2 and later put in front of Relation,
/// Type, Insert, Update, Delete, Truncate and Message when, and only when, they are sent inside a streamed
/// block (between Stream Start and Stream Stop); outside one they are nil.
public enum PgOutputMessage: Sendable, Hashable {
    case begin(Begin)
    case commit(Commit)
    case origin(Origin)
    case relation(Relation)
    case type(TypeDefinition)
    case insert(Insert)
    case update(Update)
    case delete(Delete)
    case truncate(Truncate)
    case message(LogicalMessage)
    case streamStart(StreamStart)
    case streamStop
    case streamCommit(StreamCommit)
    case streamAbort(StreamAbort)
    case beginPrepare(BeginPrepare)
    case prepare(Prepare)
    case commitPrepared(CommitPrepared)
    case rollbackPrepared(RollbackPrepared)
    case streamPrepare(StreamPrepare)
}

extension PgOutputMessage {
    /// 'B': the start of a transaction sent whole (not streamed).
    public struct Begin: Sendable, Hashable {
        /// The LSN of the commit record; the transaction's changes all lie before it.
        public var finalLSN: LSN
        public var commitTimestamp: PostgresTimestamp
        public var transactionID: UInt32

        public init(finalLSN: LSN, commitTimestamp: PostgresTimestamp, transactionID: UInt32) {
            self.finalLSN = finalLSN
            self.commitTimestamp = commitTimestamp
            self.transactionID = transactionID
        }
    }

    /// 'C': the end of a transaction begun by Begin.
    public struct Commit: Sendable, Hashable {
        /// Unused by PostgreSQL so far (always 0); kept rather than rejected so a future flag does not stop
        /// replication.
        public var flags: UInt8
        /// The LSN of the commit record.
        public var commitLSN: LSN
        /// The end of the commit record: the position to confirm once the transaction is durably handled.
        public var endLSN: LSN
        public var commitTimestamp: PostgresTimestamp

        public init(flags: UInt8, commitLSN: LSN, endLSN: LSN, commitTimestamp: PostgresTimestamp) {
            self.flags = flags
            self.commitLSN = commitLSN
            self.endLSN = endLSN
            self.commitTimestamp = commitTimestamp
        }
    }

    /// 'O': the replication origin of the transaction in progress (sent after Begin or Stream Start).
    public struct Origin: Sendable, Hashable {
        /// The commit LSN on the origin server.
        public var originLSN: LSN
        public var name: String

        public init(originLSN: LSN, name: String) {
            self.originLSN = originLSN
            self.name = name
        }
    }

    /// 'R': the shape of a table, sent before its first change in a session and again after it changes.
    /// The decoder does not cache it: the consumer keeps the relation-id-to-relation map.
    public struct Relation: Sendable, Hashable {
        public enum ReplicaIdentity: UInt8, Sendable, Hashable {
            /// The primary key, if any ('d').
            case `default` = 0x64
            /// No old values ('n').
            case nothing = 0x6E
            /// All columns ('f').
            case full = 0x66
            /// A chosen unique index ('i').
            case index = 0x69
        }

        public struct Column: Sendable, Hashable {
            /// Bit 0 (value 1): the column is part of the replica identity key.
            public var flags: UInt8
            public var name: String
            public var typeOID: UInt32
            /// The `atttypmod` (e.g. varchar length + 4), -1 when the type has none.
            public var typeModifier: Int32

            public var isKey: Bool { flags & 1 != 0 }

            public init(flags: UInt8, name: String, typeOID: UInt32, typeModifier: Int32) {
                self.flags = flags
                self.name = name
                self.typeOID = typeOID
                self.typeModifier = typeModifier
            }
        }

        public var transactionID: UInt32?
        public var relationID: UInt32
        /// The schema. PostgreSQL sends an empty string for `pg_catalog`; the decoder restores the name.
        public var namespace: String
        public var name: String
        public var replicaIdentity: ReplicaIdentity
        public var columns: [Column]

        public init(
            transactionID: UInt32?, relationID: UInt32, namespace: String, name: String,
            replicaIdentity: ReplicaIdentity, columns: [Column]
        ) {
            self.transactionID = transactionID
            self.relationID = relationID
            self.namespace = namespace
            self.name = name
            self.replicaIdentity = replicaIdentity
            self.columns = columns
        }
    }

    /// 'Y': the name of a non-built-in type used by a column of a Relation that follows.
    public struct TypeDefinition: Sendable, Hashable {
        public var transactionID: UInt32?
        public var typeOID: UInt32
        /// The schema; an empty string on the wire means `pg_catalog` and is restored here.
        public var namespace: String
        public var name: String

        public init(transactionID: UInt32?, typeOID: UInt32, namespace: String, name: String) {
            self.transactionID = transactionID
            self.typeOID = typeOID
            self.namespace = namespace
            self.name = name
        }
    }

    /// The old row of an Update or Delete: only the replica identity columns ('K', the others null), or
    /// every column under REPLICA IDENTITY FULL ('O').
    public struct OldTuple: Sendable, Hashable {
        public enum Kind: UInt8, Sendable, Hashable {
            case key = 0x4B // 'K'
            case full = 0x4F // 'O'
        }

        public var kind: Kind
        public var tuple: TupleData

        public init(kind: Kind, tuple: TupleData) {
            self.kind = kind
            self.tuple = tuple
        }
    }

    /// 'I'
    public struct Insert: Sendable, Hashable {
        public var transactionID: UInt32?
        public var relationID: UInt32
        public var newTuple: TupleData

        public init(transactionID: UInt32?, relationID: UInt32, newTuple: TupleData) {
            self.transactionID = transactionID
            self.relationID = relationID
            self.newTuple = newTuple
        }
    }

    /// 'U'. `oldTuple` is present when the replica identity is FULL, or when a key column changed.
    public struct Update: Sendable, Hashable {
        public var transactionID: UInt32?
        public var relationID: UInt32
        public var oldTuple: OldTuple?
        public var newTuple: TupleData

        public init(transactionID: UInt32?, relationID: UInt32, oldTuple: OldTuple?, newTuple: TupleData) {
            self.transactionID = transactionID
            self.relationID = relationID
            self.oldTuple = oldTuple
            self.newTuple = newTuple
        }
    }

    /// 'D'
    public struct Delete: Sendable, Hashable {
        public var transactionID: UInt32?
        public var relationID: UInt32
        public var oldTuple: OldTuple

        public init(transactionID: UInt32?, relationID: UInt32, oldTuple: OldTuple) {
            self.transactionID = transactionID
            self.relationID = relationID
            self.oldTuple = oldTuple
        }
    }

    /// 'T': one TRUNCATE statement, listing every published table it emptied (including by CASCADE).
    public struct Truncate: Sendable, Hashable {
        public struct Options: OptionSet, Sendable, Hashable {
            public var rawValue: UInt8
            public init(rawValue: UInt8) { self.rawValue = rawValue }

            public static let cascade = Options(rawValue: 1)
            public static let restartIdentity = Options(rawValue: 2)
        }

        public var transactionID: UInt32?
        /// Unknown bits are kept in `rawValue`.
        public var options: Options
        public var relationIDs: [UInt32]

        public init(transactionID: UInt32?, options: Options, relationIDs: [UInt32]) {
            self.transactionID = transactionID
            self.options = options
            self.relationIDs = relationIDs
        }
    }

    /// 'M': a message from `pg_logical_emit_message` (sent only with the `messages` option).
    public struct LogicalMessage: Sendable, Hashable {
        public var transactionID: UInt32?
        /// Bit 0 (value 1): transactional, i.e. delivered inside its transaction and only if it commits.
        public var flags: UInt8
        public var lsn: LSN
        public var prefix: String
        /// Arbitrary bytes, a slice of the decoded input.
        public var content: ArraySlice<UInt8>

        public var isTransactional: Bool { flags & 1 != 0 }

        public init(transactionID: UInt32?, flags: UInt8, lsn: LSN, prefix: String, content: ArraySlice<UInt8>) {
            self.transactionID = transactionID
            self.flags = flags
            self.lsn = lsn
            self.prefix = prefix
            self.content = content
        }
    }

    /// 'S': the start of a block of changes of an in-progress transaction (protocol 2+).
    public struct StreamStart: Sendable, Hashable {
        public var transactionID: UInt32
        /// True for the first block of this transaction.
        public var isFirstSegment: Bool

        public init(transactionID: UInt32, isFirstSegment: Bool) {
            self.transactionID = transactionID
            self.isFirstSegment = isFirstSegment
        }
    }

    /// 'c': a streamed transaction committed.
    public struct StreamCommit: Sendable, Hashable {
        public var transactionID: UInt32
        /// Unused by PostgreSQL so far (always 0).
        public var flags: UInt8
        public var commitLSN: LSN
        public var endLSN: LSN
        public var commitTimestamp: PostgresTimestamp

        public init(
            transactionID: UInt32, flags: UInt8, commitLSN: LSN, endLSN: LSN, commitTimestamp: PostgresTimestamp
        ) {
            self.transactionID = transactionID
            self.flags = flags
            self.commitLSN = commitLSN
            self.endLSN = endLSN
            self.commitTimestamp = commitTimestamp
        }
    }

    /// 'A': a streamed transaction, or one of its subtransactions, aborted: discard what was streamed for
    /// `subtransactionID` (equal to `transactionID` for the whole transaction).
    public struct StreamAbort: Sendable, Hashable {
        public var transactionID: UInt32
        public var subtransactionID: UInt32
        /// Present only with protocol 4 and streaming = parallel (PostgreSQL 16+); see
        /// `PgOutputDecoder.init(protocolVersion:parallelStreaming:)`.
        public var abortLSN: LSN?
        public var abortTimestamp: PostgresTimestamp?

        public init(
            transactionID: UInt32, subtransactionID: UInt32, abortLSN: LSN? = nil,
            abortTimestamp: PostgresTimestamp? = nil
        ) {
            self.transactionID = transactionID
            self.subtransactionID = subtransactionID
            self.abortLSN = abortLSN
            self.abortTimestamp = abortTimestamp
        }
    }

    /// 'b': the start of a prepared transaction (protocol 3+, two_phase).
    public struct BeginPrepare: Sendable, Hashable {
        public var prepareLSN: LSN
        public var endLSN: LSN
        public var prepareTimestamp: PostgresTimestamp
        public var transactionID: UInt32
        /// The transaction's global identifier, as given to PREPARE TRANSACTION.
        public var gid: String

        public init(
            prepareLSN: LSN, endLSN: LSN, prepareTimestamp: PostgresTimestamp, transactionID: UInt32, gid: String
        ) {
            self.prepareLSN = prepareLSN
            self.endLSN = endLSN
            self.prepareTimestamp = prepareTimestamp
            self.transactionID = transactionID
            self.gid = gid
        }
    }

    /// 'P': the end of a transaction begun by Begin Prepare; it is prepared, not yet committed.
    public struct Prepare: Sendable, Hashable {
        /// Unused by PostgreSQL so far (always 0).
        public var flags: UInt8
        public var prepareLSN: LSN
        public var endLSN: LSN
        public var prepareTimestamp: PostgresTimestamp
        public var transactionID: UInt32
        public var gid: String

        public init(
            flags: UInt8, prepareLSN: LSN, endLSN: LSN, prepareTimestamp: PostgresTimestamp,
            transactionID: UInt32, gid: String
        ) {
            self.flags = flags
            self.prepareLSN = prepareLSN
            self.endLSN = endLSN
            self.prepareTimestamp = prepareTimestamp
            self.transactionID = transactionID
            self.gid = gid
        }
    }

    /// 'K': COMMIT PREPARED of a transaction sent earlier.
    public struct CommitPrepared: Sendable, Hashable {
        /// Unused by PostgreSQL so far (always 0).
        public var flags: UInt8
        public var commitLSN: LSN
        public var endLSN: LSN
        public var commitTimestamp: PostgresTimestamp
        public var transactionID: UInt32
        public var gid: String

        public init(
            flags: UInt8, commitLSN: LSN, endLSN: LSN, commitTimestamp: PostgresTimestamp,
            transactionID: UInt32, gid: String
        ) {
            self.flags = flags
            self.commitLSN = commitLSN
            self.endLSN = endLSN
            self.commitTimestamp = commitTimestamp
            self.transactionID = transactionID
            self.gid = gid
        }
    }

    /// 'r': ROLLBACK PREPARED of a transaction sent earlier.
    public struct RollbackPrepared: Sendable, Hashable {
        /// Unused by PostgreSQL so far (always 0).
        public var flags: UInt8
        /// The end LSN of the prepared transaction.
        public var prepareEndLSN: LSN
        /// The end LSN of the rollback.
        public var rollbackEndLSN: LSN
        public var prepareTimestamp: PostgresTimestamp
        public var rollbackTimestamp: PostgresTimestamp
        public var transactionID: UInt32
        public var gid: String

        public init(
            flags: UInt8, prepareEndLSN: LSN, rollbackEndLSN: LSN, prepareTimestamp: PostgresTimestamp,
            rollbackTimestamp: PostgresTimestamp, transactionID: UInt32, gid: String
        ) {
            self.flags = flags
            self.prepareEndLSN = prepareEndLSN
            self.rollbackEndLSN = rollbackEndLSN
            self.prepareTimestamp = prepareTimestamp
            self.rollbackTimestamp = rollbackTimestamp
            self.transactionID = transactionID
            self.gid = gid
        }
    }

    /// 'p': a streamed transaction was prepared (protocol 3+, streaming and two_phase). Same layout as
    /// Prepare; the enum case, not the type, says it closes a streamed transaction.
    public typealias StreamPrepare = Prepare
}
