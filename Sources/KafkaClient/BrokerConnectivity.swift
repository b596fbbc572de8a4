/// Turns librdkafka's per-attempt connection failures into state changes worth a log line. librdkafka
/// reports every failed attempt twice (a `FAIL` log line and a `_TRANSPORT` error), several times a second
/// while a broker refuses connections; an operator needs to hear once that a broker is down, now and then
/// that it still is, and once that it is back.
///
/// A value type with no clock or I/O of its own: the callback context holds it under a lock and logs what
/// it returns.
struct BrokerConnectivity: Sendable {
    /// Slow enough that a long outage writes few lines.
    static let defaultReminderInterval = Duration.seconds(30)

    enum Change: Equatable, Sendable {
        /// The first failure since the broker was last known up.
        case wentDown(broker: String, reason: String)
        /// Failures go on; `attempts` failed since it went down.
        case stillDown(broker: String, reason: String, downFor: Duration, attempts: Int)
        /// The broker is up again after `downFor` and `attempts` failed attempts.
        case cameBack(broker: String, downFor: Duration, attempts: Int)
    }

    private struct Outage {
        var since: ContinuousClock.Instant
        var lastReport: ContinuousClock.Instant
        var attempts: Int
    }

    let reminderInterval: Duration
    /// Brokers with a failure not yet followed by an up state, by librdkafka's broker name.
    private var outages: [String: Outage] = [:]

    init(reminderInterval: Duration = defaultReminderInterval) {
        self.reminderInterval = reminderInterval
    }

    var downBrokers: [String] { outages.keys.sorted() }

    /// A failed connection attempt (or a lost connection) to `broker`. Returns a change to log, or nil when
    /// this failure only repeats what was said (the caller logs it at debug level).
    mutating func failed(broker: String, reason: String, at now: ContinuousClock.Instant) -> Change? {
        guard var outage = outages[broker] else {
            outages[broker] = Outage(since: now, lastReport: now, attempts: 1)
            return .wentDown(broker: broker, reason: reason)
        }
        outage.attempts += 1
        defer { outages[broker] = outage }
        guard outage.lastReport.duration(to: now) >= reminderInterval else { return nil }
        outage.lastReport = now
        return .stillDown(broker: broker, reason: reason, downFor: outage.since.duration(to: now), attempts: outage.attempts)
    }

    /// The brokers librdkafka knows now (`known`) and those of them that are up. An outage ends when its
    /// broker is up, or when it is gone while another is up: librdkafka drops a bootstrap broker once it has
    /// learnt the cluster's own brokers from it, and a failure that named no broker is over once any answers.
    /// Returns the outages that ended.
    mutating func brokersReported(up: Set<String>, known: Set<String>, at now: ContinuousClock.Instant) -> [Change] {
        guard !up.isEmpty else { return [] }
        var changes: [Change] = []
        for (broker, outage) in outages.sorted(by: { $0.key < $1.key }) where up.contains(broker) || !known.contains(broker) {
            outages[broker] = nil
            changes.append(.cameBack(broker: broker, downFor: outage.since.duration(to: now), attempts: outage.attempts))
        }
        return changes
    }

    /// A librdkafka log text without the `[thrd:…]: ` it begins with (the broker's name follows it anyway).
    static func withoutThreadName(_ text: String) -> String {
        guard text.hasPrefix("[thrd:"), let end = text.range(of: "]: ") else { return text }
        return String(text[end.upperBound...])
    }

    /// librdkafka's broker name at the start of a failure text ("host:port/id: Connect to … failed: …");
    /// nil when the text names none.
    static func brokerName(in text: String) -> String? {
        let text = withoutThreadName(text)
        guard let separator = text.range(of: ": ") else { return nil }
        let name = text[..<separator.lowerBound]
        // A broker name is host:port/id, with no spaces.
        guard name.contains("/"), !name.contains(" ") else { return nil }
        return String(name)
    }
}
