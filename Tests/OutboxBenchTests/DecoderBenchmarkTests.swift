import OutboxBench
import PgOutputDecoder
import Testing

@Suite("DecoderBenchmark")
struct DecoderBenchmarkTests {
    @Test("every event is decoded and mapped, over exactly the bytes of the stream")
    func exactCounts() {
        let input = DecoderBenchmark.makeInput(events: 2_000, payloadBytes: 200)
        // Begin + Commit per 20 rows, one Relation, one Insert per event.
        #expect(input.messages == 2_000 + 2 * 100 + 1)
        #expect(input.inserts == 2_000)

        let result = DecoderBenchmark.run(input: input, passes: 1)
        #expect(result.failure == nil)
        #expect(result.isComplete)
        #expect(result.passes == 1)
        #expect(result.messages == input.messages)
        #expect(result.bytes == input.buffer.count)
        #expect(result.decodedInserts == 2_000)
        #expect(result.decodedColumns == 2_000 * 5)
        #expect(result.mappedEvents == 2_000)
        #expect(result.expectedEvents == 2_000)
        #expect(result.decodeSeconds > 0)
        #expect(result.mapSeconds > 0)
        #expect(result.messagesPerSecond > 0)
        #expect(result.bytesPerSecond > 0)
        #expect(result.mappedEventsPerSecond > 0)
    }

    @Test("counts cover every pass")
    func passesMultiply() {
        let single = DecoderBenchmark.makeInput(events: 500, payloadBytes: 64)
        let result = DecoderBenchmark.run(events: 500, payloadBytes: 64)
        #expect(result.failure == nil)
        #expect(result.passes >= 1)
        #expect(result.mappedEvents == 500 * result.passes)
        #expect(result.decodedInserts == 500 * result.passes)
        #expect(result.messages == single.messages * result.passes)
        #expect(result.bytes == single.buffer.count * result.passes)
    }

    @Test("the stream is what pgoutput sends for outbox inserts")
    func streamContents() throws {
        let input = DecoderBenchmark.makeInput(events: 45, payloadBytes: 200)
        var decoder = PgOutputDecoder(protocolVersion: 1)
        var kinds = ""
        var inserts: [PgOutputMessage.Insert] = []
        var relation: PgOutputMessage.Relation?
        for range in input.messageRanges {
            switch try decoder.decode(input.buffer[range]) {
            case .begin: kinds += "B"
            case .commit: kinds += "C"
            case .relation(let decoded):
                kinds += "R"
                relation = decoded
            case .insert(let insert):
                kinds += "I"
                inserts.append(insert)
            default: kinds += "?"
            }
        }
        // The ranges tile the buffer: nothing between or after messages.
        #expect(input.messageRanges.map(\.count).reduce(0, +) == input.buffer.count)
        let twenty = String(repeating: "I", count: 20)
        #expect(kinds == "BR" + twenty + "C" + "B" + twenty + "C" + "BIIIIIC")

        let outbox = try #require(relation)
        #expect(outbox.namespace == "public")
        #expect(outbox.name == "outbox")
        #expect(outbox.columns.map(\.name) == ["id", "aggregatetype", "aggregateid", "type", "payload"])
        #expect(outbox.columns.map(\.typeOID) == [2950, 25, 25, 25, 3802])
        #expect(outbox.columns.map(\.isKey) == [true, false, false, false, false])

        #expect(inserts.count == 45)
        #expect(inserts.allSatisfy { $0.relationID == outbox.relationID })
        let last = try #require(inserts.last).newTuple.columns
        #expect(last.map(\.textValue) == [last[0].textValue, "order", "order-45", "created", last[4].textValue])
        let id = try #require(last[0].textValue)
        #expect(id.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
        #expect(id.allSatisfy { $0 == "-" || $0.isHexDigit })
        #expect(Set(inserts.compactMap { $0.newTuple.columns[0].textValue }).count == 45)
        #expect(inserts.allSatisfy { $0.newTuple.columns[4].bytes?.count == 200 })
        let payload = try #require(last[4].textValue)
        #expect(payload.hasPrefix("{\"order\": \"order-45\", \"padding\": \""))
        #expect(payload.hasSuffix("\"}"))
    }

    @Test("payloads keep their exact size, down to zero bytes", arguments: [0, 1, 2, 7, 37, 38, 1_000])
    func payloadSizes(payloadBytes: Int) throws {
        let input = DecoderBenchmark.makeInput(events: 21, payloadBytes: payloadBytes)
        var decoder = PgOutputDecoder(protocolVersion: 1)
        var sizes: [Int] = []
        for range in input.messageRanges {
            if case .insert(let insert) = try decoder.decode(input.buffer[range]) {
                sizes.append(insert.newTuple.columns[4].bytes?.count ?? -1)
            }
        }
        #expect(sizes == Array(repeating: payloadBytes, count: 21))
        let result = DecoderBenchmark.run(input: input, passes: 1)
        #expect(result.isComplete)
        #expect(result.mappedEvents == 21)
    }

    @Test("no events: an empty stream, nothing decoded, no failure")
    func noEvents() {
        let result = DecoderBenchmark.run(events: 0, payloadBytes: 100)
        #expect(result.failure == nil)
        #expect(result.messages == 0)
        #expect(result.bytes == 0)
        #expect(result.mappedEvents == 0)
        #expect(result.isComplete)
    }

    @Test("a message that does not decode stops the run and is reported, without trapping")
    func corruptStream() throws {
        var input = DecoderBenchmark.makeInput(events: 40, payloadBytes: 50)
        // The first Insert of the second transaction: Begin, Relation, 20 Inserts, Commit, Begin come first.
        let broken = input.messageRanges[24]
        input.buffer[broken.lowerBound] = 0xFF
        let result = DecoderBenchmark.run(input: input, passes: 1)
        let failure = try #require(result.failure)
        #expect(failure.hasPrefix("message 24 did not decode"))
        #expect(!result.isComplete)
        #expect(result.messages == 24)
        #expect(result.decodedInserts == 20)
        #expect(result.mappedEvents == 0)
    }
}
