import DebeziumFormat
import Testing

private func mapped(_ producer: OrderedConfig) throws(DebeziumConfigError) -> LibrdkafkaProducerConfig {
    try LibrdkafkaProducerConfig(javaProducer: producer)
}

private func mappingError(_ producer: OrderedConfig, sourceLocation: SourceLocation = #_sourceLocation) -> DebeziumConfigError? {
    configError(sourceLocation: sourceLocation) { try mapped(producer) }
}

@Suite("Kafka Java producer properties to librdkafka")
struct LibrdkafkaProducerConfigTests {
    // MARK: Fixtures

    @Test func kafkaConnectJSONFixture() throws {
        let file = try DebeziumConfigFile.parse(try ConfigFixture.text("kafka-connect-orders-outbox.json"))
        let config = try LibrdkafkaProducerConfig(file)
        #expect(config.properties == [
            "bootstrap.servers": "broker-1.kafka:9093,broker-2.kafka:9093",
            "security.protocol": "sasl_ssl",
            "sasl.mechanisms": "SCRAM-SHA-512",
            "sasl.username": "orders-cdc",
            "sasl.password": "kafka-Pa55w0rd",
            "acks": "all",
            "enable.idempotence": "true",
            "compression.type": "lz4",
            "linger.ms": "5",
            "message.timeout.ms": "120000",
            "max.in.flight.requests.per.connection": "1",
        ])
        #expect(config.unmappedKeys == ["producer.override.interceptor.classes"])
        expectNoSecrets(allRenderings(of: config), ["kafka-Pa55w0rd"])
    }

    @Test func kafkaConnectPropertiesFixture() throws {
        let file = try DebeziumConfigFile.parse(try ConfigFixture.text("connect-standalone-inventory-outbox.properties"))
        let config = try LibrdkafkaProducerConfig(file)
        #expect(config.properties == [
            "security.protocol": "ssl",
            "ssl.ca.location": "/etc/kafka/tls/ca.pem",
            "compression.type": "zstd",
            "queue.buffering.max.kbytes": "32768",
        ])
        #expect(config.unmappedKeys.isEmpty)
    }

    @Test func debeziumServerFixture() throws {
        let file = try DebeziumConfigFile.parse(
            try ConfigFixture.text("debezium-server-shop-outbox.properties"),
            environment: ["DB_PASSWORD": "pg-Secr3t!", "KAFKA_USER": "shop-cdc", "KAFKA_PASSWORD": "kafka-Secr3t!"])
        let config = try LibrdkafkaProducerConfig(file)
        // The String serializers are dropped: the record bytes come from debezium.format.*.
        #expect(config.properties == [
            "bootstrap.servers": "kafka-0.kafka:9092",
            "security.protocol": "sasl_ssl",
            "sasl.mechanisms": "PLAIN",
            "sasl.username": "shop-cdc",
            "sasl.password": "kafka-Secr3t!",
        ])
        #expect(config.unmappedKeys.isEmpty)
    }

    // MARK: Plain mappings

    @Test func sameNameAndRenamedKeys() throws {
        let config = try mapped([
            "client.id": "relay", "retries": "5", "request.timeout.ms": "30000", "batch.size": "65536",
            "retry.backoff.ms": "100", "max.request.size": "2097152", "delivery.timeout.ms": "60000",
            "client.dns.lookup": "use_all_dns_ips", "metadata.max.age.ms": "60000",
            "ssl.endpoint.identification.algorithm": "", "sasl.kerberos.service.name": "kafka",
        ])
        #expect(config.properties == [
            "client.id": "relay", "retries": "5", "request.timeout.ms": "30000", "batch.size": "65536",
            "retry.backoff.ms": "100", "message.max.bytes": "2097152", "message.timeout.ms": "60000",
            "client.dns.lookup": "use_all_dns_ips", "metadata.max.age.ms": "60000",
            "ssl.endpoint.identification.algorithm": "none", "sasl.kerberos.service.name": "kafka",
        ])
        #expect(config.unmappedKeys.isEmpty)
    }

    @Test func bufferSizesAreConverted() throws {
        #expect(try mapped(["buffer.memory": "1000"]).properties == ["queue.buffering.max.kbytes": "1"])
        #expect(try mapped(["buffer.memory": "2048"]).properties == ["queue.buffering.max.kbytes": "2"])
        #expect(try mapped(["send.buffer.bytes": "-1", "receive.buffer.bytes": "131072"]).properties
            == ["socket.send.buffer.bytes": "0", "socket.receive.buffer.bytes": "131072"])
        #expect(mappingError(["buffer.memory": "32MB"]) == .invalidValue(
            key: "buffer.memory", value: "32MB", expected: "an integer from 0 to \(Int64.max)"))
        #expect(mappingError(["send.buffer.bytes": "-2"])?.key == "send.buffer.bytes")
    }

    @Test(arguments: ["PLAINTEXT", "SSL", "sasl_plaintext", "Sasl_Ssl"])
    func securityProtocolsAreLowerCased(_ name: String) throws {
        #expect(try mapped(["security.protocol": name]).properties == ["security.protocol": name.lowercased()])
    }

    @Test func anUnknownSecurityProtocolIsAnError() {
        #expect(mappingError(["security.protocol": "TLS"])?.key == "security.protocol")
    }

    @Test func serializersAreDroppedSilentlyAndUnknownKeysListed() throws {
        let file = DebeziumConfigFile(form: .debeziumServer, producer: [
            "key.serializer": "org.apache.kafka.common.serialization.StringSerializer",
            "value.serializer": "org.apache.kafka.common.serialization.StringSerializer",
            "partitioner.class": "org.example.CustomPartitioner",
            "ssl.cipher.suites": "TLS_AES_256_GCM_SHA384",
            "acks": "1",
        ])
        let config = try LibrdkafkaProducerConfig(file)
        #expect(config.properties == ["acks": "1"])
        #expect(config.unmappedKeys == [
            "debezium.sink.kafka.producer.partitioner.class", "debezium.sink.kafka.producer.ssl.cipher.suites",
        ])
    }

    @Test func librdkafkaKeysAlreadyInTheFilePassThrough() throws {
        let config = try mapped(["ssl.ca.location": "/ca.pem", "sasl.username": "u", "sasl.mechanisms": "PLAIN"])
        #expect(config.properties == ["ssl.ca.location": "/ca.pem", "sasl.username": "u", "sasl.mechanisms": "PLAIN"])
    }

    // MARK: SASL JAAS

    @Test func plainAndScramJAASBecomeUsernameAndPassword() throws {
        for module in [
            "org.apache.kafka.common.security.plain.PlainLoginModule",
            "org.apache.kafka.common.security.scram.ScramLoginModule",
        ] {
            let config = try mapped(["sasl.jaas.config": "\(module) required username=\"alice\" password=\"p@ss w0rd;\";"])
            #expect(config.properties == ["sasl.username": "alice", "sasl.password": "p@ss w0rd;"])
        }
    }

    @Test func jaasQuotingEscapesCommentsAndUnquotedValues() throws {
        let jaas = """
            /* client login */ org.apache.kafka.common.security.plain.PlainLoginModule Required
              username=svc_user-1  // unquoted word
              password='it\\'s \\"q\\" \\\\ \\101\\t'
            """
        let config = try mapped(["sasl.jaas.config": jaas])
        #expect(config.properties == ["sasl.username": "svc_user-1", "sasl.password": "it's \"q\" \\ A\t"])
    }

    @Test func oauthClientCredentialsBecomeOIDC() throws {
        let config = try mapped([
            "sasl.mechanism": "OAUTHBEARER",
            "sasl.oauthbearer.token.endpoint.url": "https://idp.example/oauth2/token",
            "sasl.jaas.config": """
                org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="relay" \
                clientSecret="oauth-Secr3t" scope="kafka" extension_logicalCluster="lkc-1" extension_identityPoolId="pool-2";
                """,
        ])
        #expect(config.properties == [
            "sasl.mechanisms": "OAUTHBEARER",
            "sasl.oauthbearer.token.endpoint.url": "https://idp.example/oauth2/token",
            "sasl.oauthbearer.method": "oidc",
            "sasl.oauthbearer.client.id": "relay",
            "sasl.oauthbearer.client.secret": "oauth-Secr3t",
            "sasl.oauthbearer.scope": "kafka",
            "sasl.oauthbearer.extensions": "identityPoolId=pool-2,logicalCluster=lkc-1",
        ])
        expectNoSecrets(allRenderings(of: config), ["oauth-Secr3t"])
    }

    @Test func kerberosKeytabMaps() throws {
        let config = try mapped([
            "sasl.jaas.config": """
                com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true \
                keyTab="/etc/security/relay.keytab" principal="relay@EXAMPLE.COM";
                """,
        ])
        #expect(config.properties == [
            "sasl.kerberos.principal": "relay@EXAMPLE.COM", "sasl.kerberos.keytab": "/etc/security/relay.keytab",
        ])
    }

    @Test(arguments: [
        // Missing password.
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\";",
        // Unknown control flag.
        "org.apache.kafka.common.security.plain.PlainLoginModule mandatory username=\"u\" password=\"Jaas-Secr3t\";",
        // Two modules.
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"Jaas-Secr3t\"; x.Y required;",
        // Unterminated quote.
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"Jaas-Secr3t",
        // Value without '='.
        "org.apache.kafka.common.security.plain.PlainLoginModule required password \"Jaas-Secr3t\";",
        // An unsupported module.
        "org.example.CustomLoginModule required password=\"Jaas-Secr3t\";",
        // OAuth without client credentials.
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"Jaas-Secr3t\";",
        // Characters outside quotes that JAAS does not allow.
        "org.apache.kafka.common.security.plain.PlainLoginModule required password=Jaas-Secr3t@x;",
        "",
    ])
    func anUnusableJAASEntryIsAnErrorThatNeverShowsThePassword(_ jaas: String) {
        let file = DebeziumConfigFile(form: .kafkaConnectJSON, producer: ["sasl.jaas.config": jaas])
        let error = configError { try LibrdkafkaProducerConfig(file) }
        guard case .unsupportedProducerSetting(let key, _) = error else {
            Issue.record("expected unsupportedProducerSetting for \(jaas), got \(String(describing: error))")
            return
        }
        #expect(key == "producer.override.sasl.jaas.config")
        expectNoSecrets(error?.description ?? "", ["Jaas-Secr3t"])
        expectNoSecrets(String(reflecting: error as Any), ["Jaas-Secr3t"])
    }

    // MARK: Key stores

    @Test func aJKSTruststoreIsAnErrorSuggestingPEM() {
        for producer: OrderedConfig in [
            ["ssl.truststore.location": "/etc/kafka/truststore.jks", "ssl.truststore.password": "Trust-Secr3t"],
            ["ssl.truststore.type": "PKCS12", "ssl.truststore.location": "/etc/kafka/truststore.p12"],
        ] {
            let error = mappingError(producer)
            #expect(error?.key == "ssl.truststore.location")
            #expect(error?.description.contains("ssl.ca.location") == true)
            expectNoSecrets(error?.description ?? "", ["Trust-Secr3t"])
        }
    }

    @Test func pemTrustMaterialMaps() throws {
        #expect(try mapped(["ssl.truststore.type": "pem", "ssl.truststore.location": "/ca.pem", "ssl.truststore.password": "x"])
            .properties == ["ssl.ca.location": "/ca.pem"])
        #expect(try mapped(["ssl.truststore.certificates": "-----BEGIN CERTIFICATE-----"]).properties
            == ["ssl.ca.pem": "-----BEGIN CERTIFICATE-----"])
    }

    @Test func keystoresMapByType() throws {
        #expect(try mapped([
            "ssl.keystore.type": "PKCS12", "ssl.keystore.location": "/client.p12", "ssl.keystore.password": "Store-Secr3t",
        ]).properties == ["ssl.keystore.location": "/client.p12", "ssl.keystore.password": "Store-Secr3t"])
        #expect(try mapped([
            "ssl.keystore.type": "PEM", "ssl.keystore.location": "/client.pem", "ssl.key.password": "Key-Secr3t",
        ]).properties == ["ssl.certificate.location": "/client.pem", "ssl.key.location": "/client.pem", "ssl.key.password": "Key-Secr3t"])
        #expect(try mapped(["ssl.keystore.key": "-----BEGIN PRIVATE KEY-----", "ssl.keystore.certificate.chain": "-----BEGIN CERT"])
            .properties == ["ssl.key.pem": "-----BEGIN PRIVATE KEY-----", "ssl.certificate.pem": "-----BEGIN CERT"])
    }

    @Test func aJKSKeystoreIsAnError() {
        let error = mappingError(["ssl.keystore.location": "/client.jks", "ssl.keystore.password": "Store-Secr3t"])
        #expect(error?.key == "ssl.keystore.location")
        #expect(error?.description.contains("PKCS12") == true)
        expectNoSecrets(error?.description ?? "", ["Store-Secr3t"])
    }

    @Test func printingTheMappingRedactsEverySecret() throws {
        let config = try mapped([
            "sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"Sasl-Secr3t\";",
            "ssl.key.password": "Key-Secr3t", "ssl.keystore.type": "PKCS12", "ssl.keystore.location": "/k.p12",
            "ssl.keystore.password": "Store-Secr3t", "bootstrap.servers": "b:9092",
        ])
        let rendered = allRenderings(of: config)
        expectNoSecrets(rendered, ["Sasl-Secr3t", "Key-Secr3t", "Store-Secr3t"])
        #expect(rendered.contains("b:9092"))
        #expect(config.properties["sasl.password"] == "Sasl-Secr3t")
    }
}
