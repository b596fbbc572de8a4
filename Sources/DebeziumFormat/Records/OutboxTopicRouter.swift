import Foundation

/// The topic of an outbox record: `route.topic.regex` and `route.topic.replacement` applied to the
/// `route.by.field` value, as the EventRouter's embedded Kafka Connect `RegexRouter` does it.
///
/// `RegexRouter.apply` runs `matcher.matches()` (the whole value must match) and, if it does,
/// `matcher.replaceFirst(replacement)`, which searches again from the start (`find()`) and puts the
/// replacement where that first match stands, keeping any text around it. A value that does not match
/// keeps its own text as the topic (routing: `OrderShipped`, `CustomerDeleted`); `Created` against
/// `(?<routedByValue>.*)Created` → `events.` (an empty group).
///
/// The regex runs on Foundation's NSRegularExpression (ICU), whose syntax is Java's for everything an
/// outbox router needs, named groups included. Known differences, for custom regexes only (the default
/// takes a path of its own, exact to Java): ICU's `.` also stops at U+000B and U+000C, which Java's does
/// not; and a pattern Java rejects but ICU accepts is taken here where Debezium would fail to start.
/// The replacement is Java's `Matcher.appendReplacement` syntax (`$1`, `${name}`, `\$`), parsed here because
/// NSRegularExpression's template syntax differs; it is checked when the router is made, where Java would
/// throw on the first matching record.
public struct OutboxTopicRouter: Sendable {
    /// One piece of a parsed replacement.
    enum Piece: Sendable, Equatable {
        case literal(String)
        case group(Int)
    }

    private enum Matcher: Sendable {
        /// `(?<name>.*)` — Debezium's default shape: the whole value matches unless it holds a line
        /// terminator, and every group reference stands for the whole value.
        case wholeValue
        case regex(CompiledRegex)
    }

    private let matcher: Matcher
    private let replacement: [Piece]

    /// Debezium's defaults: `(?<routedByValue>.*)` → `outbox.event.${routedByValue}`.
    public static let `default` = OutboxTopicRouter(defaultRouter: ())

    private init(defaultRouter: Void) {
        matcher = .wholeValue
        replacement = [.literal("outbox.event."), .group(1)]
    }

    public init(settings: EventRouterSettings) throws(EventRouterConfigurationError) {
        try self.init(regex: settings.routeTopicRegex, replacement: settings.routeTopicReplacement)
    }

    /// Compiles `route.topic.regex` and checks `route.topic.replacement` against its groups.
    public init(regex pattern: String, replacement: String) throws(EventRouterConfigurationError) {
        // The regex first, as Kafka Connect compiles it when the transform starts.
        let groups = try RegexGroups(pattern: pattern)
        matcher = groups.isWholeValueCapture ? .wholeValue : .regex(try CompiledRegex(pattern: pattern, groupCount: groups.count))
        do {
            self.replacement = try Self.parseReplacement(replacement, groups: groups)
        } catch {
            throw .invalidTopicReplacement(replacement: replacement, reason: error.reason)
        }
    }

    /// The topic for a `route.by.field` value; a NULL value fails the record, as in Debezium.
    public func topic(forRoutedByValue value: String?, column: String) throws(OutboxRecordError) -> String {
        guard let value else { throw .routeByValueIsNull(column: column) }
        return topic(forRoutedByValue: value)
    }

    /// The topic for a `route.by.field` value.
    public func topic(forRoutedByValue value: String) -> String {
        switch matcher {
        case .wholeValue:
            // Java's `.` matches anything but \n, \r, U+0085, U+2028 and U+2029.
            guard !value.unicodeScalars.contains(where: { [0x0A, 0x0D, 0x85, 0x2028, 0x2029].contains($0.value) }) else {
                return value
            }
            return expand { _ in value }
        case .regex(let regex):
            guard let found = regex.matchesWholeThenFind(value) else { return value }
            let text = value as NSString
            let prefix = text.substring(to: found.range.location)
            let suffix = text.substring(from: found.range.location + found.range.length)
            return prefix + expand { group in
                let range = found.range(at: group)
                return range.location == NSNotFound ? "" : text.substring(with: range)
            } + suffix
        }
    }

    private func expand(_ group: (Int) -> String) -> String {
        var topic = ""
        for piece in replacement {
            switch piece {
            case .literal(let text): topic += text
            case .group(let number): topic += group(number)
            }
        }
        return topic
    }

    struct ReplacementError: Error {
        var reason: String
    }

