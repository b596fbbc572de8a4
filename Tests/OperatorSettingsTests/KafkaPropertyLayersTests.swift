import OperatorSettings
import Testing

@Suite("Kafka properties resolved per property across layers")
struct KafkaPropertyLayersTests {
    /// The Kubernetes example's variable, then one flag: the flag adds its property and keeps the others.
    @Test func oneFlagKeepsTheEnvironmentsOtherProperties() {
        var layers = KafkaPropertyLayers()
        layers.set([("security.protocol", "SASL_SSL"), ("sasl.username", "outbox-cdc"), ("ssl.ca.location", "/ca.crt")], in: .environment)
        layers.set([("linger.ms", "5")], in: .flag)
        #expect(layers.properties == [
            "security.protocol": "SASL_SSL", "sasl.username": "outbox-cdc", "ssl.ca.location": "/ca.crt", "linger.ms": "5",
        ])
    }

    @Test func flagOverEnvironmentOverConfigFileOverDebeziumWhateverTheOrderOfSetting() {
        var layers = KafkaPropertyLayers()
        layers.set("acks", to: "flag", in: .flag)
        layers.set("acks", to: "environment", in: .environment)
        layers.set("acks", to: "file", in: .configFile)
        layers.set("linger.ms", to: "debezium", in: .debeziumConfig)
        layers.set("linger.ms", to: "file", in: .configFile)
        layers.set("client.id", to: "debezium", in: .debeziumConfig)
        #expect(layers.properties == ["acks": "flag", "linger.ms": "file", "client.id": "debezium"])
        #expect(layers.settings["acks"]?.layer == .flag)
        #expect(layers.settings["linger.ms"]?.layer == .configFile)
    }

    @Test func secretFilesMergePerPropertyToo() {
        var layers = KafkaPropertyLayers()
        layers.set("sasl.password", to: "from-env-file", in: .environment, fromSecretFile: true)
        layers.set("ssl.key.password", to: "from-env-file", in: .environment, fromSecretFile: true)
        layers.set("ssl.key.password", to: "from-flag-file", in: .flag, fromSecretFile: true)
        #expect(layers.properties == ["sasl.password": "from-env-file", "ssl.key.password": "from-flag-file"])
    }

    @Test func inOneLayerASecretFileWinsOverAPlainPropertyButAHigherLayerWinsOverBoth() {
        var layers = KafkaPropertyLayers()
        layers.set("sasl.password", to: "file", in: .environment, fromSecretFile: true)
        layers.set("sasl.password", to: "plain", in: .environment)
        #expect(layers.properties["sasl.password"] == "file")
        layers.set("sasl.password", to: "flag", in: .flag)
        #expect(layers.properties["sasl.password"] == "flag")
        #expect(layers.settings["sasl.password"]?.isFromSecretFile == false)
    }

    @Test func withinOneLayerAndKindTheLastWins() {
        var layers = KafkaPropertyLayers()
        layers.set([("linger.ms", "1"), ("linger.ms", "2")], in: .flag)
        #expect(layers.properties["linger.ms"] == "2")
    }

    @Test func applyingOtherLayersFollowsTheSameRule() {
        var debezium = KafkaPropertyLayers()
        debezium.set([("compression.type", "zstd"), ("linger.ms", "7"), ("acks", "1")], in: .debeziumConfig)
        var overrides = KafkaPropertyLayers()
        overrides.set("linger.ms", to: "3", in: .environment)
        overrides.set("compression.type", to: "lz4", in: .flag)
        debezium.apply(overrides)
        #expect(debezium.properties == ["compression.type": "lz4", "linger.ms": "3", "acks": "1"])
    }

    @Test func theStartLogNamesEachSourceAndRedactsSecrets() {
        var layers = KafkaPropertyLayers()
        layers.set("linger.ms", to: "5", in: .flag)
        layers.set("security.protocol", to: "SASL_SSL", in: .environment)
        layers.set("compression.type", to: "lz4", in: .configFile)
        layers.set("acks", to: "1", in: .debeziumConfig)
        layers.set("sasl.password", to: "plain-but-sensitive", in: .environment)
        layers.set("ssl.certificate.pem", to: "not-named-secret-but-from-a-file", in: .flag, fromSecretFile: true)
        let described = layers.described(isSensitive: { $0.contains("password") })
        #expect(described == [
            .init(property: "acks", shownValue: "1", source: "debezium config"),
            .init(property: "compression.type", shownValue: "lz4", source: "config file"),
            .init(property: "linger.ms", shownValue: "5", source: "flag"),
            .init(property: "sasl.password", shownValue: "[redacted]", source: "environment"),
            .init(property: "security.protocol", shownValue: "SASL_SSL", source: "environment"),
            .init(property: "ssl.certificate.pem", shownValue: "[redacted]", source: "secret file"),
        ])
    }
}
