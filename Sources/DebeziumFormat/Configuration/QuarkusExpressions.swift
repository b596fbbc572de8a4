/// Expands the property expressions that Debezium Server's configuration layer (Quarkus, through SmallRye
/// Config) applies to every value of `application.properties`:
///
/// - `${name}` is the value of the key `name` of the same file (itself expanded), else of the environment
///   variable `name`, `name` with every non-alphanumeric character as `_`, or that upper-cased
///   (`debezium.x` → `DEBEZIUM_X`), the way SmallRye looks names up in the environment;
/// - `${name:default}` falls back to `default` (which may hold expressions);
/// - `$${` is an escaped `${`: `$${routedByValue}` is the literal `${routedByValue}` that the EventRouter's
///   `route.topic.replacement` needs;
/// - an empty value counts as not set, as in MicroProfile Config.
struct QuarkusExpressions {
    /// Deeper nesting than this is refused rather than risking the stack on hostile input.
    static let maximumDepth = 32

    /// The file's own keys (profile keys excluded), for `${key}`.
    let properties: OrderedConfig
    let environment: [String: String]

    /// `value` of `key` with every expression expanded.
    func expand(_ value: String, key: String) throws(DebeziumConfigError) -> String {
        try expand(Array(value.unicodeScalars)[...], key: key, resolving: [])
    }

    private func expand(
        _ scalars: ArraySlice<Unicode.Scalar>, key: String, resolving: [String]
    ) throws(DebeziumConfigError) -> String {
        guard resolving.count <= Self.maximumDepth else {
            throw .malformedExpression(key: key, reason: "expressions nest deeper than \(Self.maximumDepth) levels")
        }
        var output = String.UnicodeScalarView()
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            guard scalar == "$", index + 1 < scalars.endIndex else {
                output.append(scalar)
                index += 1
                continue
            }
            if scalars[index + 1] == "$", index + 2 < scalars.endIndex, scalars[index + 2] == "{" {
                output.append(contentsOf: "${".unicodeScalars)
                index += 3
                continue
            }
            guard scalars[index + 1] == "{" else {
                output.append(scalar)
                index += 1
                continue
            }
            let bodyStart = index + 2
            guard let close = matchingBrace(in: scalars, from: bodyStart) else {
                throw .malformedExpression(
                    key: key, reason: "an expression ${… is not closed with }; for a literal ${ write $${")
            }
            let body = scalars[bodyStart..<close]
            let separator = topLevelColon(in: body)
            let name = String(String.UnicodeScalarView(body[body.startIndex..<(separator ?? body.endIndex)]))
            let fallback = separator.map { body[($0 + 1)..<body.endIndex] }
            output.append(contentsOf: try resolve(name, fallback: fallback, key: key, resolving: resolving).unicodeScalars)
            index = close + 1
        }
        return String(output)
    }

    private func resolve(
        _ name: String, fallback: ArraySlice<Unicode.Scalar>?, key: String, resolving: [String]
    ) throws(DebeziumConfigError) -> String {
        guard !name.isEmpty else {
            throw .malformedExpression(key: key, reason: "an expression ${} names nothing; for a literal ${ write $${")
        }
        guard !resolving.contains(name) else {
            throw .malformedExpression(key: key, reason: "the expression ${\(name)} refers back to itself")
        }
        if let value = properties[name], !value.isEmpty {
            return try expand(Array(value.unicodeScalars)[...], key: key, resolving: resolving + [name])
        }
        if let value = environmentValue(for: name) {
            return value
        }
        if let fallback {
            return try expand(fallback, key: key, resolving: resolving + [name])
        }
        throw .unresolvedExpression(key: key, expression: "${\(name)}")
    }

    private func environmentValue(for name: String) -> String? {
        let underscored = String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            // SmallRye keeps what Java's Character.isLetterOrDigit accepts.
            scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal ? scalar : "_"
        }))
        for candidate in [name, underscored, underscored.uppercased()] {
            if let value = environment[candidate], !value.isEmpty { return value }
        }
        return nil
    }

    /// The index of the `}` that closes an expression whose body starts at `start`, counting nested `${`.
    private func matchingBrace(in scalars: ArraySlice<Unicode.Scalar>, from start: Int) -> Int? {
        var depth = 0
        var index = start
        while index < scalars.endIndex {
            if scalars[index] == "$", index + 1 < scalars.endIndex, scalars[index + 1] == "{" {
                depth += 1
                index += 2
                continue
            }
            if scalars[index] == "}" {
                if depth == 0 { return index }
                depth -= 1
            }
            index += 1
        }
        return nil
    }

    /// The first `:` of an expression body outside nested expressions: where the default starts.
    private func topLevelColon(in body: ArraySlice<Unicode.Scalar>) -> Int? {
        var depth = 0
        var index = body.startIndex
        while index < body.endIndex {
            if body[index] == "$", index + 1 < body.endIndex, body[index + 1] == "{" {
                depth += 1
                index += 2
                continue
            }
            if body[index] == "}" { depth -= 1 }
            if body[index] == ":" && depth == 0 { return index }
            index += 1
        }
        return nil
    }
}
