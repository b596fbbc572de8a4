/// Where the connector is in its life, for whoever watches it (`OutboxConnector.lifecycle`).
public enum ConnectorLifecycle: String, Sendable, Equatable {
    /// Connecting, checking, handing over pending rows, reconnecting after a break, or standing by for a slot
    /// another instance holds.
    case starting
    /// A replication session streams from the slot.
    case streaming
    /// `stop()` was called (or the task cancelled): the transaction being read is finished, Kafka has its
    /// bounded time, and the acknowledged position is confirmed.
    case stopping
    /// `run()` returned after an orderly stop.
    case stopped
    /// `run()` ended with an error.
    case failed
}
