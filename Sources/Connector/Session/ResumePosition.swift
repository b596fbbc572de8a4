import PostgresLSN

/// Where a session starts streaming, decided from what the run knows and what the server says. Pure: the
/// driver asks the server, this decides, and the log says why.
///
/// - The first session starts at the slot's position (or past it, when the hand-over of pending rows
///   confirmed further).
/// - A reconnect to the same server history (same system identifier and timeline, its WAL reaching the
///   position) resumes at the end of the last transaction handed to Kafka in full, when that is past the
///   slot: what Kafka acknowledged since the slot was last confirmed (after a crash-restart, the slot's
///   position is that of the last checkpoint), and what is still in flight, is not published again. A
///   transaction cut short by the break is continued (`InterruptedTransaction`).
/// - After a change of timeline (a failover) the fork rule decides: the new primary's history may have
///   forked before what this run confirmed, and then streaming goes back to the fork. Nothing in flight may
///   confirm anything then: it was read from the old primary.
/// - Another database cluster (a different system identifier): back to the slot's own position.
struct ResumePosition: Equatable {
    enum Reason: Equatable {
        case firstSession
        /// Same history: `aheadOfSlot` bytes past the slot's position (0 when not ahead).
        case sameHistory(aheadOfSlot: UInt64)
        /// Same system and timeline, but the server's WAL ends before what this run handed to Kafka.
        case serverWALBehind(serverWAL: LSN, handedOver: LSN)
        /// A new timeline; `rewoundFrom` is set when its history forked before the confirmed position.
        case newTimeline(previous: Int, switchPoint: LSN?, rewoundFrom: LSN?)
        case otherSystem(previous: String)
    }

    var start: LSN
    var reason: Reason

    /// The timeline whose switch point the decision needs (the previous one, when the server is on another
    /// of the same system); nil when it needs none.
    static func timelineToLookUp(previous: ServerHistory?, current: ServerHistory) -> Int? {
        guard let previous, previous.systemIdentifier == current.systemIdentifier, previous.timeline != current.timeline else { return nil }
        return previous.timeline
    }

    /// Decides, and adjusts `progress` to it: the checkpoint tracker goes back when streaming must repeat
    /// what it had read, and a cut-short transaction is kept only on the same history.
    static func decide(
        progress: inout ConnectorProgress, server: ServerHistory, serverWAL: LSN, slotConfirmed: LSN, switchPoint: LSN?
    ) -> ResumePosition {
        defer { progress.history = server }
        guard let previous = progress.history else {
            return ResumePosition(start: max(progress.tracker.committedThrough, slotConfirmed), reason: .firstSession)
        }
        guard previous.systemIdentifier == server.systemIdentifier else {
            progress.interrupted = nil
            progress.tracker.rewind(to: slotConfirmed)
            return ResumePosition(start: slotConfirmed, reason: .otherSystem(previous: previous.systemIdentifier))
        }
        guard previous.timeline == server.timeline else {
            progress.interrupted = nil
            let confirmed = progress.tracker.confirmed
            // Without the history, only the slot's own position is known to be on the new timeline.
            let safe = max(min(confirmed, switchPoint ?? slotConfirmed), slotConfirmed)
            progress.tracker.rewind(to: safe)
            return ResumePosition(
                start: safe, reason: .newTimeline(previous: previous.timeline, switchPoint: switchPoint, rewoundFrom: confirmed > safe ? confirmed : nil)
            )
        }
        let handedOver = progress.tracker.committedThrough
        guard serverWAL >= handedOver else {
            progress.interrupted = nil
            progress.tracker.rewind(to: slotConfirmed)
            return ResumePosition(start: slotConfirmed, reason: .serverWALBehind(serverWAL: serverWAL, handedOver: handedOver))
        }
        let start = max(handedOver, slotConfirmed)
        return ResumePosition(start: start, reason: .sameHistory(aheadOfSlot: start.rawValue - slotConfirmed.rawValue))
    }
}
