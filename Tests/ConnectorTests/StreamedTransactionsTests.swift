@testable import Connector
import PgOutputDecoder
import PostgresLSN
import Testing

/// The hold-until-commit buffer behind --stream-in-progress, without a server.
@Suite("StreamedTransactions")
struct StreamedTransactionsTests {
    private static func insert(_ xid: UInt32) -> PgOutputMessage {
        .insert(.init(transactionID: xid, relationID: 1, newTuple: .init(columns: [])))
    }

    private static func relation(_ xid: UInt32) -> PgOutputMessage {
        .relation(.init(transactionID: xid, relationID: 1, namespace: "public", name: "outbox", replicaIdentity: .default, columns: []))
    }

    private static func commit(_ xid: UInt32) -> PgOutputMessage.StreamCommit {
        .init(transactionID: xid, flags: 0, commitLSN: LSN(100), endLSN: LSN(200), commitTimestamp: .init(microsecondsSincePostgresEpoch: 0))
    }

    @Test func changesInsideABlockAreHeldUntilStreamCommitInOrder() {
        var streamed = StreamedTransactions()
        let taken1 = streamed.take(.streamStart(.init(transactionID: 7, isFirstSegment: true)), at: LSN(1))
        #expect(taken1)
        let taken2 = streamed.take(Self.relation(7), at: LSN(2))
        #expect(taken2)
        let taken3 = streamed.take(Self.insert(7), at: LSN(3))
        #expect(taken3)
        let taken4 = streamed.take(.streamStop, at: LSN(4))
        #expect(taken4)
        #expect(!streamed.isEmpty)
        // Outside a block, a change is the caller's (an ordinary transaction's).
        let taken5 = streamed.take(Self.insert(8), at: LSN(5))
        #expect(!taken5)
        let taken6 = streamed.take(.streamStart(.init(transactionID: 7, isFirstSegment: false)), at: LSN(6))
        #expect(taken6)
        let taken7 = streamed.take(Self.insert(7), at: LSN(7))
        #expect(taken7)
        let taken8 = streamed.take(.streamStop, at: LSN(8))
        #expect(taken8)
        let changes = streamed.commit(Self.commit(7))
        #expect(changes.map(\.position) == [LSN(2), LSN(3), LSN(7)])
        #expect(streamed.isEmpty)
    }

    @Test func aWholeTransactionAbortDropsEverythingItHeld() {
        var streamed = StreamedTransactions()
        _ = streamed.take(.streamStart(.init(transactionID: 7, isFirstSegment: true)), at: LSN(1))
        _ = streamed.take(Self.relation(7), at: LSN(2))
        _ = streamed.take(Self.insert(7), at: LSN(3))
        _ = streamed.take(.streamStop, at: LSN(4))
        let taken9 = streamed.take(.streamAbort(.init(transactionID: 7, subtransactionID: 7)), at: LSN(5))
        #expect(taken9)
        #expect(streamed.isEmpty)
        let changes = streamed.commit(Self.commit(7))
        #expect(changes.isEmpty)
    }

    @Test func aSubtransactionAbortDropsItsChangesButKeepsRelationMessages() {
        var streamed = StreamedTransactions()
        _ = streamed.take(.streamStart(.init(transactionID: 7, isFirstSegment: true)), at: LSN(1))
        _ = streamed.take(Self.insert(7), at: LSN(2))
        // The relation is first described inside the subtransaction; pgoutput will not describe it again.
        _ = streamed.take(Self.relation(9), at: LSN(3))
        _ = streamed.take(Self.insert(9), at: LSN(4))
        _ = streamed.take(.streamStop, at: LSN(5))
        _ = streamed.take(.streamAbort(.init(transactionID: 7, subtransactionID: 9)), at: LSN(6))
        _ = streamed.take(.streamStart(.init(transactionID: 7, isFirstSegment: false)), at: LSN(7))
        _ = streamed.take(Self.insert(7), at: LSN(8))
        _ = streamed.take(.streamStop, at: LSN(9))
        let changes = streamed.commit(Self.commit(7))
        #expect(changes.map(\.position) == [LSN(2), LSN(3), LSN(8)])
    }

    @Test func aNonTransactionalMessageIsNeverHeld() {
        var streamed = StreamedTransactions()
        _ = streamed.take(.streamStart(.init(transactionID: 7, isFirstSegment: true)), at: LSN(1))
        let message = PgOutputMessage.message(.init(transactionID: nil, flags: 0, lsn: LSN(2), prefix: "outbox:t", content: []))
        let taken10 = streamed.take(message, at: LSN(2))
        #expect(!taken10)
    }

    @Test func heldBytesCountWhatIsHeldAndFallWithCommitAndAbort() {
        var streamed = StreamedTransactions()
        _ = streamed.take(.streamStart(.init(transactionID: 7, isFirstSegment: true)), at: LSN(1))
        _ = streamed.take(Self.insert(7), at: LSN(2), bytes: 100)
        _ = streamed.take(Self.insert(9), at: LSN(3), bytes: 40)
        _ = streamed.take(.streamStop, at: LSN(4))
        _ = streamed.take(.streamStart(.init(transactionID: 8, isFirstSegment: true)), at: LSN(5))
        _ = streamed.take(Self.insert(8), at: LSN(6), bytes: 30)
        _ = streamed.take(.streamStop, at: LSN(7))
        #expect(streamed.heldBytes == 170)
        _ = streamed.take(.streamAbort(.init(transactionID: 7, subtransactionID: 9)), at: LSN(8))
        #expect(streamed.heldBytes == 130)
        _ = streamed.take(.streamAbort(.init(transactionID: 8, subtransactionID: 8)), at: LSN(9))
        #expect(streamed.heldBytes == 100)
        _ = streamed.commit(Self.commit(7))
        #expect(streamed.heldBytes == 0)
    }
}
