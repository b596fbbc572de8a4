/// A table name with its schema, read and printed as PostgreSQL users write it: `public.outbox`,
/// `"Sales"."Outbox"`, `outbox` (schema `public`).
public struct QualifiedTableName: Sendable, Hashable, CustomStringConvertible {
    /// The schema's name as the catalog holds it (after case folding and unquoting).
    public var schema: String
    /// The table's name as the catalog holds it.
    public var name: String

    public init(schema: String, name: String) {
        self.schema = schema
        self.name = name
    }

    /// Reads one possibly schema-qualified name by PostgreSQL's rules: an unquoted part folds to lower case,
    /// a double-quoted part keeps its case and may hold dots, commas and doubled quotes (`""`). A name with
    /// no schema is in `public`.
    public init(parsing text: String) throws(TableNameError) {
        var scanner = IdentifierScanner(text)
        self = try scanner.tableName()
        scanner.skipSpaces()
        guard scanner.atEnd else { throw TableNameError(text: text, reason: "unexpected text after the name") }
    }

    /// Reads a comma-separated list of names (commas inside quoted parts belong to the name).
    public static func parseList(_ text: String) throws(TableNameError) -> [QualifiedTableName] {
        var scanner = IdentifierScanner(text)
        var tables: [QualifiedTableName] = []
        repeat {
            tables.append(try scanner.tableName())
            scanner.skipSpaces()
        } while scanner.skip(",")
        guard scanner.atEnd else { throw TableNameError(text: text, reason: "expected ',' between table names") }
        return tables
    }

    /// The name as PostgreSQL prints it (`quote_ident` on each part): pasted into psql, it names this table.
    public var description: String {
        "\(Self.quoted(schema)).\(Self.quoted(name))"
    }

    /// An identifier as SQL needs it: bare when it is lower case letters, digits and underscores (not
    /// starting with a digit) and no keyword that needs quoting; otherwise in double quotes, inner quotes
    /// doubled. Quoting more than PostgreSQL would is harmless: a quoted lower-case name is the same name.
    public static func quoted(_ identifier: String) -> String {
        let bytes = Array(identifier.utf8)
        let plain = !bytes.isEmpty
            && bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
            && !(bytes[0] >= 0x30 && bytes[0] <= 0x39)
            && !keywordsNeedingQuotes.contains(identifier)
        if plain { return identifier }
        // By scalar: a quote followed by a combining mark is one Character, but still a quote to double.
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in identifier.unicodeScalars {
            quoted.append(scalar)
            if scalar == "\"" { quoted.append("\"") }
        }
        quoted.append("\"")
        return String(quoted)
    }

    /// PostgreSQL's reserved, type-or-function-name and column-name keywords (kwlist.h): as identifiers they
    /// must be quoted. Unreserved keywords need not be.
    private static let keywordsNeedingQuotes: Set<String> = [
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between",
        "bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce",
        "collate", "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog",
        "current_date", "current_role", "current_schema", "current_time", "current_timestamp", "current_user", "dec",
        "decimal", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "exists", "extract",
        "false", "fetch", "float", "for", "foreign", "freeze", "from", "full", "grant", "greatest", "group",
        "grouping", "having", "ilike", "in", "initially", "inner", "inout", "int", "integer", "intersect",
        "interval", "into", "is", "isnull", "join", "json", "json_array", "json_arrayagg", "json_exists",
        "json_object", "json_objectagg", "json_query", "json_scalar", "json_serialize", "json_table", "json_value",
        "lateral", "leading", "least", "left", "like", "limit", "localtime", "localtimestamp", "merge_action",
        "national", "natural", "nchar", "none", "normalize", "not", "notnull", "null", "nullif", "numeric",
        "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay", "placing", "position",
        "precision", "primary", "real", "references", "returning", "right", "row", "select", "session_user",
        "setof", "similar", "smallint", "some", "substring", "symmetric", "system_user", "table", "tablesample",
        "then", "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user", "using",
        "values", "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes",
        "xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot",
        "xmlserialize", "xmltable",
    ]
}

/// A table name that PostgreSQL would not read.
public struct TableNameError: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String
    public var reason: String

    public var description: String {
        "'\(text)' is not a table name (\(reason)); write schema.table or table, double-quoting a part that has upper-case letters, dots, commas or quotes: \"Sales\".\"Outbox\""
    }
}

