import DebeziumFormat
import Testing
import TestSupport

/// `route.topic.regex`, `route.topic.replacement` and `route.tombstone.on.empty.payload` against the records
/// Debezium 3.6.3 published (goldens `routing`, `tombstone-text`).
@Suite("Topic routing and tombstones, as captured")
struct TopicRoutingGoldenTests {
    /// routing/setup.sql: the standard columns plus `tenant varchar(64)` (the key, `table.field.event.key`).
    static let routingTable = OutboxTable.standard(extra: [("tenant", .varchar, true)])

    /// routing/rows.sql, in commit order (jsonb payloads as PostgreSQL prints them; these are unchanged).
    static func routingRows() throws -> [[String: ConnectValue]] {
        let table = routingTable
        return [
            try table.row("00000000-0000-4000-8000-000000000001", "Order", "order-1", "OrderCreated", #"{"orderId": 1}"#, "acme"),
            try table.row("00000000-0000-4000-8000-000000000002", "Order", "order-1", "OrderShipped", #"{"orderId": 1}"#, "acme"),
            try table.row("00000000-0000-4000-8000-000000000003", "Order", "order-2", "OrderCreated", nil, "globex"),
            try table.row("00000000-0000-4000-8000-000000000004", "Order", "order-3", "OrderCreated", #"{"orderId": 3}"#, nil),
            try table.row("00000000-0000-4000-8000-000000000005", "Customer", "customer-a", "CustomerCreated", #"{"name": "A"}"#, "initech"),
            try table.row("00000000-0000-4000-8000-000000000006", "Customer", "customer-b", "CustomerDeleted", #"{"name": "B"}"#, "umbrella"),
            try table.row("00000000-0000-4000-8000-000000000007", "Customer", "customer-c", "Created", #"{"name": "C"}"#, "hooli"),
            try table.row("00000000-0000-4000-8000-000000000008", "Order", "order-4", "OrderCreated", #"{"last": true}"#, "acme"),
        ]
    }

    /// `(?<routedByValue>.*)Created` → `events.${routedByValue}` on `type`: `OrderCreated` → `events.Order`,
    /// `Created` → `events.`, non-matching `OrderShipped`/`CustomerDeleted` keep their own name; the NULL
    /// payload is a tombstone with its key and headers; the NULL tenant a null key.
    @Test func routingCaseIsReproduced() throws {
        let built = try expectRowsMatchCapture("routing", table: Self.routingTable, rows: try Self.routingRows())
        #expect(Set(built.values.map(\.topic)) == ["events.Order", "OrderShipped", "events.Customer", "CustomerDeleted", "events."])
        #expect(built["00000000-0000-4000-8000-000000000003"]?.value == nil, "the NULL payload is a tombstone")
    }

    /// tombstone-text: a `text` payload; `''`, `'   '`, `E'\n\t'` and NULL are tombstones (Java's
    /// `trim()` removes every char ≤ U+0020), `'x'` and `'last'` are not. Default routing: `outbox.event.Order`.
    @Test func textTombstonesAreReproduced() throws {
        let table = OutboxTable.standard(payload: .text)
        let rows = [
            try table.row("00000000-0000-4000-8000-000000000001", "Order", "order-1", "OrderCreated", "x"),
            try table.row("00000000-0000-4000-8000-000000000002", "Order", "order-2", "OrderCreated", ""),
            try table.row("00000000-0000-4000-8000-000000000003", "Order", "order-3", "OrderCreated", "   "),
            try table.row("00000000-0000-4000-8000-000000000004", "Order", "order-4", "OrderCreated", nil),
            try table.row("00000000-0000-4000-8000-000000000005", "Order", "order-5", "OrderCreated", "\n\t"),
            try table.row("00000000-0000-4000-8000-000000000006", "Order", "order-6", "OrderCreated", "last"),
        ]
        let built = try expectRowsMatchCapture("tombstone-text", table: table, rows: rows)
        #expect(built.values.filter { $0.value == nil }.count == 4)
    }

    /// The standard rows under default settings land on `outbox.event.<aggregatetype>` in every converter
    /// capture, whatever `topic.prefix` is; the default router's own path (no regex engine) must agree.
    @Test(arguments: ["json-schemas", "json-noschemas", "string-key-json-value", "string-string", "extended-headers-off", "snapshot"])
    func defaultRoutingMatchesEveryCapture(caseName: String) throws {
        let golden = try GoldenCase.load(caseName)
        let configured = try OutboxTopicRouter(settings: try #require(try golden.settings().eventRouter))
        for record in try golden.capturedRecords() {
            let routedBy = String(record.topic.dropFirst("outbox.event.".count))
            #expect(record.topic.hasPrefix("outbox.event."))
            #expect(OutboxTopicRouter.default.topic(forRoutedByValue: routedBy) == record.topic)
            #expect(configured.topic(forRoutedByValue: routedBy) == record.topic)
        }
    }

    /// The default shape takes a path of its own; an equivalent regex that goes through
    /// NSRegularExpression must route every value the same (values without U+000B/U+000C, where ICU's `.`
    /// differs from Java's).
    @Test func defaultPathAgreesWithTheRegexEngine() throws {
        let viaEngine = try OutboxTopicRouter(regex: "(?:(?<routedByValue>.*))", replacement: "outbox.event.${routedByValue}")
        var random = SplitMix64(seed: 42)
        let alphabet: [Character] = ["a", "Z", "0", ".", "-", "_", " ", "é", "😀", "\n", "\r", "\u{85}", "\u{2028}", "$", "\\"]
        for _ in 0 ..< 500 {
            let length = Int(random.next() % 8)
            let value = String((0 ..< length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            #expect(OutboxTopicRouter.default.topic(forRoutedByValue: value) == viaEngine.topic(forRoutedByValue: value), "\(value.debugDescription)")
        }
    }

    /// Named and numbered references to one group, and escaped letters (`\e` is `e` in Java's replacement
    /// syntax), route alike.
    @Test func replacementSpellingsOfOneTopicAgree() throws {
        let named = try OutboxTopicRouter(regex: "(?<routedByValue>.*)Created", replacement: "events.${routedByValue}")
        let numbered = try OutboxTopicRouter(regex: "(?<routedByValue>.*)Created", replacement: "events.$1")
        let escaped = try OutboxTopicRouter(regex: "(?<routedByValue>.*)Created", replacement: "\\e\\v\\e\\n\\t\\s\\.$1")
        for value in ["OrderCreated", "Created", "OrderShipped", "", "A\nCreated"] {
            #expect(named.topic(forRoutedByValue: value) == numbered.topic(forRoutedByValue: value))
            #expect(named.topic(forRoutedByValue: value) == escaped.topic(forRoutedByValue: value))
        }
    }

    @Test func aRegexThatDoesNotCompileIsRefusedNamingTheKey() {
        for pattern in ["(?<routedByValue>.*", "[a-", "(?<a>x)(?<a>y)", "*", "(?<a-b>.*)", "(?<abc"] {
            #expect {
                _ = try OutboxTopicRouter(regex: pattern, replacement: "x")
            } throws: { error in
                guard case EventRouterConfigurationError.invalidTopicRegex(let reported, _) = error else { return false }
                return reported == pattern && "\(error)".hasPrefix("route.topic.regex ")
            }
        }
    }

    /// Java's `appendReplacement` errors, raised when the router is made.
    @Test(arguments: [
        ("events.${nope}", "No group with name {nope}"),
        ("events.$2", "No group 2"),
        ("events.\\", "character to be escaped is missing"),
        ("events.$", "Illegal group reference: group index is missing"),
        ("events.$x", "Illegal group reference"),
        ("events.${}", "named capturing group has 0 length name"),
        ("events.${routedByValue", "named capturing group is missing trailing '}'"),
        ("events.${1a}", "capturing group name {1a} starts with digit character"),
    ])
    func aBadReplacementIsRefusedNamingTheKey(replacement: String, reason: String) {
        #expect(throws: EventRouterConfigurationError.invalidTopicReplacement(replacement: replacement, reason: reason)) {
            _ = try OutboxTopicRouter(regex: "(?<routedByValue>.*)Created", replacement: replacement)
        }
        let error = EventRouterConfigurationError.invalidTopicReplacement(replacement: replacement, reason: reason)
        #expect("\(error)".hasPrefix("route.topic.replacement "))
    }

    /// A NULL `route.by.field` value fails the row (Kafka Connect's RegexRouter throws on a null topic).
    @Test func aNullRouteByValueFailsTheRow() {
        #expect(throws: OutboxRecordError.routeByValueIsNull(column: "aggregatetype")) {
            _ = try OutboxTopicRouter.default.topic(forRoutedByValue: nil, column: "aggregatetype")
        }
    }
}
