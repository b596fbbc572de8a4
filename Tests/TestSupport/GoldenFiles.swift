/// Helpers for the golden records captured from Debezium (Tests/DebeziumFormatTests/Fixtures/goldens),
/// shared by the pure tests and the end-to-end tests that read them.

/// Bytes from lower- or upper-case hex; nil when the text is not hex.
public func bytes(hex: String) -> [UInt8]? {
    var result: [UInt8] = []
    result.reserveCapacity(hex.utf8.count / 2)
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
        guard let byte = UInt8(hex[index ..< next], radix: 16) else { return nil }
        result.append(byte)
        index = next
    }
    return result
}

/// The shell assignments of a case's `case.env` (`NAME=value` or `NAME="value"`, `#` comments).
public func caseEnvironment(_ text: String) -> [String: String] {
    var environment: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let equals = line.firstIndex(of: "=") else { continue }
        var value = String(line[line.index(after: equals)...])
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        environment[String(line[..<equals])] = value
    }
    return environment
}