/// Reads identifiers from text as PostgreSQL's scanner does for names (no keywords, no operators), scalar by
/// scalar: an unquoted name is ASCII letters, digits, `_` and `$` and any non-ASCII character, not starting
/// with a digit or `$`; a name longer than 63 bytes is cut there, as PostgreSQL cuts it.
private struct IdentifierScanner {
    private let text: String
    private let characters: [Unicode.Scalar]
    private var index = 0
    /// NAMEDATALEN - 1.
    private static let maximumNameBytes = 63

    init(_ text: String) {
        self.text = text
        self.characters = Array(text.unicodeScalars)
    }

    var atEnd: Bool { index == characters.count }

    /// PostgreSQL's white space: space, tab, newline, carriage return, form feed, vertical tab.
    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        [" ", "\t", "\n", "\r", "\u{0C}", "\u{0B}"].contains(scalar)
    }

    private static func isUnquotedNamePart(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x80 || ("a" ... "z").contains(scalar) || ("A" ... "Z").contains(scalar)
            || ("0" ... "9").contains(scalar) || scalar == "_" || scalar == "$"
    }

    /// Cuts a name to PostgreSQL's limit, never inside a character.
    private static func truncated(_ name: String) -> String {
        guard name.utf8.count > maximumNameBytes else { return name }
        var result = String.UnicodeScalarView()
        var bytes = 0
        for scalar in name.unicodeScalars {
            let size = String(scalar).utf8.count
            if bytes + size > maximumNameBytes { break }
            bytes += size
            result.append(scalar)
        }
        return String(result)
    }

    mutating func skipSpaces() {
        while index < characters.count, Self.isSpace(characters[index]) { index += 1 }
    }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        skipSpaces()
        guard index < characters.count, characters[index] == character else { return false }
        index += 1
        return true
    }

    /// `name` or `schema.name`.
    mutating func tableName() throws(TableNameError) -> QualifiedTableName {
        let first = try identifier()
        guard skip(".") else { return QualifiedTableName(schema: "public", name: first) }
        let second = try identifier()
        skipSpaces()
        if index < characters.count, characters[index] == "." {
            throw TableNameError(text: text, reason: "three parts: a database name cannot be given here")
        }
        return QualifiedTableName(schema: first, name: second)
    }

    private mutating func identifier() throws(TableNameError) -> String {
        skipSpaces()
        guard index < characters.count else { throw TableNameError(text: text, reason: "a name is missing") }
        if characters[index] == "\"" {
            index += 1
            var name = String.UnicodeScalarView()
            while true {
                guard index < characters.count else { throw TableNameError(text: text, reason: "a quoted name is not closed") }
                let character = characters[index]
                index += 1
                if character == "\"" {
                    // A doubled quote stands for one quote inside the name.
                    guard index < characters.count, characters[index] == "\"" else { break }
                    index += 1
                }
                name.append(character)
            }
            guard !name.isEmpty else { throw TableNameError(text: text, reason: "a quoted name is empty") }
            return Self.truncated(String(name))
        }
        var name = String.UnicodeScalarView()
        while index < characters.count, Self.isUnquotedNamePart(characters[index]) {
            // PostgreSQL folds only ASCII letters of an unquoted name (in a multi-byte encoding such as UTF-8).
            let scalar = characters[index]
            name.append(("A" ... "Z").contains(scalar) ? Unicode.Scalar(UInt8(scalar.value + 0x20)) : scalar)
            index += 1
        }
        guard let first = name.first else {
            let found = index < characters.count ? "'\(characters[index])'" : "nothing"
            throw TableNameError(text: text, reason: "a name is missing where \(found) stands (quote a name that holds it)")
        }
        if ("0" ... "9").contains(first) || first == "$" {
            throw TableNameError(text: text, reason: "an unquoted name cannot start with '\(first)'")
        }
        if index < characters.count, !Self.isSpace(characters[index]), ![".", ","].contains(characters[index]) {
            throw TableNameError(text: text, reason: "'\(characters[index])' cannot stand in an unquoted name: quote the name")
        }
        return Self.truncated(String(name))
    }
}
