import DebeziumFormat
import Testing

@Suite("Reading the three configuration file forms")
struct DebeziumConfigFileTests {
    // MARK: Kafka Connect REST JSON

    @Test func kafkaConnectJSONFixture() throws {
        let file = try DebeziumConfigFile.parse(try ConfigFixture.text("kafka-connect-orders-outbox.json"))
        #expect(file.form == .kafkaConnectJSON)
        #expect(file.name == "orders-outbox-connector")
        #expect(file.serverFormat == nil)
        // The `tasks` and `type` members of a GET /connectors/<name> answer are not worth a note.
        #expect(file.notes.isEmpty)
        #expect(file.connector.count == 39)
        #expect(file.connector.keys.prefix(4) == ["connector.class", "tasks.max", "database.hostname", "database.port"])
        #expect(file.connector["connector.class"] == "io.debezium.connector.postgresql.PostgresConnector")
        // Numbers and booleans become the strings Kafka Connect makes of them.
        #expect(file.connector["database.port"] == "5433")
        #expect(file.connector["heartbeat.interval.ms"] == "30000")
        #expect(file.connector["tombstones.on.delete"] == "false")
        #expect(file.connector["value.converter.schemas.enable"] == "false")
        #expect(file.connector["transforms.outbox.table.expand.json.payload"] == "true")
        #expect(file.connector["database.password"] == "s3cr3t-Pa55")
        // The EventRouter's own placeholder is not a config provider reference and is kept as written.
        #expect(file.connector["transforms.outbox.route.topic.replacement"] == "${routedByValue}.events")
        // Converter keys stay in the connector config; producer overrides leave it.
        #expect(file.connector["key.converter"] == "org.apache.kafka.connect.storage.StringConverter")
        #expect(!file.connector.keys.contains { $0.hasPrefix("producer.override.") })
        #expect(file.producer == [
            "bootstrap.servers": "broker-1.kafka:9093,broker-2.kafka:9093",
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"orders-cdc\" password=\"kafka-Pa55w0rd\";",
            "acks": "all",
            "enable.idempotence": "true",
            "compression.type": "lz4",
            "linger.ms": "5",
            "delivery.timeout.ms": "120000",
            "max.in.flight.requests.per.connection": "1",
            "key.serializer": "org.apache.kafka.common.serialization.ByteArraySerializer",
            "interceptor.classes": "io.opentracing.contrib.kafka.TracingProducerInterceptor",
        ])
        #expect(file.brokers == "broker-1.kafka:9093,broker-2.kafka:9093")
        #expect(file.fileKey(forConnectorKey: "database.port") == "database.port")
        #expect(file.fileKey(forProducerKey: "acks") == "producer.override.acks")
    }

    @Test func bareConnectorConfigJSON() throws {
        let file = try DebeziumConfigFile.parse("""
              {"connector.class": "io.debezium.connector.postgresql.PostgresConnector", "name": "bare",
               "topic.prefix": "t", "producer.override.client.id": "relay-1"}
            """)
        #expect(file.form == .kafkaConnectJSON)
        #expect(file.name == "bare")
        #expect(file.connector == [
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector", "name": "bare", "topic.prefix": "t",
        ])
        #expect(file.producer == ["client.id": "relay-1"])
        #expect(file.brokers == nil)
    }

    @Test func jsonNumbersKeepTheirTextAsWritten() throws {
        let file = try DebeziumConfigFile.parse("""
            {"config": {"a": 1.50, "b": -0, "c": 1e3, "d": 2.5E-3, "e": 10000, "f": true, "g": false}}
            """)
        #expect(file.connector == ["a": "1.50", "b": "-0", "c": "1e3", "d": "2.5E-3", "e": "10000", "f": "true", "g": "false"])
    }

    @Test func jsonStringEscapes() throws {
        let file = try DebeziumConfigFile.parse(#"""
            {"config": {"q": "a\"b\\c\/d", "c": "\t\n\r\b\f", "u": "caf\u00e9 \uD83D\uDE00"}}
            """#)
        #expect(file.connector["q"] == "a\"b\\c/d")
        #expect(file.connector["c"] == "\t\n\r\u{08}\u{0C}")
        #expect(file.connector["u"] == "café 😀")
    }

    @Test func aRepeatedJSONMemberKeepsTheLastValue() throws {
        let file = try DebeziumConfigFile.parse(#"{"config": {"a": "1", "b": "2", "a": "3"}}"#)
        #expect(file.connector.keys == ["a", "b"])
        #expect(file.connector["a"] == "3")
    }

    @Test func theNameComesFromConfigWhenTheBodyHasNone() throws {
        #expect(try DebeziumConfigFile.parse(#"{"config": {"name": "inner"}}"#).name == "inner")
        #expect(try DebeziumConfigFile.parse(#"{"name": "same", "config": {"name": "same"}}"#).name == "same")
    }

    @Test func differentBodyAndConfigNamesAreAnError() {
        let error = configError { try DebeziumConfigFile.parse(#"{"name": "a", "config": {"name": "b"}}"#) }
        #expect(error == .connectorNameMismatch(name: "a", configName: "b"))
        #expect(error?.key == "name")
    }

    @Test func otherTopLevelMembersAreNoted() throws {
        let file = try DebeziumConfigFile.parse(#"{"name": "n", "config": {}, "comment": "x"}"#)
        #expect(file.notes.count == 1)
        #expect(file.notes.first?.contains("\"comment\"") == true)
    }

    @Test(arguments: [
        (#"{"config": {"database.port": null}}"#, "null"),
        (#"{"config": {"database.port": {"value": 5432}}}"#, "an object"),
        (#"{"config": {"database.port": [5432]}}"#, "an array"),
    ])
    func aNonScalarConfigValueIsAnErrorNamingTheKey(_ text: String, _ found: String) {
        let error = configError { try DebeziumConfigFile.parse(text) }
        #expect(error == .jsonValueNotScalar(key: "database.port", found: found))
        #expect(error?.key == "database.port")
        #expect(error?.description.contains("database.port") == true)
    }

    @Test func aNonScalarNameIsAnError() {
        #expect(configError { try DebeziumConfigFile.parse(#"{"name": null, "config": {}}"#) }
            == .jsonValueNotScalar(key: "name", found: "null"))
    }

    @Test func invalidJSONReportsLineAndColumn() {
        let text = "{\n  \"config\": {\n    \"a\": \"1\",\n    \"b\": tru\n  }\n}"
        guard case .invalidJSON(let line, let column, let reason) = configError({ try DebeziumConfigFile.parse(text) })
        else {
            Issue.record("expected invalidJSON")
            return
        }
        #expect(line == 4)
        #expect(column == 13)
        #expect(reason.contains("true"))
    }

    @Test(arguments: [
        "{\"config\": {\"a\": \"1\",}}",  // trailing comma
        "{\"config\": {\"a\": '1'}}",  // single quotes
        "{\"config\": {\"a\": 01}}",  // leading zero
        "{\"config\": {\"a\": \"x\ny\"}}",  // raw control character in a string
        "{\"config\": {\"a\": \"\\x\"}}",  // unknown escape
        "{\"config\": {\"a\": \"\\u12\"}}",  // short \u
        "{\"config\": {\"a\": \"open",  // unterminated string
        "{\"config\": {}} extra",  // trailing content
        "{\"config\": {\"a\": 1.}}",  // no fraction digits
        "{\"config\" {}}",  // missing colon
    ])
    func malformedJSONIsRejected(_ text: String) {
        guard case .invalidJSON = configError({ try DebeziumConfigFile.parse(text) }) else {
            Issue.record("expected invalidJSON for \(text)")
            return
        }
    }

    @Test func deeplyNestedJSONIsRejectedWithoutExhaustingTheStack() {
        let text = "{\"config\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        guard case .invalidJSON(_, _, let reason) = configError({ try DebeziumConfigFile.parse(text) }) else {
            Issue.record("expected invalidJSON")
            return
        }
        #expect(reason.contains("nesting"))
    }

    @Test func aByteOrderMarkIsIgnored() throws {
        let file = try DebeziumConfigFile.parse("\u{FEFF}{\"config\": {\"a\": \"1\"}}")
        #expect(file.connector == ["a": "1"])
        let properties = try DebeziumConfigFile.parse("\u{FEFF}connector.class=x\n")
        #expect(properties.connector.keys == ["connector.class"])
    }

    // MARK: Kafka Connect properties

    @Test func kafkaConnectPropertiesFixture() throws {
        let file = try DebeziumConfigFile.parse(try ConfigFixture.text("connect-standalone-inventory-outbox.properties"))
        #expect(file.form == .kafkaConnectProperties)
        #expect(file.name == "inventory-outbox")
        #expect(file.notes.isEmpty)
        #expect(file.serverFormat == nil)
        #expect(file.connector.keys.first == "name")
        #expect(file.connector["database.hostname"] == "pg.inventory.svc")
        #expect(file.connector["database.password"] == "inv#Secret=42")
        #expect(file.connector["table.include.list"] == "outbox\\.events")
        #expect(file.connector["transforms.router.route.topic.replacement"] == "inventory.${routedByValue}")
        // The value continued on the next line, its indentation dropped.
        #expect(file.connector["transforms.router.table.fields.additional.placement"]
            == "event_type:header:eventType,partition_no:partition")
        #expect(file.connector["timestampConverter.format.datetime"] == "yyyy-MM-dd'T'HH:mm:ss'Z'")
        #expect(file.producer == [
            "security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.location": "/etc/kafka/tls/ca.pem",
            "compression.type": "zstd", "buffer.memory": "33554432",
        ])
        #expect(file.brokers == nil)
    }

    @Test func configProviderReferencesAreNoted() throws {
        let file = try DebeziumConfigFile.parse("""
            connector.class=io.debezium.connector.postgresql.PostgresConnector
            database.password=${file:/opt/secrets/db.properties:password}
            route=${routedByValue}
            producer.override.sasl.jaas.config=${vault:secret/kafka:jaas}
            """)
        #expect(file.notes.count == 1)
        let note = try #require(file.notes.first)
        #expect(note.contains("database.password"))
        #expect(note.contains("producer.override.sasl.jaas.config"))
        #expect(!note.contains("route"))
        #expect(!note.contains("/opt/secrets"))
    }

    @Test func propertiesWithoutAConnectorClassAreNoForm() {
        let error = configError { try DebeziumConfigFile.parse("bootstrap.servers=localhost:9092\nplugin.path=/opt\n") }
        guard case .unrecognizedForm(let attempts) = error else {
            Issue.record("expected unrecognizedForm")
            return
        }
        #expect(attempts.count == 3)
        #expect(attempts.contains { $0.contains("Kafka Connect REST JSON") })
        #expect(attempts.contains { $0.contains("Debezium Server") })
        #expect(attempts.contains { $0.contains("connector.class") })
        #expect(error?.description.contains("tried") == true)
    }

    @Test func emptyTextIsNoForm() {
        guard case .unrecognizedForm(let attempts) = configError({ try DebeziumConfigFile.parse("  \n# nothing\n") }) else {
            Issue.record("expected unrecognizedForm")
            return
        }
        #expect(attempts.last?.contains("no key at all") == true)
    }

    @Test func aJSONObjectWithNeitherConfigNorConnectorClassIsNoForm() {
        guard case .unrecognizedForm(let attempts) = configError({ try DebeziumConfigFile.parse(#"{"name": "x"}"#) }) else {
            Issue.record("expected unrecognizedForm")
            return
        }
        #expect(attempts.count == 2)
        #expect(attempts.contains { $0.contains("\"config\"") })
        #expect(attempts.contains { $0.contains("connector.class") })
    }

    @Test func aConfigMemberThatIsNotAnObjectIsNoForm() {
        guard case .unrecognizedForm(let attempts) = configError({ try DebeziumConfigFile.parse(#"{"config": "x"}"#) })
        else {
            Issue.record("expected unrecognizedForm")
            return
        }
        #expect(attempts.first?.contains("a string") == true)
    }

    @Test func malformedPropertiesAreReportedAsSuch() {
        #expect(configError { try DebeziumConfigFile.parse("connector.class=x\nname=\\u00\n") } == .malformedUnicodeEscape(line: 2))
    }

    // MARK: Debezium Server

    private static let serverEnvironment = [
        "DB_HOST": "shop-db.prod.internal",
        "DB_PASSWORD": "pg-Secr3t!",
        "KAFKA_USER": "shop-cdc",
        "KAFKA_PASSWORD": "kafka-Secr3t!",
    ]

    @Test func debeziumServerFixture() throws {
        let file = try DebeziumConfigFile.parse(
            try ConfigFixture.text("debezium-server-shop-outbox.properties"), environment: Self.serverEnvironment)
        #expect(file.form == .debeziumServer)
        #expect(file.name == nil)
        #expect(file.connector == [
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "offset.storage.file.filename": "data/offsets.dat",
            "offset.flush.interval.ms": "0",
            "database.hostname": "shop-db.prod.internal",
            "database.port": "5432",
            "database.user": "debezium",
            "database.password": "pg-Secr3t!",
            "database.dbname": "shop",
            "database.sslmode": "verify-full",
            "database.sslrootcert": "/etc/ssl/certs/rds-ca.pem",
            "topic.prefix": "shop",
            "plugin.name": "pgoutput",
            "slot.name": "shop_outbox",
            "table.include.list": "public.outbox",
            "snapshot.mode": "never",
            "schema.history.internal": "io.debezium.storage.file.history.FileSchemaHistory",
            "schema.history.internal.file.filename": "data/history.dat",
            "transforms": "outbox",
            "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
            "transforms.outbox.route.topic.replacement": "outbox.${routedByValue}.events",
            "transforms.outbox.table.field.event.key": "aggregateid",
            "transforms.outbox.table.fields.additional.placement": "type:header:eventType",
        ])
        #expect(file.producer == [
            "bootstrap.servers": "kafka-0.kafka:9092",
            "key.serializer": "org.apache.kafka.common.serialization.StringSerializer",
            "value.serializer": "org.apache.kafka.common.serialization.StringSerializer",
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "PLAIN",
            "sasl.jaas.config":
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"shop-cdc\" password=\"kafka-Secr3t!\";",
        ])
        #expect(file.brokers == "kafka-0.kafka:9092")
        #expect(file.serverFormat == ServerFormat(
            key: "json", value: "json", header: nil, keyOptions: ["schemas.enable": "false"],
            valueOptions: ["schemas.enable": "false"]))
        #expect(file.notes.count == 3)
        #expect(file.notes.contains { $0.contains("debezium.sink.kafka.wait.message.delivery.timeout.ms") })
        #expect(file.notes.contains { $0.contains("%dev.debezium.source.database.hostname") })
        #expect(file.notes.contains { $0.contains("%dev.quarkus.log.level") })
        #expect(!file.notes.contains { $0.contains("quarkus.http.port") })
        #expect(file.fileKey(forConnectorKey: "database.port") == "debezium.source.database.port")
        #expect(file.fileKey(forConnectorKey: "transforms.outbox.type") == "debezium.transforms.outbox.type")
        #expect(file.fileKey(forConnectorKey: "predicates") == "debezium.predicates")
        #expect(file.fileKey(forProducerKey: "acks") == "debezium.sink.kafka.producer.acks")
    }

    @Test func theEnvironmentOverridesAnExpressionDefault() throws {
        var environment = Self.serverEnvironment
        environment["KAFKA_BOOTSTRAP"] = "broker.prod:9094"
        environment["OUTBOX_KEY_COLUMN"] = "order_id"
        let file = try DebeziumConfigFile.parse(
            try ConfigFixture.text("debezium-server-shop-outbox.properties"), environment: environment)
        #expect(file.brokers == "broker.prod:9094")
        #expect(file.connector["transforms.outbox.table.field.event.key"] == "order_id")
    }

    @Test func aMissingEnvironmentVariableWithoutDefaultIsAnErrorNamingTheKey() throws {
        var environment = Self.serverEnvironment
        environment["DB_PASSWORD"] = nil
        let error = configError {
            try DebeziumConfigFile.parse(try ConfigFixture.text("debezium-server-shop-outbox.properties"), environment: environment)
        }
        #expect(error == .unresolvedExpression(key: "debezium.source.database.password", expression: "${DB_PASSWORD}"))
        #expect(error?.description.contains("debezium.source.database.password") == true)
        #expect(error?.description.contains("${DB_PASSWORD:default}") == true)
    }

    private func server(_ lines: String, environment: [String: String] = [:]) throws(DebeziumConfigError) -> DebeziumConfigFile {
        try DebeziumConfigFile.parse("debezium.sink.type=kafka\n" + lines, environment: environment)
    }

    @Test func doubledDollarIsALiteralExpressionStart() throws {
        let file = try server("""
            debezium.transforms.outbox.route.topic.replacement=$${routedByValue}
            debezium.transforms.outbox.route.topic.regex=(?<routedByValue>.*)$
            debezium.source.a=$$x and $ alone and $${a}$${b}
            """)
        #expect(file.connector["transforms.outbox.route.topic.replacement"] == "${routedByValue}")
        #expect(file.connector["transforms.outbox.route.topic.regex"] == "(?<routedByValue>.*)$")
        #expect(file.connector["a"] == "$$x and $ alone and ${a}${b}")
    }

    @Test func anUnescapedRoutedByValueIsAnErrorThatSuggestsTheEscape() {
        let error = configError { try server("debezium.transforms.outbox.route.topic.replacement=outbox.${routedByValue}") }
        #expect(error == .unresolvedExpression(
            key: "debezium.transforms.outbox.route.topic.replacement", expression: "${routedByValue}"))
        #expect(error?.description.contains("$${routedByValue}") == true)
    }

    @Test func expressionsResolveFromKeysOfTheFileThenTheEnvironmentThenTheDefault() throws {
        let file = try server(
            """
            app.host=db.from.file
            app.port=${PORT_FROM_ENV}
            debezium.source.database.hostname=${app.host}
            debezium.source.database.port=${app.port}
            debezium.source.database.user=${app.user:fallback-user}
            debezium.source.nested=${missing:${app.host}:tail}
            debezium.source.chained=${first:${second:last}}
            debezium.source.mixed=pre-${app.host}-post
            debezium.source.from.env=${debezium.source.x.y}
            debezium.source.empty.default=${nothing:}
            """,
            environment: ["PORT_FROM_ENV": "6543", "DEBEZIUM_SOURCE_X_Y": "upper-cased env"])
        #expect(file.connector["database.hostname"] == "db.from.file")
        #expect(file.connector["database.port"] == "6543")
        #expect(file.connector["database.user"] == "fallback-user")
        #expect(file.connector["nested"] == "db.from.file:tail")
        #expect(file.connector["chained"] == "last")
        #expect(file.connector["mixed"] == "pre-db.from.file-post")
        #expect(file.connector["from.env"] == "upper-cased env")
        #expect(file.connector["empty.default"] == "")
    }

    @Test func aFileKeyWinsOverTheEnvironment() throws {
        let file = try server("HOST=from-file\ndebezium.source.database.hostname=${HOST}", environment: ["HOST": "from-env"])
        #expect(file.connector["database.hostname"] == "from-file")
    }

    @Test func anEmptyValueCountsAsNotSet() throws {
        let file = try server(
            "app.empty=\ndebezium.source.database.password=\ndebezium.source.database.user=${app.empty:dflt}")
        #expect(!file.connector.contains("database.password"))
        #expect(file.connector["database.user"] == "dflt")
    }

    @Test func aSelfReferenceIsAnError() {
        let error = configError { try server("a=${b}\nb=${a}\ndebezium.source.database.hostname=${a}") }
        guard case .malformedExpression(let key, let reason) = error else {
            Issue.record("expected malformedExpression")
            return
        }
        #expect(key == "debezium.source.database.hostname")
        #expect(reason.contains("refers back"))
    }

    @Test(arguments: ["${unclosed", "${}", "x${a:${b}"])
    func aMalformedExpressionIsAnErrorNamingTheKey(_ value: String) {
        let error = configError { try server("debezium.source.slot.name=\(value)") }
        guard case .malformedExpression(let key, _) = error else {
            Issue.record("expected malformedExpression for \(value)")
            return
        }
        #expect(key == "debezium.source.slot.name")
    }

    @Test func anExpressionInAnIgnoredKeyIsNotEvaluated() throws {
        let file = try server("quarkus.datasource.password=${NOT_SET}\n%dev.debezium.source.x=${NOT_SET}\ndebezium.source.y=1")
        #expect(file.connector == ["y": "1"])
    }

    @Test func profileKeysAreIgnoredWithANote() throws {
        let file = try server("%prod.debezium.source.database.hostname=prod-db\n%test.debezium.source.slot.name=t")
        #expect(file.connector.isEmpty)
        #expect(file.notes.count == 2)
        #expect(file.notes[0].contains("write it as debezium.source.database.hostname"))
        #expect(file.notes[1].contains("%test.debezium.source.slot.name"))
    }

    @Test func onlyProfileKeysStillMakeADebeziumServerFile() {
        #expect(configError { try DebeziumConfigFile.parse("%dev.debezium.sink.type=kafka\n") }
            == .unsupportedSink(key: "debezium.sink.type", value: nil))
    }

    @Test func transformsPredicatesFormatsAndOtherSinks() throws {
        let file = try server("""
            debezium.predicates=onlyOutbox
            debezium.predicates.onlyOutbox.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches
            debezium.transforms=outbox
            debezium.transforms.outbox.predicate=onlyOutbox
            debezium.format.header=json
            debezium.format.header.schemas.enable=true
            debezium.format.value=jsonbytearray
            debezium.format.schema.registry.url=http://registry
            debezium.sink.pubsub.project.id=ignored-silently
            debezium.api.enabled=true
            debezium.transformsx=ignored
            """)
        #expect(file.connector == [
            "predicates": "onlyOutbox",
            "predicates.onlyOutbox.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            "transforms": "outbox", "transforms.outbox.predicate": "onlyOutbox",
        ])
        // A `debezium.format.X` of no part reaches every converter that does not set X itself, as
        // DebeziumServer.populateEngineProperties copies it (goldens-server/format-schemas-off).
        let registry: OrderedConfig = ["schema.registry.url": "http://registry"]
        #expect(file.serverFormat == ServerFormat(
            value: "jsonbytearray", header: "json", keyOptions: registry, valueOptions: registry,
            headerOptions: ["schemas.enable": "true", "schema.registry.url": "http://registry"]))
        #expect(file.notes.count == 2)
        #expect(file.notes.contains { $0.contains("debezium.api.enabled") })
        #expect(file.notes.contains { $0.contains("debezium.transformsx") })
    }

    @Test(arguments: ["kinesis", "pubsub", "Kafka", "http"])
    func aSinkOtherThanKafkaIsAnErrorNamingTheKeyAndTheValue(_ sink: String) {
        let error = configError { try DebeziumConfigFile.parse("debezium.sink.type=\(sink)\ndebezium.source.x=1") }
        #expect(error == .unsupportedSink(key: "debezium.sink.type", value: sink))
        #expect(error?.description.contains("debezium.sink.type") == true)
        #expect(error?.description.contains("\"\(sink)\"") == true)
    }

    @Test func aMissingSinkTypeIsAnError() {
        let error = configError { try DebeziumConfigFile.parse("debezium.source.connector.class=x") }
        #expect(error == .unsupportedSink(key: "debezium.sink.type", value: nil))
        #expect(error?.description.contains("debezium.sink.type=kafka") == true)
    }

    @Test func theSinkTypeMayComeFromAnExpression() throws {
        let file = try DebeziumConfigFile.parse("debezium.sink.type=${SINK:kafka}\ndebezium.source.a=1")
        #expect(file.connector == ["a": "1"])
    }

    // MARK: Secrets

    @Test func printingAFileNeverShowsASecret() throws {
        let file = try DebeziumConfigFile.parse(
            try ConfigFixture.text("debezium-server-shop-outbox.properties"), environment: Self.serverEnvironment)
        let rendered = allRenderings(of: file)
        expectNoSecrets(rendered, ["pg-Secr3t!", "kafka-Secr3t!"])
        #expect(rendered.contains("[redacted]"))
        #expect(rendered.contains("shop-db.prod.internal"))
        expectNoSecrets(file.notes.joined(), ["pg-Secr3t!", "kafka-Secr3t!"])
    }
}
