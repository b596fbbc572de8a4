/// Decides when a stall of Kafka's acknowledgements is worth a log line: events wait and none has been
/// acknowledged for `threshold`. It says so once when the stall begins, again every `reminderInterval`
/// while it lasts, and once when acknowledgements resume. A broker that freezes (a paused process, a
/// partitioned network) closes no connection, so librdkafka logs nothing; without this an outage is silent.
///
/// A value type with no clock of its own: the reading thread checks it at each status update.
public struct AcknowledgementStallWatch: Sendable {
    /// Short enough that an operator tailing the log sees a stall quickly, long enough that a broker's
    /// ordinary hiccup (a leader election, a slow fsync) is not reported.
    public static let defaultThreshold = Duration.seconds(5)
    /// Slow enough that a long outage writes few lines.
    public static let defaultReminderInterval = Duration.seconds(30)

    /// What the caller should log.
    public enum Report: Equatable, Sendable {
        /// Acknowledgements stopped `since` ago while events wait.
        case began(since: Duration)
        /// The stall goes on; `since` is the time from the last acknowledgement (or from when events began to wait).
        case continues(since: Duration)
        /// Acknowledgements resumed, or nothing waits any more, after a stall of `lasted`.
        case ended(lasted: Duration)
    }

    public let threshold: Duration
    public let reminderInterval: Duration
    /// The last progress before the stall (the start of its silence); nil while there is none.
    private var stalledSince: ContinuousClock.Instant?
    private var lastReport: ContinuousClock.Instant?

    public init(threshold: Duration = defaultThreshold, reminderInterval: Duration = defaultReminderInterval) {
        self.threshold = threshold
        self.reminderInterval = reminderInterval
    }

    /// Whether a stall is being reported now.
    public var isStalled: Bool { stalledSince != nil }

    /// - Parameters:
    ///   - eventsWaiting: events handed to Kafka and not acknowledged.
    ///   - lastProgress: the last acknowledgement, or when events began to wait after none did.
    public mutating func check(now: ContinuousClock.Instant, eventsWaiting: Int, lastProgress: ContinuousClock.Instant) -> Report? {
        let silence = lastProgress.duration(to: now)
        guard eventsWaiting > 0, silence >= threshold else {
            guard let since = stalledSince else { return nil }
            stalledSince = nil
            lastReport = nil
            // The stall ended at the first acknowledgement after it, which the last one approximates within a
            // status interval; when none came (what waited was abandoned), it ends now.
            return .ended(lasted: since.duration(to: lastProgress > since ? lastProgress : now))
        }
        guard stalledSince != nil, let lastReport else {
            stalledSince = lastProgress
            lastReport = now
            return .began(since: silence)
        }
        guard lastReport.duration(to: now) >= reminderInterval else { return nil }
        self.lastReport = now
        return .continues(since: silence)
    }
}
