/// The schema default Debezium's PostgreSQL connector gives a column, from its default expression as the
/// catalog prints it (`pg_get_expr(adbin, adrelid)`: `'default text'::text`, `42`,
/// `nextval('t_id_seq'::regclass)`, `uuid_generate_v4()`, `now()`).
///
/// Debezium does not evaluate expressions: a literal is read (the first quoted string, `''` unescaped, or
/// the bare text), and a function call or `CURRENT_TIMESTAMP`-like keyword stands for a placeholder of the
/// type (0, `""`, `{}`, the nil UUID, the epoch). The value is then converted as a column value is. Types
/// without a reader (bytea, arrays), values that do not parse, and struct values (a plain `numeric`'s
/// `VariableScaleDecimal`, which Kafka Connect cannot hold as a default) give no default.
public enum DebeziumColumnDefault {
    /// The default, or nil for none. A `serial` column's `nextval(…)` is a function call: 0.
    public static func value(expression: String?, type: ChangeEventColumnType) -> ConnectData? {
        guard var expression else { return nil }
        let oid = type.type.oid
        let placeholder: String
        switch oid {
        case 16: placeholder = "false"
        case 20, 21, 23: placeholder = "0"
        case 25, 1042, 1043: placeholder = ""
        case 114, 3802: placeholder = "{}"
        case 2950: placeholder = "00000000-0000-0000-0000-000000000000"
        case 700, 701, 1700: placeholder = "0.0"
        case ChangeEventColumnType.date, PostgresColumnType.timestamp.oid, PostgresColumnType.timestamptz.oid: placeholder = "1970-01-01"
        case ChangeEventColumnType.time: placeholder = "00:00"
        default:
            if type.enumLabels != nil { return enumDefault(expression) }
            // Debezium has no reader for the other types (bytea, arrays, timetz, interval's "epoch"), or its
            // result is not reproduced: no default.
            if oid == ChangeEventColumnType.interval, let literal = literal(in: expression) {
                return try? type.data(text: literal)
            }
            return nil
        }
        // Numbers, booleans, uuids and times are trimmed first; strings are not.
        if ![25, 1042, 1043, 114, 3802].contains(oid) { expression = expression.trimmingASCIIWhitespace }
        if !expression.contains("'"), expression.hasPrefix("NULL::") { return nil }
        let text: String
        if isGenerated(expression) {
            text = placeholder
        } else if let literal = literal(in: expression) {
            text = literal
        } else {
            text = expression
        }
        return convert(text, type: type)
    }

    /// A function call (`nextval(…)`, `now()`, `(gen_random_uuid())`) or a current-time keyword.
    static func isGenerated(_ expression: String) -> Bool {
        let lowered = expression.lowercased()
        if ["current_timestamp", "current_time", "current_date", "localtime", "localtimestamp"].contains(lowered) { return true }
        var characters = Substring(expression)
        if characters.first == "(" { characters = characters.dropFirst() }
        let name = characters.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }
        guard !name.isEmpty else { return false }
        let rest = characters.dropFirst(name.count)
        guard rest.first == "(", let close = rest.firstIndex(of: ")") else { return false }
        // `f()` or `f(arguments)`: Debezium's pattern wants the call to close somewhere after its name.
        return close > rest.startIndex
    }

    /// The first single-quoted literal, with `''` read as `'`; nil when there is none.
    static func literal(in expression: String) -> String? {
        guard let open = expression.firstIndex(of: "'") else { return nil }
        var result = ""
        var index = expression.index(after: open)
        while index < expression.endIndex {
            let character = expression[index]
            if character == "'" {
                let next = expression.index(after: index)
                if next < expression.endIndex, expression[next] == "'" {
                    result.append("'")
                    index = expression.index(after: next)
                    continue
                }
                return result
            }
            result.append(character)
            index = expression.index(after: index)
        }
        return nil
    }

    /// An enum default `'label'::type`.
    private static func enumDefault(_ expression: String) -> ConnectData? {
        guard let cast = expression.range(of: "::", options: .backwards) else { return nil }
        let value = expression[..<cast.lowerBound]
        guard value.count >= 2, value.first == "'", value.last == "'" else { return nil }
        return .string(String(value.dropFirst().dropLast()))
    }

    /// The literal's text as the column's value, the way Debezium's readers take it.
    private static func convert(_ text: String, type: ChangeEventColumnType) -> ConnectData? {
        switch type.type.oid {
        // Boolean.parseBoolean: "true" in any case is true, anything else false.
        case 16: return .boolean(text.lowercased() == "true")
        case ChangeEventColumnType.time:
            // pgjdbc reads `HH:MM` too.
            return try? type.data(text: text.count == 5 ? text + ":00" : text)
        case PostgresColumnType.timestamp.oid:
            return try? type.data(text: text.count == 10 ? text + " 00:00:00" : text)
        case PostgresColumnType.timestamptz.oid:
            // A date or a time without an offset is read in UTC (the JVM of the captures ran in UTC).
            var full = text.count == 10 ? text + " 00:00:00" : text
            if !full.dropFirst(19).contains(where: { $0 == "+" || $0 == "-" }) { full += "+00" }
            return try? type.data(text: full)
        case 1700:
            // A plain numeric's default would be a VariableScaleDecimal struct: Debezium leaves it out.
            guard let value = try? type.data(text: text), !value.isStruct else { return nil }
            return value
        case 2950:
            return .string(text.lowercased())
        default:
            return try? type.data(text: text)
        }
    }
}

private extension ConnectData {
    var isStruct: Bool {
        if case .struct = self { true } else { false }
    }
}

private extension String {
    var trimmingASCIIWhitespace: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" || first == "\n" || first == "\r" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\n" || last == "\r" { slice = slice.dropLast() }
        return String(slice)
    }
}
