import Connector
import PostgresLSN
import TestSupport
import Testing

/// Random interleavings of Begin, produce, Commit, acknowledgement, keepalive and reconnect, checked
/// after every step against a reference model and the safety invariant of the slot:
///
///   confirmed < end of the first transaction that still has an unacknowledged event or no commit yet
///
/// (for an uncommitted one, whose end is not known yet: confirmed <= every position the server has
/// reported so far, all of which lie before that end).
@Suite("CheckpointTracker properties")
struct CheckpointTrackerPropertyTests {
    @Test func splitMix64MatchesTheReferenceOutput() {
        var random = SplitMix64(seed: 0)
        #expect(random.next() == 0xE220_A839_7B1D_CDAF)
        #expect(random.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(random.next() == 0x06C4_5D18_8009_454F)
    }

    struct ModelTransaction {
        let ticket: CheckpointTracker.Ticket
        var end: UInt64?
        var outstanding = 0
        var abandoned = false
        /// Nothing about it can hold the watermark back any more.
        var finished: Bool { abandoned || (end != nil && outstanding == 0) }
    }

    enum Action: CaseIterable {
        case begin, produce, commit, ack, keepalive, reconnect
    }

    /// How often each action is drawn. `burstyAcks` alternates long stretches without acknowledgements
    /// (thousands of transactions pending, which exercises the partial compaction) with floods of them.
    struct Profile: Sendable, CustomTestStringConvertible {
        var seed: UInt64
        var steps: Int
        var burstyAcks: Bool
        var testDescription: String { "seed \(seed), \(steps) steps\(burstyAcks ? ", bursty acks" : "")" }
    }

    static let profiles: [Profile] = [
        Profile(seed: 1, steps: 5_000, burstyAcks: false),
        Profile(seed: 2, steps: 5_000, burstyAcks: false),
        Profile(seed: 3, steps: 5_000, burstyAcks: false),
        Profile(seed: 0x5EED, steps: 5_000, burstyAcks: false),
        Profile(seed: 0xC0FF_EE00, steps: 5_000, burstyAcks: false),
        Profile(seed: 11, steps: 30_000, burstyAcks: true),
        Profile(seed: 12, steps: 30_000, burstyAcks: true),
    ]

