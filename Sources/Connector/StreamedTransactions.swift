import PgOutputDecoder
import PostgresLSN

/// In-progress transactions the server streams before they commit (`--stream-in-progress`, pgoutput's
/// `streaming` option). Their changes are held here until Stream Commit and dropped at Stream Abort, so that
/// nothing of a transaction is published before it commits and nothing of an aborted one ever.
///
/// The price is memory: a transaction's changes are held in outbox-cdc until its commit, where without
/// streaming the server would have spilled them to its own disk. Hence off by default.
struct StreamedTransactions {
    struct Change {
        /// Where the change's XLogData started, for error messages.
        var position: LSN
        var message: PgOutputMessage
        var bytes = 0
    }

    /// Held changes by top-level transaction, in the order they were streamed.
    private var changes: [UInt32: [Change]] = [:]
    /// The transaction whose Stream Start … Stream Stop block is being received.
    private(set) var openBlock: UInt32?
    /// The pgoutput bytes of the changes held, all transactions together: what the memory bound counts.
    private(set) var heldBytes = 0

    /// No streamed transaction is waiting for its commit or abort.
    var isEmpty: Bool { changes.isEmpty && openBlock == nil }

    /// How many changes the transaction has held.
    func count(of transactionID: UInt32) -> Int { changes[transactionID]?.count ?? 0 }

    /// Stream Start, Stream Stop, Stream Abort and the changes inside a block are taken here; returns false
    /// for anything else (Stream Commit included), which the caller handles.
    mutating func take(_ message: PgOutputMessage, at position: LSN, bytes: Int = 0) -> Bool {
        switch message {
        case .streamStart(let start):
            openBlock = start.transactionID
            return true
        case .streamStop:
            openBlock = nil
            return true
        case .streamAbort(let abort):
            discard(abort)
            return true
        case .message(let logical) where !logical.isTransactional:
            // Not part of any transaction: the caller publishes it at once.
            return false
        default:
            guard let openBlock else { return false }
            changes[openBlock, default: []].append(Change(position: position, message: message, bytes: bytes))
            heldBytes += bytes
            return true
        }
    }

    /// Stream Commit: the transaction's changes, in order, to be handled as one ordinary transaction.
    mutating func commit(_ commit: PgOutputMessage.StreamCommit) -> [Change] {
        let held = changes.removeValue(forKey: commit.transactionID) ?? []
        heldBytes -= held.reduce(0) { $0 + $1.bytes }
        return held
    }

    /// Stream Abort of the whole transaction drops all it held. Of a subtransaction, it drops that
    /// subtransaction's data changes (each carries the xid of the subtransaction that made it); a Relation or
    /// Type message stays, because pgoutput sends each relation once per top-level transaction and later
    /// changes of the transaction rely on it.
    private mutating func discard(_ abort: PgOutputMessage.StreamAbort) {
        if abort.subtransactionID == abort.transactionID {
            heldBytes -= (changes.removeValue(forKey: abort.transactionID) ?? []).reduce(0) { $0 + $1.bytes }
            return
        }
        changes[abort.transactionID]?.removeAll { change in
            let dropped = change.message.streamedTransactionID == abort.subtransactionID && !change.message.isSchema
            if dropped { heldBytes -= change.bytes }
            return dropped
        }
    }
}

extension PgOutputMessage {
    /// The (sub)transaction a change inside a stream block belongs to.
    var streamedTransactionID: UInt32? {
        switch self {
        case .insert(let message): return message.transactionID
        case .update(let message): return message.transactionID
        case .delete(let message): return message.transactionID
        case .truncate(let message): return message.transactionID
        case .message(let message): return message.transactionID
        case .relation(let message): return message.transactionID
        case .type(let message): return message.transactionID
        default: return nil
        }
    }

    /// A Relation or Type message: a description, not a change.
    var isSchema: Bool {
        switch self {
        case .relation, .type: return true
        default: return false
        }
    }
}
