import Foundation

/// Debezium's `table.include.list`: comma-separated Java regular expressions, each matched case-insensitively
/// against the whole of a table's `schema.table` (Debezium's `Predicates.includes`, `Pattern.CASE_INSENSITIVE`,
/// `matcher.matches()`). A plain name is a pattern too: `public.outbox` also matches `PUBLIC.Outbox`, and its
/// dot any one character. One difference: ICU folds case across Unicode, Java's `CASE_INSENSITIVE` only ASCII
/// (it matters only for names with non-ASCII letters that differ in case alone).
public struct TableIncludeList: Sendable, CustomStringConvertible {
    /// The list as written.
    public let text: String
    private let patterns: [AnchoredPattern]

    public init(_ text: String) throws(TableIncludeListError) {
        self.text = text
        var patterns: [AnchoredPattern] = []
        for entry in Self.entries(text).map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            guard let pattern = AnchoredPattern(entry) else { throw TableIncludeListError(pattern: entry) }
            patterns.append(pattern)
        }
        guard !patterns.isEmpty else { throw TableIncludeListError(pattern: text) }
        self.patterns = patterns
    }

    /// The entries: split at commas, except where a backslash escapes one (`\,` stands for a comma), as
    /// Debezium's list splitter reads them.
    static func entries(_ text: String) -> [String] {
        var entries: [String] = []
        var current = ""
        var characters = text.makeIterator()
        while let character = characters.next() {
            if character == "\\" {
                guard let next = characters.next() else {
                    current.append(character)
                    break
                }
                if next == "," {
                    current.append(",")
                } else {
                    current.append(character)
                    current.append(next)
                }
            } else if character == "," {
                entries.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        entries.append(current)
        return entries
    }

    /// Whether Debezium includes the table `schema.table`.
    public func includes(schema: String, table: String) -> Bool {
        let name = "\(schema).\(table)"
        return patterns.contains { $0.matchesWhole(name) }
    }

    public var description: String { text }
}

/// An entry that ICU does not read as a regular expression.
public struct TableIncludeListError: Error, Sendable, CustomStringConvertible {
    public var pattern: String
    public var description: String { "'\(pattern)' is not a regular expression of table names (schema.table)" }
}

/// One case-insensitive pattern that must match a whole value. NSRegularExpression is immutable and
/// documented as safe to share between threads.
private struct AnchoredPattern: @unchecked Sendable {
    private let regex: NSRegularExpression

    init?(_ pattern: String) {
        // The entry alone first: wrapped, an unbalanced one such as `a)|(b` would compile with another meaning,
        // where Java refuses it.
        guard (try? NSRegularExpression(pattern: pattern)) != nil,
              let regex = try? NSRegularExpression(pattern: "^(?:" + pattern + ")\\z", options: [.caseInsensitive]) else { return nil }
        self.regex = regex
    }

    func matchesWhole(_ value: String) -> Bool {
        regex.firstMatch(in: value, options: [.anchored], range: NSRange(location: 0, length: (value as NSString).length)) != nil
    }
}