    @Test(arguments: profiles)
    func randomInterleavingsNeverConfirmPastAnUnacknowledgedEvent(profile: Profile) throws {
        var random = SplitMix64(seed: profile.seed)
        let initial: UInt64 = 1_000
        var tracker = CheckpointTracker(confirmed: LSN(initial))

        var transactions: [ModelTransaction] = []
        /// Transactions before this index are finished, and so is everything in front of them.
        var retired = 0
        var open: Int?
        /// Events handed to "Kafka" and not yet acknowledged, by transaction index; includes the events
        /// of abandoned transactions, whose acknowledgements still arrive.
        var inFlight: [Int] = []
        /// The server's position: every later commit ends after it.
        var server: UInt64 = initial
        var expectedConfirmed = initial
        var lastEnd: UInt64?
        var counts: [Action: Int] = [:]
        var maxPending = 0

        func weight(_ action: Action, step: Int) -> Double {
            switch action {
            case .begin: open == nil ? 3 : 0.2
            case .produce: open == nil ? 0 : 5
            case .commit: open == nil ? 0 : 3
            case .ack: inFlight.isEmpty ? 0 : (profile.burstyAcks ? ((step / 6_000) % 2 == 0 ? 0 : 40) : 6)
            case .keepalive: 1
            case .reconnect: 0.2
            }
        }

        /// Removes and returns a random in-flight event: acknowledgements come in any order.
        func takeRandomInFlight() -> Int {
            inFlight.swapAt(Int.random(in: 0..<inFlight.count, using: &random), inFlight.count - 1)
            return inFlight.removeLast()
        }

        /// Retires finished transactions from the front, as a restart from the slot would see them.
        func retire() {
            while retired < transactions.count, transactions[retired].finished {
                if !transactions[retired].abandoned, let end = transactions[retired].end {
                    expectedConfirmed = max(expectedConfirmed, end)
                }
                retired += 1
            }
        }

        func checkInvariants(step: Int, previous: LSN) {
            let confirmed = tracker.confirmed
            #expect(confirmed >= previous, "step \(step): the watermark went back")
            #expect(confirmed == LSN(expectedConfirmed), "step \(step)")
            if retired < transactions.count {
                // The first unfinished transaction is never an abandoned one (those are finished).
                let blocking = transactions[retired]
                if let end = blocking.end {
                    #expect(confirmed < LSN(end), "step \(step): confirmed past ticket \(blocking.ticket), which has \(blocking.outstanding) unacknowledged event(s)")
                } else {
                    #expect(confirmed <= LSN(server), "step \(step): confirmed past the open ticket \(blocking.ticket)")
                }
            }
            #expect(tracker.isIdle == (retired == transactions.count), "step \(step)")
            if step % 16 == 0 || transactions.count - retired < 256 {
                let outstanding = transactions[retired...].reduce(0) { $0 + $1.outstanding }
                #expect(tracker.eventsInFlight == outstanding, "step \(step)")
            }
        }

        for step in 0..<profile.steps {
            let before = tracker.confirmed
            let weights = Action.allCases.map { weight($0, step: step) }
            var pick = Double.random(in: 0..<weights.reduce(0, +), using: &random)
            var action = Action.keepalive
            for (candidate, candidateWeight) in zip(Action.allCases, weights) {
                if pick < candidateWeight { action = candidate; break }
                pick -= candidateWeight
            }
            counts[action, default: 0] += 1

            switch action {
            case .begin:
                // A Begin while open abandons the open transaction.
                if let open { transactions[open].abandoned = true }
                let ticket = tracker.beginTransaction()
                if let previous = transactions.last { #expect(ticket > previous.ticket, "step \(step): ticket reused or out of order") }
                transactions.append(ModelTransaction(ticket: ticket))
                open = transactions.count - 1
                retire()
            case .produce:
                let index = try #require(open)
                tracker.eventProduced(in: transactions[index].ticket)
                transactions[index].outstanding += 1
                inFlight.append(index)
            case .commit:
                let index = try #require(open)
                server += UInt64.random(in: 1...500, using: &random)
                transactions[index].end = server
                lastEnd = server
                open = nil
                let moved = tracker.commitTransaction(transactions[index].ticket, endLSN: LSN(server))
                retire()
                #expect(moved == (tracker.confirmed > before ? tracker.confirmed : nil), "step \(step)")
            case .ack:
                let index = takeRandomInFlight()
                if index >= retired, transactions[index].outstanding > 0 {
                    transactions[index].outstanding -= 1
                }
                let moved = tracker.eventAcknowledged(in: transactions[index].ticket)
                retire()
                #expect(moved == (tracker.confirmed > before ? tracker.confirmed : nil), "step \(step)")
            case .keepalive:
                let walEnd: UInt64
                if UInt64.random(in: 0..<5, using: &random) == 0 {
                    walEnd = UInt64.random(in: 0...server, using: &random) // stale or repeated
                } else {
                    server += UInt64.random(in: 0...200, using: &random)
                    walEnd = server
                }
                let idle = retired == transactions.count
                let moved = tracker.serverSent(upTo: LSN(walEnd))
                if idle, walEnd > expectedConfirmed {
                    expectedConfirmed = walEnd
                    #expect(moved == LSN(walEnd), "step \(step)")
                } else {
                    #expect(moved == nil, "step \(step): keepalive moved the watermark while busy or backwards")
                }
            case .reconnect:
                if let open { transactions[open].abandoned = true }
                open = nil
                tracker.abandonOpenTransaction()
                retire()
            }
            maxPending = max(maxPending, transactions.count - retired)
            checkInvariants(step: step, previous: before)
        }

        // Drain: commit what is open, acknowledge everything (late acks of abandoned ones included).
        if let index = open {
            server += 1
            transactions[index].end = server
            lastEnd = server
            _ = tracker.commitTransaction(transactions[index].ticket, endLSN: LSN(server))
        }
        while !inFlight.isEmpty {
            let before = tracker.confirmed
            let index = takeRandomInFlight()
            if index >= retired, transactions[index].outstanding > 0 { transactions[index].outstanding -= 1 }
            _ = tracker.eventAcknowledged(in: transactions[index].ticket)
            retire()
            checkInvariants(step: profile.steps, previous: before)
        }
        retire()
        #expect(tracker.isIdle)
        #expect(tracker.eventsInFlight == 0)
        let last = try #require(lastEnd)
        // Only a keepalive after the last commit can have taken the watermark further.
        #expect(tracker.confirmed >= LSN(last))
        #expect(tracker.confirmed == LSN(expectedConfirmed))

        // A final transaction past every keepalive: the watermark is exactly its end.
        let final = tracker.beginTransaction()
        tracker.eventProduced(in: final)
        _ = tracker.commitTransaction(final, endLSN: LSN(server + 1))
        #expect(tracker.confirmed < LSN(server + 1))
        #expect(tracker.eventAcknowledged(in: final) == LSN(server + 1))
        #expect(tracker.confirmed == LSN(server + 1))
        #expect(tracker.isIdle && tracker.eventsInFlight == 0)

        // The run must have exercised every action, and long queues in the bursty profiles.
        for action in Action.allCases {
            #expect(counts[action, default: 0] > 0, "\(action) never drawn")
        }
        if profile.burstyAcks {
            #expect(maxPending > 1_100, "the bursty profile should pile up more than 1,024 transactions")
        }
    }
}
