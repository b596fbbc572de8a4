/// Per-event timings, for whoever measures them (the executable logs their distributions at stop). Both
/// closures get the event's commit time on PostgreSQL and the moment in question, Unix microseconds; they
/// run once per event, so they must be cheap.
public struct EventTimingObserver: Sendable {
    /// On the reading thread, when librdkafka has taken the event.
    public var produced: @Sendable (_ commitTime: Int64, _ producedTime: Int64) -> Void
    /// On the reading thread, when it takes in Kafka's acknowledgement; the time is when the report arrived.
    public var acknowledged: @Sendable (_ commitTime: Int64, _ acknowledgedTime: Int64) -> Void

    public init(
        produced: @escaping @Sendable (Int64, Int64) -> Void,
        acknowledged: @escaping @Sendable (Int64, Int64) -> Void
    ) {
        self.produced = produced
        self.acknowledged = acknowledged
    }
}
