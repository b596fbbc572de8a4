/// The first byte of every pgoutput message.
enum MessageType: UInt8 {
    case begin = 0x42 // 'B'
    case commit = 0x43 // 'C'
    case origin = 0x4F // 'O'
    case relation = 0x52 // 'R'
    case type = 0x59 // 'Y'
    case insert = 0x49 // 'I'
    case update = 0x55 // 'U'
    case delete = 0x44 // 'D'
    case truncate = 0x54 // 'T'
    case message = 0x4D // 'M'
    case streamStart = 0x53 // 'S'
    case streamStop = 0x45 // 'E'
    case streamCommit = 0x63 // 'c'
    case streamAbort = 0x41 // 'A'
    case beginPrepare = 0x62 // 'b'
    case prepare = 0x50 // 'P'
    case commitPrepared = 0x4B // 'K'
    case rollbackPrepared = 0x72 // 'r'
    case streamPrepare = 0x70 // 'p'

    var name: String {
        switch self {
        case .begin: "Begin"
        case .commit: "Commit"
        case .origin: "Origin"
        case .relation: "Relation"
        case .type: "Type"
        case .insert: "Insert"
        case .update: "Update"
        case .delete: "Delete"
        case .truncate: "Truncate"
        case .message: "Message"
        case .streamStart: "Stream Start"
        case .streamStop: "Stream Stop"
        case .streamCommit: "Stream Commit"
        case .streamAbort: "Stream Abort"
        case .beginPrepare: "Begin Prepare"
        case .prepare: "Prepare"
        case .commitPrepared: "Commit Prepared"
        case .rollbackPrepared: "Rollback Prepared"
        case .streamPrepare: "Stream Prepare"
        }
    }

    /// The first protocol version in which PostgreSQL sends this message: streaming came with version 2
    /// (PostgreSQL 14), two-phase commit with version 3 (PostgreSQL 15).
    var minimumProtocolVersion: Int {
        switch self {
        case .begin, .commit, .origin, .relation, .type, .insert, .update, .delete, .truncate, .message: 1
        case .streamStart, .streamStop, .streamCommit, .streamAbort: 2
        case .beginPrepare, .prepare, .commitPrepared, .rollbackPrepared, .streamPrepare: 3
        }
    }

    /// Whether the message may appear between Stream Start and Stream Stop. Origin may: PostgreSQL sends it
    /// right after Stream Start for a transaction that has a replication origin.
    var isAllowedInsideStreamBlock: Bool {
        switch self {
        case .origin, .relation, .type, .insert, .update, .delete, .truncate, .message, .streamStop: true
        case .begin, .commit, .streamStart, .streamCommit, .streamAbort,
             .beginPrepare, .prepare, .commitPrepared, .rollbackPrepared, .streamPrepare: false
        }
    }

    /// "Insert ('I')" for a known type, "0x07" for an unknown one.
    static func describe(_ byte: UInt8) -> String {
        guard let type = MessageType(rawValue: byte) else { return describeByte(byte) }
        return "\(type.name) (\(describeByte(byte)))"
    }

    /// A byte as a quoted character when printable ASCII, else as hex.
    static func describeByte(_ byte: UInt8) -> String {
        if (0x21...0x7E).contains(byte) {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0x0\(hex)" : "0x\(hex)"
    }
}
