@testable import Connector
@testable import KafkaClient
import PostgresLSN
import Testing
import WALReader

@Suite("DeliveryInbox")
struct DeliveryInboxTests {
    private func ticket(_ tracker: inout CheckpointTracker) -> CheckpointTracker.Ticket {
        tracker.beginTransaction()
    }

    @Test("An acknowledgement wakes the reading thread only when it asked, and only once")
    func acknowledgementWakesOnlyWhenAsked() {
        let wakeup = Wakeup()
        let inbox = DeliveryInbox(wakeup: wakeup)
        var tracker = CheckpointTracker(confirmed: LSN(0x1000))
        let first = ticket(&tracker)

        // Not asked (a confirmation waits for the spacing, with a timer of its own): no wake-up.
        #expect(inbox.wakeOnAcknowledgement(false))
        inbox.post(.acknowledged(first, at: 1, sinceProduce: 1))
        #expect(!wakeup.wait(timeout: .zero))
        #expect(inbox.takeAll().count == 1)

        // Asked: the first acknowledgement wakes, the next ones do not.
        #expect(inbox.wakeOnAcknowledgement(true))
        inbox.post(.acknowledged(first, at: 2, sinceProduce: 1))
        #expect(wakeup.wait(timeout: .zero))
        inbox.post(.acknowledged(first, at: 3, sinceProduce: 1))
        #expect(!wakeup.wait(timeout: .zero))
        #expect(inbox.takeAll().count == 2)
    }

    @Test("Outcomes already waiting are taken before any wait, and asking then wants no wake-up")
    func outcomesWaitingAreTakenFirst() {
        let wakeup = Wakeup()
        let inbox = DeliveryInbox(wakeup: wakeup)
        var tracker = CheckpointTracker(confirmed: LSN(0x1000))
        inbox.post(.acknowledged(ticket(&tracker), at: 1, sinceProduce: 1))
        #expect(!inbox.wakeOnAcknowledgement(true), "something to take: do not wait")
        inbox.post(.acknowledged(ticket(&tracker), at: 2, sinceProduce: 1))
        #expect(!wakeup.wait(timeout: .zero), "the wish was not recorded while outcomes waited")
        #expect(inbox.takeAll().count == 2)
    }

    @Test("A failure wakes the reading thread whether or not it asked, once per batch")
    func failureAlwaysWakes() {
        let wakeup = Wakeup()
        let inbox = DeliveryInbox(wakeup: wakeup)
        var tracker = CheckpointTracker(confirmed: LSN(0x1000))
        let refused = KafkaError(code: 10, message: "too large")
        #expect(inbox.wakeOnAcknowledgement(false))
        inbox.post(.failed(ticket(&tracker), topic: "t", eventID: "1", error: refused, undelivered: nil))
        #expect(wakeup.wait(timeout: .zero))
        inbox.post(.failed(ticket(&tracker), topic: "t", eventID: "2", error: refused, undelivered: nil))
        #expect(!wakeup.wait(timeout: .zero), "the first failure of the batch woke it already")
        #expect(inbox.takeAll().count == 2)
    }

    @Test("A heartbeat record's report never wakes the reading thread, and a failure after it still does")
    func heartbeatReportsDoNotWake() {
        let wakeup = Wakeup()
        let inbox = DeliveryInbox(wakeup: wakeup)
        var tracker = CheckpointTracker(confirmed: LSN(0x1000))
        #expect(inbox.wakeOnAcknowledgement(true))
        inbox.post(.heartbeatReported(nil))
        inbox.post(.heartbeatReported(KafkaError(code: 10, message: "too large")))
        #expect(!wakeup.wait(timeout: .zero))
        inbox.post(.failed(ticket(&tracker), topic: "t", eventID: "1", error: KafkaError(code: 10, message: "too large"), undelivered: nil))
        #expect(wakeup.wait(timeout: .zero), "the first failure of the batch wakes the reader")
        #expect(inbox.takeAll().count == 3)
    }
}
