import Clocks
import Connector
import PgOutputDecoder
import PostgresNames

/// What one decoder micro-benchmark run measured, and the sums that prove the work was done.
public struct DecoderBenchmarkResult: Sendable {
    /// Timed passes over the stream; each count below covers all of them.
    public var passes: Int
    /// pgoutput messages decoded: messages per pass × passes.
    public var messages: Int
    /// Payload bytes decoded: the stream's length × passes.
    public var bytes: Int
    /// Insert messages seen by the decode-only loop.
    public var decodedInserts: Int
    /// Tuple columns seen by the decode-only loop (5 per insert).
    public var decodedColumns: Int
    /// Outbox events produced by the decode + map loop.
    public var mappedEvents: Int
    /// Inserts the stream holds × passes: what `decodedInserts` and `mappedEvents` must both reach.
    public var expectedEvents: Int
    /// Decode only.
    public var decodeSeconds: Double
    /// Decode + map to `OutboxEvent`.
    public var mapSeconds: Double
    /// Why a loop stopped early; nil when every message decoded and mapped.
    public var failure: String?

    /// Decode only.
    public var messagesPerSecond: Double { Self.rate(messages, decodeSeconds) }
    /// Decode only.
    public var bytesPerSecond: Double { Self.rate(bytes, decodeSeconds) }
    /// Decode + map.
    public var mappedEventsPerSecond: Double { Self.rate(mappedEvents, mapSeconds) }

    /// True when both loops ran to the end and accounted for every insert.
    public var isComplete: Bool {
        failure == nil && decodedInserts == expectedEvents && mappedEvents == expectedEvents
    }

    private static func rate(_ count: Int, _ seconds: Double) -> Double {
        seconds > 0 ? Double(count) / seconds : 0
    }
}

/// A pgoutput protocol-1 stream as the walsender would send it for inserts into `public.outbox`: one
/// buffer holding every XLogData payload back to back, and where each one lies.
public struct DecoderBenchmarkInput: Sendable {
    public var buffer: [UInt8]
    /// One range of `buffer` per pgoutput message, in stream order.
    public var messageRanges: [Range<Int>]
    /// Insert messages in the stream.
    public var inserts: Int

    public var messages: Int { messageRanges.count }
}

/// `outbox-cdc bench decoder`: how fast the pure pgoutput decoder runs, alone and with the outbox mapping.
public enum DecoderBenchmark {
    static let table = QualifiedTableName(schema: "public", name: "outbox")
    /// Rows per transaction in the generated stream.
    public static let rowsPerTransaction = 20

    /// Builds a stream of `events` outbox inserts with `payloadBytes`-byte JSON payloads (untimed), then times
    /// `passes` passes of decoding, and `passes` passes of decoding + mapping.
    public static func run(events: Int, payloadBytes: Int, passes: Int = 3) -> DecoderBenchmarkResult {
        run(input: makeInput(events: events, payloadBytes: payloadBytes), passes: passes)
    }

    /// Times `passes` decode-only passes, then `passes` decode + map passes, over a prebuilt stream. Each
    /// pass uses a fresh decoder and mapper, as a new replication connection would.
    public static func run(input: DecoderBenchmarkInput, passes: Int = 3) -> DecoderBenchmarkResult {
        let passes = max(1, passes)
        var result = DecoderBenchmarkResult(
            passes: passes, messages: 0, bytes: 0, decodedInserts: 0, decodedColumns: 0, mappedEvents: 0,
            expectedEvents: input.inserts * passes, decodeSeconds: 0, mapSeconds: 0, failure: nil)
        let clock = ContinuousClock()

        let decodeStart = clock.now
        do {
            for _ in 0..<passes {
                try decodeOnly(input, into: &result)
            }
        } catch {
            result.failure = error.description
        }
        result.decodeSeconds = decodeStart.duration(to: clock.now).seconds
        guard result.failure == nil else { return result }

        let mapStart = clock.now
        do {
            for _ in 0..<passes {
                try decodeAndMap(input, into: &result)
            }
        } catch {
            result.failure = error.description
        }
        result.mapSeconds = mapStart.duration(to: clock.now).seconds
        return result
    }

    /// Why a loop stopped: the message's position in the stream, and the decoder's or the mapper's error.
    enum LoopFailure: Error, CustomStringConvertible {
        case decoding(PgOutputDecodingError, messageIndex: Int)
        case mapping(OutboxMappingError, messageIndex: Int)

        var description: String {
            switch self {
            case .decoding(let error, let index): "message \(index) did not decode: \(error)"
            case .mapping(let error, let index): "message \(index) did not map: \(error)"
            }
        }
    }

    /// Counts are added to `result` as they are made, so they describe the work up to a failure. Every
    /// decoded message feeds a count the caller checks, so none of the decoding can be optimised away.
    private static func decodeOnly(
        _ input: DecoderBenchmarkInput, into result: inout DecoderBenchmarkResult
    ) throws(LoopFailure) {
        var decoder = PgOutputDecoder(protocolVersion: 1)
        for (index, range) in input.messageRanges.enumerated() {
            let message: PgOutputMessage
            do {
                message = try decoder.decode(input.buffer[range])
            } catch {
                throw .decoding(error, messageIndex: index)
            }
            result.messages += 1
            result.bytes += range.count
            if case .insert(let insert) = message {
                result.decodedInserts += 1
                result.decodedColumns += insert.newTuple.columns.count
            }
        }
    }

