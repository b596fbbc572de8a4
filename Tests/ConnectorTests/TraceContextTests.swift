import Connector
import KafkaClient
import Testing

@Suite("TraceContext")
struct TraceContextTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    private func headers(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for header in TraceContext.headers(from: ArraySlice(Array(text.utf8))) {
            result[header.name] = header.value.map { String(decoding: $0, as: UTF8.self) }
        }
        return result
    }

    @Test func aBareTraceparentBecomesTheHeader() {
        #expect(headers(Self.valid) == ["traceparent": Self.valid])
        #expect(headers(" \(Self.valid)\n") == ["traceparent": Self.valid])
    }

    @Test func debeziumsPropertiesTextGivesTraceparentAndTracestate() {
        let text = "#Mon Nov 23 10:00:00 UTC 2026\ntracestate=congo\\=t61rcWkgMzE,rojo\\=00f067aa0ba902b7\ntraceparent=\(Self.valid)\n"
        #expect(headers(text) == ["traceparent": Self.valid, "tracestate": "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"])
    }

    @Test(arguments: [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 with a fifth field
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
        "", "traceparent=", "not a trace",
    ])
    func anInvalidTraceContextGivesNoHeader(text: String) {
        #expect(headers(text).isEmpty)
    }

    @Test func aLaterVersionMayAppendFields() {
        #expect(TraceContext.isValidTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"))
    }
}
