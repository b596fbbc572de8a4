import DebeziumFormat
import Foundation
import Testing

/// The realistic configuration files under Fixtures/config-files.
enum ConfigFixture {
    static func text(_ name: String) throws -> String {
        let url = try #require(
            Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/config-files"),
            "fixture \(name) is missing from the test bundle")
        return try String(contentsOf: url, encoding: .utf8)
    }
}

/// The `DebeziumConfigError` that `body` throws; records an issue when it throws none or another error.
func configError<T>(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
) -> DebeziumConfigError? {
    do {
        _ = try body()
        Issue.record("expected a DebeziumConfigError, got a result", sourceLocation: sourceLocation)
        return nil
    } catch let error as DebeziumConfigError {
        return error
    } catch {
        Issue.record("expected a DebeziumConfigError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Every way a value can be printed: description, debug description, and `dump`'s reflection.
func allRenderings(of value: Any) -> String {
    var dumped = ""
    dump(value, to: &dumped)
    return [String(describing: value), String(reflecting: value), dumped].joined(separator: "\n")
}

/// Records an issue for each secret that appears in `text`.
func expectNoSecrets(_ text: String, _ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for secret in secrets {
        #expect(!text.contains(secret), "a secret leaked into: \(text)", sourceLocation: sourceLocation)
    }
}

extension JavaProperties {
    /// The entries as ordered pairs, for compact expectations.
    var pairs: [String] { entries.map { "\($0.key)=\($0.value)" } }
}
