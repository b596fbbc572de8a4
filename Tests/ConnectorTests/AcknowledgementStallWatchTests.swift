import Connector
import Testing

@Suite("AcknowledgementStallWatch")
struct AcknowledgementStallWatchTests {
    let start = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int64(seconds * 1000)) }

    @Test func nothingWhileAcknowledgementsKeepComingOrNothingWaits() {
        var watch = AcknowledgementStallWatch()
        #expect(watch.check(now: at(4.9), eventsWaiting: 10, lastProgress: at(0)) == nil, "under the threshold")
        #expect(watch.check(now: at(60), eventsWaiting: 0, lastProgress: at(0)) == nil, "idle for long is no stall")
        #expect(!watch.isStalled)
    }

    @Test func aStallIsReportedOnceThenAtTheReminderPaceThenItsEnd() {
        var watch = AcknowledgementStallWatch(threshold: .seconds(5), reminderInterval: .seconds(30))
        let lastAck = at(0)
        #expect(watch.check(now: at(5), eventsWaiting: 3, lastProgress: lastAck) == .began(since: .seconds(5)))
        #expect(watch.isStalled)
        #expect(watch.check(now: at(6), eventsWaiting: 4, lastProgress: lastAck) == nil)
        #expect(watch.check(now: at(34.9), eventsWaiting: 4, lastProgress: lastAck) == nil, "the reminder waits 30 s")
        #expect(watch.check(now: at(35), eventsWaiting: 4, lastProgress: lastAck) == .continues(since: .seconds(35)))
        #expect(watch.check(now: at(64), eventsWaiting: 4, lastProgress: lastAck) == nil)
        #expect(watch.check(now: at(65), eventsWaiting: 4, lastProgress: lastAck) == .continues(since: .seconds(65)))
        // Acknowledgements resume at 70 s, some events still waiting: the stall lasted from the last
        // acknowledgement before it to the first after it.
        #expect(watch.check(now: at(70.2), eventsWaiting: 1, lastProgress: at(70)) == .ended(lasted: .seconds(70)))
        #expect(!watch.isStalled)
        #expect(watch.check(now: at(71), eventsWaiting: 0, lastProgress: at(70.5)) == nil, "ended once")
    }

    @Test func everythingAcknowledgedEndsTheStall() {
        var watch = AcknowledgementStallWatch()
        #expect(watch.check(now: at(8), eventsWaiting: 2, lastProgress: at(1)) == .began(since: .seconds(7)))
        #expect(watch.check(now: at(12.5), eventsWaiting: 0, lastProgress: at(12)) == .ended(lasted: .seconds(11)))
    }

    @Test func aNewStallAfterAnEndIsReportedAgain() {
        var watch = AcknowledgementStallWatch()
        _ = watch.check(now: at(6), eventsWaiting: 1, lastProgress: at(0))
        _ = watch.check(now: at(7), eventsWaiting: 0, lastProgress: at(6.5))
        #expect(watch.check(now: at(20), eventsWaiting: 1, lastProgress: at(10)) == .began(since: .seconds(10)))
    }

    @Test func waitingThatEndsWithoutAnyAcknowledgementEndsNow() {
        var watch = AcknowledgementStallWatch()
        _ = watch.check(now: at(6), eventsWaiting: 1, lastProgress: at(0))
        // What waited was abandoned (a rewind): no acknowledgement came, so the stall ends at the check.
        #expect(watch.check(now: at(9), eventsWaiting: 0, lastProgress: at(0)) == .ended(lasted: .seconds(9)))
    }
}
