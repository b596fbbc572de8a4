@testable import DebeziumFormat
import Testing

@Suite("OrderedConfig, secrets and internals")
struct OrderedConfigTests {
    @Test func settingAnExistingKeyKeepsItsPosition() {
        var config: OrderedConfig = ["a": "1", "b": "2"]
        config["a"] = "3"
        config["c"] = "4"
        #expect(config.keys == ["a", "b", "c"])
        #expect(config.entries.map(\.value) == ["3", "2", "4"])
        #expect(config.count == 3)
    }

    @Test func removingAKey() {
        var config: OrderedConfig = ["a": "1", "b": "2", "c": "3"]
        config["b"] = nil
        config["missing"] = nil
        #expect(config.keys == ["a", "c"])
        #expect(config["b"] == nil)
        #expect(!config.contains("b"))
        config["b"] = "again"
        #expect(config.keys == ["a", "c", "b"])
    }

    @Test func equalityDependsOnOrder() {
        let forward: OrderedConfig = ["a": "1", "b": "2"]
        let backward: OrderedConfig = ["b": "2", "a": "1"]
        #expect(forward != backward)
        #expect(forward == OrderedConfig([("a", "1"), ("b", "2")]))
        #expect(OrderedConfig([("a", "1"), ("a", "2")]) == ["a": "2"])
    }

    @Test func subsetRemovesThePrefix() {
        let config: OrderedConfig = [
            "value.converter": "Json", "value.converter.schemas.enable": "false", "value.converter.": "empty",
            "key.converter.x": "1", "value.converter.a.b": "2",
        ]
        #expect(config.subset(withPrefix: "value.converter.") == ["schemas.enable": "false", "a.b": "2"])
    }

    @Test func iterationFollowsOrder() {
        let config: OrderedConfig = ["z": "1", "a": "2"]
        #expect(config.map(\.key) == ["z", "a"])
        #expect(OrderedConfig().isEmpty)
    }

    @Test func descriptionsRedactSensitiveKeys() {
        let config: OrderedConfig = [
            "database.password": "Pw-Secret-1", "debezium.source.database.sslpassword": "Pw-Secret-2",
            "sasl.jaas.config": "x required password=\"Pw-Secret-3\";", "sasl.oauthbearer.client.secret": "Pw-Secret-4",
            "ssl.key.pem": "Pw-Secret-5", "database.hostname": "visible-host",
        ]
        let rendered = allRenderings(of: config)
        expectNoSecrets(rendered, ["Pw-Secret-1", "Pw-Secret-2", "Pw-Secret-3", "Pw-Secret-4", "Pw-Secret-5"])
        #expect(rendered.contains("visible-host"))
        #expect(config.description.hasPrefix("[database.password: [redacted], "))
    }

    @Test(arguments: [
        ("database.password", true), ("DATABASE.PASSWORD", true), ("producer.override.sasl.jaas.config", true),
        ("ssl.keystore.password", true), ("sasl.oauthbearer.client.secret", true), ("ssl.keystore.key", true),
        ("database.hostname", false), ("ssl.key.location", false), ("ssl.keystore.location", false),
        ("sasl.username", false),
    ])
    func sensitiveKeys(_ key: String, _ sensitive: Bool) {
        #expect(SensitiveKeys.isSensitive(key) == sensitive)
    }

    @Test func secretStringHidesItselfEverywhere() {
        let secret = SecretString("Pw-Secret-9")
        struct Holder { var password: SecretString }
        expectNoSecrets(allRenderings(of: Holder(password: secret)), ["Pw-Secret-9"])
        #expect(secret.value == "Pw-Secret-9")
        #expect(secret == SecretString("Pw-Secret-9"))
    }

    @Test func theInvalidValueFactoryKeepsASecretOutOfTheErrorItself() {
        let error = DebeziumConfigError.invalid(key: "database.password", value: "Pw-Secret-7", expected: "x")
        #expect(error == .invalidValue(key: "database.password", value: "[redacted]", expected: "x"))
        expectNoSecrets(String(reflecting: error), ["Pw-Secret-7"])
        let plain = DebeziumConfigError.invalid(key: "database.port", value: "abc", expected: "x")
        #expect(plain == .invalidValue(key: "database.port", value: "abc", expected: "x"))
    }

    @Test func errorKeys() {
        #expect(DebeziumConfigError.malformedUnicodeEscape(line: 3).key == nil)
        #expect(DebeziumConfigError.unrecognizedForm(attempts: []).key == nil)
        #expect(DebeziumConfigError.multipleEventRouters(key: "transforms", names: ["a", "b"]).key == "transforms")
        #expect(DebeziumConfigError.unsupportedSink(key: "debezium.sink.type", value: "http").key == "debezium.sink.type")
    }

    @Test func environmentNamesFollowSmallRye() throws {
        let expressions = QuarkusExpressions(
            properties: [:], environment: ["my_prop_name": "lower", "OTHER_PROP": "upper", "exact.name": "exact"])
        #expect(try expressions.expand("${my.prop-name}", key: "k") == "lower")
        #expect(try expressions.expand("${other.prop}", key: "k") == "upper")
        #expect(try expressions.expand("${exact.name}", key: "k") == "exact")
    }

    @Test func expressionNestingIsBounded() {
        let deep = String(repeating: "${a:", count: 200) + "x" + String(repeating: "}", count: 200)
        let expressions = QuarkusExpressions(properties: [:], environment: [:])
        #expect(throws: DebeziumConfigError.self) { try expressions.expand(deep, key: "k") }
    }

    @Test func jaasTokensFollowStreamTokenizer() throws {
        let module = try JAASLoginModule.parse(
            "a.b.C optional k1=v1 k2=\"two words\" k3='x' /* c */ k4=$dollar_word-1 // tail").get()
        #expect(module == JAASLoginModule(
            moduleClass: "a.b.C", controlFlag: "optional",
            options: ["k1": "v1", "k2": "two words", "k3": "x", "k4": "$dollar_word-1"]))
    }
}
