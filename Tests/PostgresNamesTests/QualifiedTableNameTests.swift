import PostgresNames
import Testing

@Suite("QualifiedTableName")
struct QualifiedTableNameTests {
    @Test("Names read by PostgreSQL's rules: unquoted parts fold to lower case, quoted parts keep everything", arguments: [
        ("public.outbox", "public", "outbox"),
        ("outbox", "public", "outbox"),
        ("sales.order_events", "sales", "order_events"),
        ("Sales.Outbox", "sales", "outbox"),
        ("\"Sales\".\"Outbox\"", "Sales", "Outbox"),
        ("sales.\"Outbox\"", "sales", "Outbox"),
        ("\"a.b\".\"c,d\"", "a.b", "c,d"),
        ("\"say \"\"hi\"\"\"", "public", "say \"hi\""),
        ("  sales . outbox  ", "sales", "outbox"),
        ("\"select\"", "public", "select"),
        ("Ünïcode.T_1$", "Ünïcode", "t_1$"),
    ])
    func validNames(text: String, schema: String, name: String) throws {
        let table = try QualifiedTableName(parsing: text)
        #expect(table == QualifiedTableName(schema: schema, name: name))
    }

    @Test("Text PostgreSQL would not read as a name is refused with the reason", arguments: [
        "", ".", "..", "a.", ".b", "a.b.c", "a..b", "public.outbox.", "\"open", "\"\"", "1table", "a b", "\"a\"b",
        "public.out-box", "outbox;", "a+b", "$x",
    ])
    func invalidNames(text: String) {
        #expect(throws: TableNameError.self) { try QualifiedTableName(parsing: text) }
    }

    @Test("Names longer than 63 bytes are cut as PostgreSQL cuts them, never inside a character")
    func longNames() throws {
        let long = String(repeating: "a", count: 70)
        #expect(try QualifiedTableName(parsing: long).name == String(repeating: "a", count: 63))
        let wide = String(repeating: "é", count: 40)  // 2 bytes each
        #expect(try QualifiedTableName(parsing: "\"\(wide)\"").name == String(repeating: "é", count: 31))
        #expect(try QualifiedTableName(parsing: "Ümlaut_Tabelle").name == "Ümlaut_tabelle", "only ASCII letters fold")
    }

    @Test("A quote followed by a combining mark is still doubled when printed")
    func quotingByScalar() throws {
        let table = QualifiedTableName(schema: "public", name: "a\"\u{0301}b")
        #expect(table.description == "public.\"a\"\"\u{0301}b\"")
        #expect(try QualifiedTableName(parsing: table.description) == table)
    }

    @Test("Lists split on commas outside quotes")
    func lists() throws {
        let tables = try QualifiedTableName.parseList("public.outbox, \"Sales\".\"Out,box\" ,audit.events")
        #expect(tables == [
            QualifiedTableName(schema: "public", name: "outbox"), QualifiedTableName(schema: "Sales", name: "Out,box"),
            QualifiedTableName(schema: "audit", name: "events"),
        ])
        #expect(throws: TableNameError.self) { try QualifiedTableName.parseList("a,,b") }
        #expect(throws: TableNameError.self) { try QualifiedTableName.parseList("a b") }
    }

    @Test("Printed as quote_ident prints it, and read back as the same name", arguments: [
        (QualifiedTableName(schema: "public", name: "outbox"), "public.outbox"),
        (QualifiedTableName(schema: "Sales", name: "Outbox"), "\"Sales\".\"Outbox\""),
        (QualifiedTableName(schema: "a.b", name: "say \"hi\""), "\"a.b\".\"say \"\"hi\"\"\""),
        (QualifiedTableName(schema: "public", name: "user"), "public.\"user\""),
        (QualifiedTableName(schema: "public", name: "2020_events"), "public.\"2020_events\""),
        (QualifiedTableName(schema: "public", name: "events_2020"), "public.events_2020"),
    ])
    func printing(table: QualifiedTableName, printed: String) throws {
        #expect(table.description == printed)
        #expect(try QualifiedTableName(parsing: printed) == table)
    }
}
