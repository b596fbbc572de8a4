import DebeziumFormat
import Foundation
import Testing

/// The settings of a connector that publishes change events, read from the configs the goldens ran with.
@Suite("Change event settings")
struct ChangeEventSettingsTests {
    /// A golden case's `connector.properties.used`, as a flat config.
    private func connectorConfig(_ caseName: String) throws -> OrderedConfig {
        let url = try #require(Bundle.module.url(forResource: caseName, withExtension: nil, subdirectory: "Fixtures/goldens"))
        return try JavaProperties.parse(String(contentsOf: url.appendingPathComponent("connector.properties.used"), encoding: .utf8)).entries
    }

    @Test("The seed project's connector: ExtractNewRecordState with its defaults")
    func golangDebeziumOutbox() throws {
        let settings = try ChangeEventSettings(connector: connectorConfig("golang-debezium-outbox"))
        #expect(settings.extractNewRecordState == ExtractNewRecordState())
        #expect(settings.tombstonesOnDelete)
        #expect(settings.valueModes == ColumnValueModes())
    }

    @Test("ExtractNewRecordState's options as unwrap-options set them")
    func unwrapOptions() throws {
        let settings = try ChangeEventSettings(connector: connectorConfig("unwrap-options"))
        let transform = try #require(settings.extractNewRecordState)
        #expect(transform.deleteHandling == .rewrite)
        #expect(transform.addedFields.map(\.name) == ["op", "table", "lsn", "source.ts_ms"])
        #expect(transform.addedHeaders.map(\.name) == ["db", "op"])
        #expect(transform.addedFieldsPrefix == "__" && transform.addedHeadersPrefix == "__")
    }

    @Test("Plain change events: no transform, the modes and operations as set")
    func plainChangeEvents() throws {
        #expect(try ChangeEventSettings(connector: connectorConfig("change-types-schemas")).extractNewRecordState == nil)
        #expect(try ChangeEventSettings(connector: connectorConfig("change-types-decimal-string")).valueModes.decimal == .string)
        #expect(try ChangeEventSettings(connector: connectorConfig("change-types-time-connect")).valueModes.time == .connect)
        #expect(try ChangeEventSettings(connector: connectorConfig("change-tombstones-off")).tombstonesOnDelete == false)
    }

    /// Debezium 3.6.3 reads and ignores the keys before delete.tombstone.handling.mode (unwrap-legacy-*).
    @Test func theOlderDeleteKeysAreIgnoredWithAWarning() throws {
        let lines = "transforms=unwrap\ntransforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\n"
            + "transforms.unwrap.delete.handling.mode=rewrite\ntransforms.unwrap.drop.tombstones=false"
        let settings = try ChangeEventSettings(connector: JavaProperties.parse(lines).entries)
        #expect(settings.extractNewRecordState?.deleteHandling == .tombstone)
        #expect(settings.warnings.count == 1)
        #expect(settings.warnings.first?.contains("transforms.unwrap.delete.handling.mode, transforms.unwrap.drop.tombstones") == true)
    }

    @Test("What would change the records in a way not reproduced is refused, naming the key", arguments: [
        ("transforms=route\ntransforms.route.type=org.apache.kafka.connect.transforms.RegexRouter", "transforms"),
        ("transforms=unwrap\ntransforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\ntransforms.unwrap.replace.null.with.default=false", "transforms.unwrap.replace.null.with.default"),
        ("transforms=unwrap\ntransforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\ntransforms.unwrap.delete.tombstone.handling.mode=explode", "transforms.unwrap.delete.tombstone.handling.mode"),
        ("message.key.columns=public.items:name", "message.key.columns"),
        ("binary.handling.mode=base64", "binary.handling.mode"),
        ("decimal.handling.mode=exact", "decimal.handling.mode"),
        ("topic.naming.strategy=com.example.MyStrategy", "topic.naming.strategy"),
    ])
    func refusedByKey(_ lines: String, _ key: String) {
        do {
            _ = try ChangeEventSettings(connector: JavaProperties.parse(lines).entries)
            Issue.record("accepted: \(lines)")
        } catch {
            #expect(error.description.contains(key), "\(error.description)")
        }
    }
}
