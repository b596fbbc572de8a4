import Foundation

/// `message.prefix.include.list` / `exclude.list`: comma-separated regular expressions, each matched
/// against the whole prefix (Debezium's `Strings.setOfRegex` and `matches()`).
struct MessagePrefixFilter: Sendable {
    private let include: [NSRegularExpressionBox]?
    private let exclude: [NSRegularExpressionBox]

    init(include: String?, exclude: String?) throws(DebeziumRecordError) {
        func compile(_ list: String, key: String) throws(DebeziumRecordError) -> [NSRegularExpressionBox] {
            var compiled: [NSRegularExpressionBox] = []
            for pattern in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !pattern.isEmpty {
                guard let regex = try? NSRegularExpression(pattern: "^(?:" + pattern + ")$") else {
                    throw .messagePrefixList(key: key, pattern: pattern)
                }
                compiled.append(NSRegularExpressionBox(regex: regex))
            }
            return compiled
        }
        self.include = try include.map { list throws(DebeziumRecordError) in try compile(list, key: "message.prefix.include.list") }
        self.exclude = try exclude.map { list throws(DebeziumRecordError) in try compile(list, key: "message.prefix.exclude.list") } ?? []
    }

    func includes(_ prefix: String) -> Bool {
        if let include { return include.contains { $0.matches(prefix) } }
        return !exclude.contains { $0.matches(prefix) }
    }
}

/// NSRegularExpression is immutable and documented thread-safe, but not marked Sendable.
struct NSRegularExpressionBox: @unchecked Sendable {
    let regex: NSRegularExpression

    func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
