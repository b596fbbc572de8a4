import Foundation
import Testing

/// A reconnect to the same server history resumes from what outbox-cdc handed to Kafka, not from the slot's
/// older position: nothing acknowledged or still in flight is published again. (After a change of timeline
/// the fork rule decides instead: FailoverTests.)
@Suite("Resuming after a reconnect", .serialized)
struct ResumeTests {
    @Test("The walsender terminated while Kafka holds events unacknowledged: the reconnect resumes past the slot and publishes nothing twice")
    func walsenderTerminatedWithEventsInFlight() throws {
        try FaultSuite.onOwnCluster { cluster, bench in
            let connector = try bench.startConnector()
            let load = bench.load(transactionsPerSecond: 20)
            defer { load.stop() }
            Thread.sleep(forTimeInterval: 1.5)
            // Events read and handed to Kafka, not acknowledged: the slot stays before them.
            bench.broker.pause()
            Thread.sleep(forTimeInterval: 1)
            let streams = connector.logCount("] streaming")
            _ = try bench.sql("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '\(bench.slot)'")
            try waitFor("the connector to stream again", timeout: .seconds(60)) { connector.logCount("] streaming") > streams }
            #expect(connector.log.contains("past the slot's confirmed position"), "the log says where it resumed and by how much:\n\(connector.log)")
            #expect(connector.log.contains("cdc.ahead_of_slot_bytes") , "\(connector.log)")
            Thread.sleep(forTimeInterval: 0.5)
            bench.broker.resume()
            Thread.sleep(forTimeInterval: 1.5)
            let (audit, _) = try FaultSuite.conclude(bench, load, connector)
            #expect(audit.duplicates == 0, "events published again after the reconnect: \(audit.summary)")
        }
    }
}