    /// Java's `Matcher.appendReplacement` grammar: `\x` is `x`; `${name}` a named group; `$` and digits a
    /// group number, taking further digits only while the number stays a valid group (`$12` with one group
    /// is group 1 and a `2`). Java's messages are kept.
    static func parseReplacement(_ text: String, groups: RegexGroups) throws(ReplacementError) -> [Piece] {
        var pieces: [Piece] = []
        var literal = ""
        var characters = text[...]
        func flush() {
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            literal = ""
        }
        while let character = characters.popFirst() {
            switch character {
            case "\\":
                guard let escaped = characters.popFirst() else {
                    throw ReplacementError(reason: "character to be escaped is missing")
                }
                literal.append(escaped)
            case "$":
                guard let next = characters.first else {
                    throw ReplacementError(reason: "Illegal group reference: group index is missing")
                }
                flush()
                if next == "{" {
                    characters.removeFirst()
                    let name = String(characters.prefix { $0.isASCII && ($0.isLetter || $0.isNumber) })
                    characters.removeFirst(name.count)
                    guard !name.isEmpty else { throw ReplacementError(reason: "named capturing group has 0 length name") }
                    guard characters.popFirst() == "}" else {
                        throw ReplacementError(reason: "named capturing group is missing trailing '}'")
                    }
                    guard let first = name.first, !first.isNumber else {
                        throw ReplacementError(reason: "capturing group name {\(name)} starts with digit character")
                    }
                    guard let number = groups.names[name] else { throw ReplacementError(reason: "No group with name {\(name)}") }
                    pieces.append(.group(number))
                } else {
                    guard let digit = next.wholeNumberValue, next.isASCII else {
                        throw ReplacementError(reason: "Illegal group reference")
                    }
                    characters.removeFirst()
                    var number = digit
                    while let more = characters.first, more.isASCII, let value = more.wholeNumberValue,
                          number * 10 + value <= groups.count {
                        number = number * 10 + value
                        characters.removeFirst()
                    }
                    guard number <= groups.count else { throw ReplacementError(reason: "No group \(number)") }
                    pieces.append(.group(number))
                }
            default:
                literal.append(character)
            }
        }
        flush()
        return pieces
    }
}

/// The capturing groups of a Java regex, found by reading the pattern: how many, and the number of each
/// named one. NSRegularExpression compiles the pattern and counts its groups, but names none, so
/// `CompiledRegex` requires the count read here to agree with ICU's; if it does not (a pattern this reader
/// misjudges) the regex is refused rather than routed with a wrong group.
struct RegexGroups {
    var count: Int
    var names: [String: Int]
    /// The pattern is exactly `(?<name>.*)`.
    var isWholeValueCapture: Bool

    init(pattern: String) throws(EventRouterConfigurationError) {
        var count = 0
        var names: [String: Int] = [:]
        let scalars = Array(pattern.unicodeScalars)
        var index = 0
        var classDepth = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "\\":
                // `\Q…\E` quotes everything up to `\E`; any other escape covers one character.
                if index < scalars.count, scalars[index] == "Q" {
                    index += 1
                    while index < scalars.count, !(scalars[index] == "\\" && index + 1 < scalars.count && scalars[index + 1] == "E") {
                        index += 1
                    }
                    index += 2
                } else {
                    index += 1
                }
            case "[":
                classDepth += 1
            case "]" where classDepth > 0:
                classDepth -= 1
            case "(" where classDepth == 0:
                guard index < scalars.count, scalars[index] == "?" else {
                    count += 1
                    continue
                }
                // `(?<name>` captures; `(?<=`, `(?<!`, `(?:`, `(?=`, flags… do not.
                guard index + 1 < scalars.count, scalars[index + 1] == "<",
                      index + 2 < scalars.count, scalars[index + 2].properties.isAlphabetic, scalars[index + 2].isASCII
                else { continue }
                var end = index + 2
                var name = ""
                while end < scalars.count, scalars[end] != ">" {
                    name.unicodeScalars.append(scalars[end])
                    end += 1
                }
                count += 1
                // Java's group names: an ASCII letter, then ASCII letters and digits, then `>`.
                guard end < scalars.count, name.unicodeScalars.allSatisfy({ $0.isASCII && $0.properties.isAlphabetic || ("0"..."9").contains($0) }) else {
                    throw .invalidTopicRegex(pattern: pattern, reason: "named capturing group is missing trailing '>'")
                }
                guard names[name] == nil else {
                    throw .invalidTopicRegex(pattern: pattern, reason: "named capturing group <\(name)> is already defined")
                }
                names[name] = count
            default:
                break
            }
        }
        self.count = count
        self.names = names
        isWholeValueCapture = count == 1 && names.count == 1 && names.keys.allSatisfy { pattern == "(?<\($0)>.*)" }
    }
}

/// NSRegularExpression for Java's `matches()` and `find()`. NSRegularExpression is immutable and documented
/// as safe to share between threads.
struct CompiledRegex: @unchecked Sendable {
    private let find: NSRegularExpression
    /// The pattern anchored at both ends, so that a match must cover the whole value with any of the
    /// pattern's alternatives (Java's `matches()`, not merely the first match from the start).
    private let whole: NSRegularExpression
    let groupCount: Int

    init(pattern: String, groupCount expected: Int) throws(EventRouterConfigurationError) {
        do {
            find = try NSRegularExpression(pattern: pattern)
        } catch {
            throw .invalidTopicRegex(pattern: pattern, reason: "ICU rejects it")
        }
        do {
            whole = try NSRegularExpression(pattern: "(?:" + pattern + ")\\z")
        } catch {
            throw .invalidTopicRegex(pattern: pattern, reason: "it cannot be anchored to the whole value")
        }
        groupCount = find.numberOfCaptureGroups
        guard expected == groupCount else {
            throw .invalidTopicRegex(
                pattern: pattern,
                reason: "cannot tell its capturing groups apart (ICU counts \(groupCount), the pattern reads as \(expected))")
        }
    }

    /// If the whole value matches, the first match from the start, whose groups the replacement uses.
    func matchesWholeThenFind(_ value: String) -> NSTextCheckingResult? {
        let range = NSRange(location: 0, length: (value as NSString).length)
        guard whole.firstMatch(in: value, options: [.anchored], range: range) != nil else { return nil }
        return find.firstMatch(in: value, options: [], range: range)
    }
}
