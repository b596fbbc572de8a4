import PostgresNames
import Testing
import WALReader

@Suite("ReplicationStartError")
struct ReplicationStartErrorTests {
    @Test func keepsTheKindOfEveryErrorItSorts() {
        let setup = ReplicationSetupError.tableMissing(QualifiedTableName(schema: "public", name: "outbox"), database: "app")
        // Already sorted (what prepareSource and prepareSlot throw): passed through, not re-wrapped.
        guard case .setup(.tableMissing) = ReplicationStartError(ReplicationStartError.setup(setup)) else {
            Issue.record("a ReplicationStartError was re-wrapped")
            return
        }
        guard case .setup(.tableMissing) = ReplicationStartError(setup) else {
            Issue.record("a ReplicationSetupError was not sorted as setup")
            return
        }
        let refused = PostgresError(kind: .authenticationFailed, message: "password authentication failed")
        guard case .postgres(let error) = ReplicationStartError(refused) else {
            Issue.record("a PostgresError was not sorted as postgres")
            return
        }
        #expect(error.kind == .authenticationFailed)
    }
}
