import DebeziumFormat
import Testing

/// `table.include.list` as Debezium reads it: case-insensitive regular expressions matched against the whole
/// `schema.table` (Predicates.includes: Pattern.CASE_INSENSITIVE, matcher.matches()).
@Suite("TableIncludeList")
struct TableIncludeListTests {
    @Test("A plain name is a pattern: case-insensitive, and its dot matches any character")
    func plainNames() throws {
        let list = try TableIncludeList("public.outbox")
        #expect(list.includes(schema: "public", table: "outbox"))
        #expect(list.includes(schema: "PUBLIC", table: "Outbox"))
        #expect(list.includes(schema: "public", table: "outbox") && !list.includes(schema: "public", table: "outbox_d1"), "the whole name must match")
        #expect(!list.includes(schema: "sales", table: "outbox"))
        let escaped = try TableIncludeList("public\\.outbox")
        #expect(escaped.includes(schema: "public", table: "outbox"))
    }

    @Test("Patterns, several entries, spaces around commas")
    func patterns() throws {
        let list = try TableIncludeList("public.outbox_d.* , audit\\.events_[0-9]+")
        #expect(list.includes(schema: "public", table: "outbox_d1"))
        #expect(list.includes(schema: "public", table: "outbox_d2026_12"))
        #expect(!list.includes(schema: "public", table: "outbox"))
        #expect(list.includes(schema: "audit", table: "events_42"))
        #expect(!list.includes(schema: "audit", table: "events_x"))
        #expect(list.description == "public.outbox_d.* , audit\\.events_[0-9]+")
    }

    @Test("A backslash-escaped comma belongs to its entry")
    func escapedComma() throws {
        let list = try TableIncludeList("public.a\\,b,public.c")
        #expect(list.includes(schema: "public", table: "a,b"))
        #expect(list.includes(schema: "public", table: "c"))
        #expect(!list.includes(schema: "public", table: "a"))
    }

    @Test("An entry ICU cannot read, or no entry at all, is an error naming it", arguments: ["public.(outbox", "[a-", " , ", "a)|(b"])
    func invalid(text: String) {
        #expect(throws: TableIncludeListError.self) { try TableIncludeList(text) }
    }
}