    private static func decodeAndMap(
        _ input: DecoderBenchmarkInput, into result: inout DecoderBenchmarkResult
    ) throws(LoopFailure) {
        var decoder = PgOutputDecoder(protocolVersion: 1)
        var mapper = OutboxEventMapper(table: table)
        for (index, range) in input.messageRanges.enumerated() {
            let message: PgOutputMessage
            do {
                message = try decoder.decode(input.buffer[range])
            } catch {
                throw .decoding(error, messageIndex: index)
            }
            do {
                switch message {
                case .relation(let relation):
                    try mapper.register(relation)
                case .insert(let insert):
                    if try mapper.event(for: insert) != nil {
                        result.mappedEvents += 1
                    }
                default:
                    break
                }
            } catch {
                throw .mapping(error, messageIndex: index)
            }
        }
    }

    // MARK: - The input stream

    /// The stream, encoded by hand in pgoutput protocol 1 as the decoder reads it: Begin, the Relation of
    /// `public.outbox` (the walsender sends it inside the first transaction that touches the table), then
    /// `rowsPerTransaction` Inserts and a Commit per transaction, until `events` inserts.
    public static func makeInput(events: Int, payloadBytes: Int) -> DecoderBenchmarkInput {
        let events = max(0, events)
        let payloadBytes = max(0, payloadBytes)
        var encoder = PgOutputEncoder()
        // Reserve roughly what the rows need, so building a large stream does not keep reallocating; an
        // estimate that overflows asks for more than memory holds anyway, so it is left to the array to grow.
        let (bytesPerRow, rowOverflow) = payloadBytes.addingReportingOverflow(120)
        let (rowBytes, totalOverflow) = events.multipliedReportingOverflow(by: bytesPerRow)
        if !rowOverflow, !totalOverflow {
            encoder.buffer.reserveCapacity(rowBytes)
            encoder.messageRanges.reserveCapacity(events + events / rowsPerTransaction * 2 + 3)
        }

        var lsn: UInt64 = 0x1_6B37_4800
        // 2024-01-01 00:00:00 UTC, in microseconds since PostgreSQL's epoch (2000-01-01).
        var timestamp: Int64 = 757_382_400_000_000
        var transactionID: UInt32 = 750
        var written = 0
        while written < events {
            let rows = min(rowsPerTransaction, events - written)
            // Commit's LSN lies after the rows' WAL records; the exact spacing does not matter to decoding.
            let commitLSN = lsn + UInt64(rows) * UInt64(payloadBytes + 160)
            encoder.begin(finalLSN: commitLSN, timestamp: timestamp, transactionID: transactionID)
            if written == 0 {
                encoder.outboxRelation(relationID: outboxRelationID)
            }
            for _ in 0..<rows {
                written += 1
                encoder.outboxInsert(
                    relationID: outboxRelationID, id: uuidText(written), aggregateID: "order-\(written)",
                    payload: jsonPayload(event: written, bytes: payloadBytes))
            }
            encoder.commit(commitLSN: commitLSN, endLSN: commitLSN + 0x30, timestamp: timestamp)
            lsn = commitLSN + 0x30
            timestamp += 1_000
            transactionID += 1
        }
        return DecoderBenchmarkInput(buffer: encoder.buffer, messageRanges: encoder.messageRanges, inserts: written)
    }

    static let outboxRelationID: UInt32 = 16_385

    /// A version-4 UUID in its text form, derived from `event` so the stream is the same on every run.
    static func uuidText(_ event: Int) -> String {
        var state = UInt64(truncatingIfNeeded: event)
        let high = splitMix64(&state) & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_4000
        let low = splitMix64(&state) & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        let hex = hexDigits(high, count: 16) + hexDigits(low, count: 16)
        let groups = [8, 4, 4, 4, 12]
        var text = ""
        var position = hex.startIndex
        for (index, length) in groups.enumerated() {
            let end = hex.index(position, offsetBy: length)
            if index > 0 { text += "-" }
            text += hex[position..<end]
            position = end
        }
        return text
    }

    private static func splitMix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    private static func hexDigits(_ value: UInt64, count: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, count - digits.count)) + digits
    }

    /// A JSON object of exactly `bytes` UTF-8 bytes, in jsonb's output style (keys shortest first, ": "
    /// and ", "). Below the smallest object that fits, whitespace-padded `{}` (or "0", or nothing) keeps
    /// the length exact.
    static func jsonPayload(event: Int, bytes: Int) -> [UInt8] {
        let prefix = Array("{\"order\": \"order-\(event)\", \"padding\": \"".utf8)
        let suffix = Array("\"}".utf8)
        let fixed = prefix.count + suffix.count
        if bytes >= fixed {
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz".utf8)
            var json = prefix
            json.reserveCapacity(bytes)
            for index in 0..<(bytes - fixed) {
                json.append(alphabet[index % alphabet.count])
            }
            return json + suffix
        }
        switch bytes {
        case 0: return []
        case 1: return Array("0".utf8)
        default: return Array("{}".utf8) + Array(repeating: UInt8(ascii: " "), count: bytes - 2)
        }
    }
}
