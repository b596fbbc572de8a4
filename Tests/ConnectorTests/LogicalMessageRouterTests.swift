@testable import Connector
import KafkaClient
import PgOutputDecoder
import PostgresLSN
import Testing

@Suite("The table-less outbox: logical decoding messages")
struct LogicalMessageRouterTests {
    private let router = LogicalMessageRouter()

    private func message(_ prefix: String, _ content: String, transactional: Bool = true) -> PgOutputMessage.LogicalMessage {
        PgOutputMessage.LogicalMessage(
            transactionID: nil, flags: transactional ? 1 : 0, lsn: LSN(0x16_B374_D848), prefix: prefix, content: utf8(content)
        )
    }

    @Test func aRawMessageIsItsValueOnItsTopic() throws {
        let event = try #require(try router.event(for: message("outbox:orders", "\u{0}any bytes\u{FF}")))
        #expect(event.topic == "orders" && event.key == nil && event.headers.isEmpty && !event.idHeader)
        #expect(event.value.map(Array.init) == Array("\u{0}any bytes\u{FF}".utf8))
        #expect(event.eventIDText == "16/B374D848", "the WAL position names it in logs")
    }

    @Test func anEnvelopeCarriesKeyHeadersAndValue() throws {
        let event = try #require(try router.event(for: message(
            "outbox-envelope:orders",
            #"{"key": "order-17", "headers": {"trace": "abc", "gone": null}, "value": {"total": 42, "items": []}}"#
        )))
        #expect(event.topic == "orders")
        #expect(event.key.map(Array.init) == Array("order-17".utf8))
        #expect(event.headers == [KafkaHeader(name: "trace", value: Array("abc".utf8)), KafkaHeader(name: "gone", value: nil)])
        #expect(event.value.map(Array.init) == Array(#"{"total": 42, "items": []}"#.utf8), "JSON values as written")
    }

    @Test func aStringValueIsItsTextAndMissingMembersAreNull() throws {
        let text = try #require(try router.event(for: message("outbox-envelope:t", #"{"value": "caf\u00e9"}"#)))
        #expect(text.value.map(Array.init) == Array("café".utf8) && text.key == nil)
        let empty = try #require(try router.event(for: message("outbox-envelope:t", "{}")))
        #expect(empty.value == nil && empty.key == nil && empty.headers.isEmpty)
    }

    @Test func otherPrefixesAreNotOurs() throws {
        #expect(try router.event(for: message("outboxes:t", "x")) == nil)
        #expect(try router.event(for: message("audit", "x")) == nil)
        #expect(try LogicalMessageRouter(prefix: "app").event(for: message("app:t", "x"))?.topic == "t")
    }

    @Test func brokenEnvelopesAndMissingTopicsAreErrors() {
        #expect(throws: LogicalMessageError.noTopic(prefix: "outbox:", lsn: "16/B374D848")) {
            try router.event(for: message("outbox:", "x"))
        }
        for content in ["", "[]", #"{"key": 1}"#, #"{"headers": {"a": 1}}"#, #"{"value": }"#, #"{"extra": 1}"#, #"{"key": "k"} x"#] {
            #expect(throws: LogicalMessageError.self, "\(content)") { try router.event(for: message("outbox-envelope:t", content)) }
        }
    }
}
