/// Per-event timings, for whoever measures them (the executable logs their distributions at stop). The
/// closures run once per event, so they must be cheap.
public struct EventTimingObserver: Sendable {
    /// On the reading thread, when librdkafka has taken the event.
    public var produced: @Sendable (ProduceTiming) -> Void
    /// On the reading thread, when it takes in Kafka's acknowledgement.
    public var acknowledged: @Sendable (AcknowledgementTiming) -> Void
    /// On the reading thread, when a status update has told the server of a position an acknowledgement
    /// completed: the microseconds since that acknowledgement reached outbox-cdc.
    public var confirmed: @Sendable (Int64) -> Void

    public init(
        produced: @escaping @Sendable (ProduceTiming) -> Void, acknowledged: @escaping @Sendable (AcknowledgementTiming) -> Void,
        confirmed: @escaping @Sendable (Int64) -> Void = { _ in }
    ) {
        self.produced = produced
        self.acknowledged = acknowledged
        self.confirmed = confirmed
    }
}

/// The moments an event passed on its way to librdkafka, Unix microseconds: its transaction's commit on
/// PostgreSQL, the walsender's send of the message it came in (by the server's clock), the reading thread's
/// read of that message (0 for both when it came from no replication stream), and librdkafka taking it.
/// Their differences split commit-to-produce into the server's share and outbox-cdc's.
public struct ProduceTiming: Sendable {
    public var commitTime: Int64
    public var walSentTime: Int64
    public var readTime: Int64
    public var producedTime: Int64
}

/// An acknowledged event's commit on PostgreSQL and the moment its delivery report arrived (Unix
/// microseconds), and the microseconds from librdkafka taking it to that report, as librdkafka measures them
/// (its queue, the broker's round trip, the poll thread's wake-up): the part of commit-to-acknowledgement
/// that is not outbox-cdc's.
public struct AcknowledgementTiming: Sendable {
    public var commitTime: Int64
    public var acknowledgedAt: Int64
    public var sinceProduce: Int64
}
