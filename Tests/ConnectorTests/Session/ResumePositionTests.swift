@testable import Connector
import PostgresLSN
import Testing

/// Where a session resumes: past the slot on the same server history, by the fork rule after a failover.
@Suite("ResumePosition")
struct ResumePositionTests {
    private let server = ServerHistory(systemIdentifier: "7412", timeline: 1)

    /// A run that read two transactions (ends 0x2000 and 0x3000), Kafka having acknowledged the first only,
    /// and then a third whose reading broke.
    private func progressAfterABreak() -> ConnectorProgress {
        var progress = ConnectorProgress()
        progress.history = server
        let first = progress.tracker.beginTransaction()
        progress.tracker.eventProduced(in: first)
        _ = progress.tracker.commitTransaction(first, endLSN: LSN(0x2000))
        let second = progress.tracker.beginTransaction()
        progress.tracker.eventProduced(in: second)
        _ = progress.tracker.commitTransaction(second, endLSN: LSN(0x3000))
        _ = progress.tracker.eventAcknowledged(in: first)
        let third = progress.tracker.beginTransaction()
        progress.tracker.eventProduced(in: third)
        progress.interrupted = InterruptedTransaction(ticket: third, transactionID: 9, commitLSN: LSN(0x4000), changesHandled: 1, lastChangePosition: LSN(0x3800))
        return progress
    }

    @Test("The first session starts at the slot's position")
    func firstSession() {
        var progress = ConnectorProgress()
        let resume = ResumePosition.decide(progress: &progress, server: server, serverWAL: LSN(0x9000), slotConfirmed: LSN(0x1000), switchPoint: nil)
        #expect(resume == ResumePosition(start: LSN(0x1000), reason: .firstSession))
        #expect(progress.history == server)
    }

    @Test("Same system and timeline: resume at the end of the last transaction handed to Kafka, past the slot; the cut-short one is kept")
    func sameHistoryResumesPastTheSlot() {
        var progress = progressAfterABreak()
        let resume = ResumePosition.decide(progress: &progress, server: server, serverWAL: LSN(0x9000), slotConfirmed: LSN(0x1000), switchPoint: nil)
        #expect(resume == ResumePosition(start: LSN(0x3000), reason: .sameHistory(aheadOfSlot: 0x2000)))
        #expect(progress.tracker.confirmed == LSN(0x2000), "what is confirmed does not move: the second transaction still waits for Kafka")
        #expect(progress.interrupted != nil)
        #expect(progress.tracker.eventsInFlight == 2, "the in-flight events still count")
    }

    @Test("Same history but the server's WAL ends before what was read: back to the slot, nothing in flight counts")
    func serverWALBehind() {
        var progress = progressAfterABreak()
        let resume = ResumePosition.decide(progress: &progress, server: server, serverWAL: LSN(0x2800), slotConfirmed: LSN(0x1000), switchPoint: nil)
        #expect(resume.start == LSN(0x1000))
        #expect(progress.interrupted == nil && progress.tracker.eventsInFlight == 0)
    }

    @Test("A new timeline whose history includes the confirmed position: the fork rule resumes at the confirmed position, not past it")
    func newTimelineUsesTheForkRuleNotTheShortcut() {
        var progress = progressAfterABreak()
        let promoted = ServerHistory(systemIdentifier: "7412", timeline: 2)
        #expect(ResumePosition.timelineToLookUp(previous: progress.history, current: promoted) == 1)
        let resume = ResumePosition.decide(progress: &progress, server: promoted, serverWAL: LSN(0x9000), slotConfirmed: LSN(0x1000), switchPoint: LSN(0x5000))
        #expect(resume == ResumePosition(start: LSN(0x2000), reason: .newTimeline(previous: 1, switchPoint: LSN(0x5000), rewoundFrom: nil)))
        #expect(progress.interrupted == nil, "read from the old primary: not continued")
        #expect(progress.tracker.eventsInFlight == 0 && progress.tracker.committedThrough == LSN(0x2000), "what the old primary sent confirms nothing any more")
    }

    @Test("A new timeline that forked before the confirmed position: streaming goes back to the fork")
    func newTimelineForkedBeforeTheConfirmedPosition() {
        var progress = progressAfterABreak()
        let promoted = ServerHistory(systemIdentifier: "7412", timeline: 2)
        let resume = ResumePosition.decide(progress: &progress, server: promoted, serverWAL: LSN(0x9000), slotConfirmed: LSN(0x1000), switchPoint: LSN(0x1800))
        #expect(resume == ResumePosition(start: LSN(0x1800), reason: .newTimeline(previous: 1, switchPoint: LSN(0x1800), rewoundFrom: LSN(0x2000))))
        #expect(progress.tracker.confirmed == LSN(0x1800))
    }

    @Test("Another database cluster: back to the slot's own position")
    func otherSystem() {
        var progress = progressAfterABreak()
        let other = ServerHistory(systemIdentifier: "9999", timeline: 1)
        #expect(ResumePosition.timelineToLookUp(previous: progress.history, current: other) == nil)
        let resume = ResumePosition.decide(progress: &progress, server: other, serverWAL: LSN(0x9000), slotConfirmed: LSN(0x1000), switchPoint: nil)
        #expect(resume == ResumePosition(start: LSN(0x1000), reason: .otherSystem(previous: "7412")))
        #expect(progress.interrupted == nil && progress.tracker.eventsInFlight == 0)
    }
}
