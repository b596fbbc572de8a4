extension PgOutputMessage {
    /// The column values of one row, in the order of the Relation's columns.
    ///
    /// Values are slices of the decoded input, not copies: one array per tuple is the only allocation. A
    /// consumer that keeps a value past the input's lifetime keeps the input's storage alive with it.
    public struct TupleData: Sendable, Hashable {
        public enum Column: Sendable, Hashable {
            /// 'n': SQL NULL. In a 'K' old tuple, also every column outside the replica identity.
            case null
            /// 'u': a TOASTed value that did not change and is therefore not sent; the consumer must take
            /// it from elsewhere (or skip it).
            case unchangedToast
            /// 't': the type's text output, in the server's (or walsender client's) encoding.
            case text(ArraySlice<UInt8>)
            /// 'b': the type's binary send format (with the `binary` option).
            case binary(ArraySlice<UInt8>)
        }

        public var columns: [Column]

        public init(columns: [Column]) {
            self.columns = columns
        }
    }
}

extension PgOutputMessage.TupleData.Column {
    /// The bytes of a text or binary value; nil for NULL and unchanged TOAST.
    public var bytes: ArraySlice<UInt8>? {
        switch self {
        case .text(let bytes), .binary(let bytes): bytes
        case .null, .unchangedToast: nil
        }
    }

    /// A text value decoded as UTF-8 (invalid sequences repaired with U+FFFD); nil for other kinds. A
    /// convenience for tests and logs; hot paths should use the bytes.
    public var textValue: String? {
        guard case .text(let bytes) = self else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
