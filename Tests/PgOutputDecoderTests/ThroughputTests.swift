import Foundation
import PgOutputDecoder
import Testing

/// Not a benchmark (debug builds and shared CI machines make timings meaningless as assertions): it decodes
/// many real Insert messages and reports the rate, so `swift test -c release --filter Throughput` gives a
/// quick reading. The only assertion is that every row decodes to the expected shape.
@Suite struct ThroughputTests {
    @Test func decodeManyInserts() throws {
        let entries = try Fixture(name: "proto1_basic", protocolVersion: 1).decodeAll()
        let insert = try #require(entries.first { if case .insert = $0.message { true } else { false } }).bytes
        let rows = 200_000
        var decoder = PgOutputDecoder(protocolVersion: 1)
        var columns = 0
        let start = ContinuousClock.now
        for _ in 0..<rows {
            if case .insert(let message) = try decoder.decode(insert) {
                columns += message.newTuple.columns.count
            }
        }
        let elapsed = ContinuousClock.now - start
        #expect(columns == rows * 10)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("decoded \(rows) ten-column Inserts in \(elapsed): \(Int(Double(rows) / max(seconds, 1e-9))) rows/s")
    }
}
