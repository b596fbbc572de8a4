import DebeziumFormat
import Testing

/// A minimal valid outbox connector config; tests add or replace keys.
private let minimalConnector: OrderedConfig = [
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "plugin.name": "pgoutput",
    "database.hostname": "db",
    "database.user": "cdc",
    "database.password": "Hunter2-Secret",
    "database.dbname": "app",
    "topic.prefix": "app",
    "transforms": "outbox",
    "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
]

private func settings(_ changes: OrderedConfig = [:], removing removed: [String] = []) throws(DebeziumConfigError) -> DebeziumSettings {
    var connector = minimalConnector
    for key in removed { connector[key] = nil }
    for (key, value) in changes { connector[key] = value }
    return try DebeziumSettings(connector: connector)
}

private func settingsError(
    _ changes: OrderedConfig = [:], removing removed: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
) -> DebeziumConfigError? {
    let error = configError(sourceLocation: sourceLocation) {
        try settings(changes, removing: removed)
    }
    // Whatever the error, the password is never in it.
    if let error { expectNoSecrets(error.description, ["Hunter2-Secret"], sourceLocation: sourceLocation) }
    return error
}

@Suite("Interpreting a Debezium connector config")
struct DebeziumSettingsTests {
    // MARK: Fixtures

    @Test func kafkaConnectJSONFixture() throws {
        let file = try DebeziumConfigFile.parse(try ConfigFixture.text("kafka-connect-orders-outbox.json"))
        let settings = try DebeziumSettings(file)
        #expect(settings.name == "orders-outbox-connector")
        #expect(settings.topicPrefix == "orders")

        var database = DatabaseSettings(hostname: "orders-db.internal", user: "debezium", databaseName: "orders")
        database.port = 5433
        database.password = SecretString("s3cr3t-Pa55")
        database.sslMode = .require
        #expect(settings.database == database)

        var replication = ReplicationSettings()
        replication.slotName = "orders_outbox"
        replication.publicationName = "orders_outbox_pub"
        replication.publicationAutocreateMode = .filtered
        replication.tableIncludeList = "public.outbox_event"
        replication.snapshotMode = .noData
        replication.heartbeatInterval = .seconds(30)
        replication.heartbeatActionQuery = "UPDATE debezium_heartbeat SET ts = now()"
        #expect(settings.replication == replication)

        #expect(settings.converters == ConverterSettings(
            key: ConverterSetting(kind: .string),
            value: ConverterSetting(kind: .json, options: ["schemas.enable": "false"])))
        #expect(settings.converters.value?.schemasEnabled == false)
        #expect(settings.converters.key?.schemasEnabled == nil)

        var router = EventRouterSettings(alias: "outbox")
        router.eventKeyColumn = "aggregate_id"
        router.routeByField = "aggregate_type"
        router.routeTopicReplacement = "${routedByValue}.events"
        router.additionalFields = [
            .init(column: "type", placement: .header, alias: "eventType"),
            .init(column: "tenant_id", placement: .header),
            .init(column: "version", placement: .envelope),
        ]
        router.expandJSONPayload = true
        #expect(settings.eventRouter == router)
        #expect(settings.extendedHeadersEnabled)

        // The legacy EventRouter key and a JDBC driver property are reported; the rest is known.
        #expect(settings.unknownKeys == ["database.applicationName", "transforms.outbox.table.field.event.type"])
        #expect(settings.warnings.isEmpty)
    }

    @Test func kafkaConnectPropertiesFixture() throws {
        let file = try DebeziumConfigFile.parse(try ConfigFixture.text("connect-standalone-inventory-outbox.properties"))
        let settings = try DebeziumSettings(file)
        #expect(settings.name == "inventory-outbox")
        #expect(settings.topicPrefix == "inventory")
        #expect(settings.database.hostname == "pg.inventory.svc")
        #expect(settings.database.port == 5432)
        #expect(settings.database.user == "cdc_user")
        #expect(settings.database.password?.value == "inv#Secret=42")
        #expect(settings.database.databaseName == "inventory")
        #expect(settings.database.tcpKeepAlive == false)
        #expect(settings.database.sslMode == .prefer)

        #expect(settings.replication.slotName == "inventory_outbox")
        #expect(settings.replication.publicationName == "outbox_only")
        #expect(settings.replication.publicationAutocreateMode == .disabled)
        #expect(settings.replication.publishViaPartitionRoot == false, "Debezium's default")
        #expect(settings.replication.schemaIncludeList == "outbox")
        #expect(settings.replication.tableIncludeList == "outbox\\.events")
        #expect(settings.replication.streamParameters == [.init(name: "messages", value: "true")])
        #expect(settings.replication.statusUpdateInterval == .seconds(5))
        #expect(settings.replication.dropSlotOnStop == false)
        #expect(settings.replication.skippedOperations == [.update, .delete, .truncate])
        #expect(settings.replication.messagePrefixIncludeList == "outbox\\..*")
        #expect(settings.replication.heartbeatInterval == .zero)
        #expect(settings.replication.snapshotMode == .initial)

        #expect(settings.converters.key == ConverterSetting(kind: .string))
        #expect(settings.converters.value == ConverterSetting(
            kind: .binaryData, options: ["delegate.converter.type": "org.apache.kafka.connect.json.JsonConverter"]))
        #expect(settings.converters.header == ConverterSetting(kind: .simpleHeader))

        var router = EventRouterSettings(alias: "router")
        router.predicate = "isOutbox"
        router.timestampColumn = "created_at"
        router.routeTopicReplacement = "inventory.${routedByValue}"
        router.additionalFields = [
            .init(column: "event_type", placement: .header, alias: "eventType"),
            .init(column: "partition_no", placement: .partition),
        ]
        router.tombstoneOnEmptyPayload = true
        router.invalidOperationBehavior = .fatal
        #expect(settings.eventRouter == router)

        // The typo is reported; the custom converter's own keys are known through `converters`.
        #expect(settings.unknownKeys == ["heartbeat.interval.msec"])
    }

    @Test func debeziumServerFixture() throws {
        let file = try DebeziumConfigFile.parse(
            try ConfigFixture.text("debezium-server-shop-outbox.properties"),
            environment: ["DB_PASSWORD": "pg-Secr3t!", "KAFKA_USER": "u", "KAFKA_PASSWORD": "kafka-Secr3t!"])
        let settings = try DebeziumSettings(file)
        #expect(settings.name == nil)
        #expect(settings.topicPrefix == "shop")
        #expect(settings.database.hostname == "localhost")
        #expect(settings.database.databaseName == "shop")
        #expect(settings.database.password == SecretString("pg-Secr3t!"))
        #expect(settings.database.sslMode == .verifyFull)
        #expect(settings.database.sslRootCertificate == "/etc/ssl/certs/rds-ca.pem")
        #expect(settings.replication.slotName == "shop_outbox")
        #expect(settings.replication.publicationName == "dbz_publication")
        #expect(settings.replication.tableIncludeList == "public.outbox")
        // `never`, Debezium's name before 3.0, is today's `no_data`.
        #expect(settings.replication.snapshotMode == .noData)
        // Debezium Server chooses serialisation with debezium.format.*, not converters.
        #expect(settings.converters == ConverterSettings())
        let eventRouter = try #require(settings.eventRouter)
        #expect(eventRouter.alias == "outbox")
        #expect(eventRouter.routeTopicReplacement == "outbox.${routedByValue}.events")
        #expect(eventRouter.eventKeyColumn == "aggregateid")
        #expect(eventRouter.additionalFields == [.init(column: "type", placement: .header, alias: "eventType")])
        #expect(settings.unknownKeys.isEmpty)
    }

    // MARK: Defaults

    @Test func debeziumDefaultsApplyWhereTheConfigIsSilent() throws {
        let settings = try settings()
        #expect(settings.database.port == 5432)
        #expect(settings.database.sslMode == .prefer)
        #expect(settings.database.tcpKeepAlive)
        #expect(settings.database.sslCertificate == nil)
        #expect(settings.database.initialStatements == nil)
        #expect(settings.replication == ReplicationSettings())
        #expect(settings.replication.slotName == "debezium")
        #expect(settings.replication.publicationName == "dbz_publication")
        #expect(settings.replication.publicationAutocreateMode == .allTables)
        #expect(settings.replication.statusUpdateInterval == .seconds(10))
        #expect(settings.replication.heartbeatInterval == .zero)
        #expect(settings.replication.skippedOperations == [.truncate])
        #expect(settings.replication.snapshotMode == .initial)
        #expect(settings.replication.dropSlotOnStop == false)
        #expect(settings.replication.streamParameters.isEmpty)
        #expect(settings.extendedHeadersEnabled)
        #expect(settings.converters == ConverterSettings())
        #expect(settings.unknownKeys.isEmpty)
        #expect(settings.warnings.isEmpty)

        let router = try #require(settings.eventRouter)
        #expect(router == EventRouterSettings(alias: "outbox"))
        #expect(router.eventIDColumn == "id")
        #expect(router.eventKeyColumn == "aggregateid")
        #expect(router.payloadColumn == "payload")
        #expect(router.timestampColumn == nil)
        #expect(router.schemaVersionColumn == nil)
        #expect(router.additionalFields.isEmpty)
        #expect(router.additionalFieldsErrorOnMissing)
        #expect(router.routeByField == "aggregatetype")
        #expect(router.routeTopicRegex == "(?<routedByValue>.*)")
        #expect(router.routeTopicReplacement == "outbox.event.${routedByValue}")
        #expect(router.tombstoneOnEmptyPayload == false)
        #expect(router.invalidOperationBehavior == .warn)
        #expect(router.expandJSONPayload == false)
        #expect(router.jsonPayloadNullBehavior == .ignore)
        #expect(router.tracingSpanContextField == "tracingspancontext")
        #expect(router.tracingOperationName == "debezium-read")
        #expect(router.tracingWithContextFieldOnly == false)
        #expect(router.predicate == nil)
        #expect(router.negate == false)
    }

    @Test func everyReadSettingIsTaken() throws {
        let settings = try settings([
            "database.port": " 6432 ",
            "database.sslmode": "VERIFY-CA",
            "database.sslcert": "/tls/client.crt",
            "database.sslkey": "/tls/client.key",
            "database.sslpassword": "key-Secret",
            "database.sslrootcert": "/tls/ca.crt",
            "database.tcpKeepAlive": "FALSE",
            "database.initial.statements": "SET lock_timeout = '1s';;SET x = 1",
            "slot.drop.on.stop": "true",
            "heartbeat.interval.ms": "1500",
            "message.prefix.exclude.list": "audit.*",
            "table.exclude.list": "public.big_table",
            "schema.exclude.list": "tmp",
            "skipped.operations": "none",
            "slot.stream.params": "a=1; b=two ;",
            "extended.headers.enabled": "false",
            "transforms.outbox.table.field.event.id": "event_id",
            "transforms.outbox.table.field.event.payload": "body",
            "transforms.outbox.table.field.event.schema.version": "schema_version",
            "transforms.outbox.table.fields.additional.error.on.missing": "false",
            "transforms.outbox.route.topic.regex": "(?<routedByValue>[a-z]+)",
            "transforms.outbox.table.json.payload.null.behavior": "optional_bytes",
            "transforms.outbox.table.op.invalid.behavior": "Error",
            "transforms.outbox.tracing.span.context.field": "span",
            "transforms.outbox.tracing.operation.name": "relay",
            "transforms.outbox.tracing.with.context.field.only": "true",
            "transforms.outbox.negate": "true",
            "snapshot.mode": "INITIAL",
            "plugin.name": " PgOutput ",
        ])
        #expect(settings.database.port == 6432)
        #expect(settings.database.sslMode == .verifyCA)
        #expect(settings.database.sslCertificate == "/tls/client.crt")
        #expect(settings.database.sslKey == "/tls/client.key")
        #expect(settings.database.sslPassword?.value == "key-Secret")
        #expect(settings.database.sslRootCertificate == "/tls/ca.crt")
        #expect(settings.database.tcpKeepAlive == false)
        #expect(settings.database.initialStatements == "SET lock_timeout = '1s';;SET x = 1")
        #expect(settings.replication.dropSlotOnStop)
        #expect(settings.replication.heartbeatInterval == .milliseconds(1500))
        #expect(settings.replication.messagePrefixExcludeList == "audit.*")
        #expect(settings.replication.tableExcludeList == "public.big_table")
        #expect(settings.replication.schemaExcludeList == "tmp")
        #expect(settings.replication.skippedOperations.isEmpty)
        #expect(settings.replication.streamParameters == [.init(name: "a", value: "1"), .init(name: "b", value: "two")])
        #expect(settings.replication.snapshotMode == .initial)
        #expect(settings.extendedHeadersEnabled == false)
        let router = try #require(settings.eventRouter)
        #expect(router.eventIDColumn == "event_id")
        #expect(router.payloadColumn == "body")
        #expect(router.schemaVersionColumn == "schema_version")
        #expect(router.additionalFieldsErrorOnMissing == false)
        #expect(router.routeTopicRegex == "(?<routedByValue>[a-z]+)")
        #expect(router.jsonPayloadNullBehavior == .optionalBytes)
        #expect(router.invalidOperationBehavior == .error)
        #expect(router.tracingSpanContextField == "span")
        #expect(router.tracingOperationName == "relay")
        #expect(router.tracingWithContextFieldOnly)
        #expect(router.negate)
        #expect(settings.unknownKeys.isEmpty)
    }

    @Test func theConnectorClassAliasesKafkaConnectAcceptsAreAccepted() throws {
        #expect(try settings(["connector.class": "PostgresConnector"]).topicPrefix == "app")
        #expect(try settings(["connector.class": "Postgres"]).topicPrefix == "app")
        #expect(try settings(["transforms.outbox.type": "EventRouter"]).eventRouter?.alias == "outbox")
    }

    // MARK: Converters

    @Test func converterClassesAndAliases() throws {
        let converters = try settings([
            "key.converter": "StringConverter",
            "value.converter": "Json",
            "value.converter.schemas.enable": "TRUE",
            "value.converter.decimal.format": "NUMERIC",
            "header.converter": "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        ]).converters
        #expect(converters.key == ConverterSetting(kind: .string))
        #expect(converters.value == ConverterSetting(kind: .json, options: ["schemas.enable": "TRUE", "decimal.format": "NUMERIC"]))
        #expect(converters.value?.schemasEnabled == true)
        #expect(converters.header?.kind == .simpleHeader)
        #expect(ConverterKind(className: "org.apache.kafka.connect.converters.ByteArrayConverter") == .byteArray)
        #expect(ConverterKind(className: "ByteArray") == .byteArray)
        #expect(ConverterKind(className: "BinaryDataConverter") == .binaryData)
        #expect(ConverterKind(className: "Simple") == .simpleHeader)
        #expect(ConverterKind(className: "io.confluent.connect.avro.AvroConverter") == nil)
    }

    @Test func jsonConverterSchemasAreEnabledByDefault() throws {
        let converters = try settings(["value.converter": "org.apache.kafka.connect.json.JsonConverter"]).converters
        #expect(converters.value?.schemasEnabled == true)
    }

    @Test func unsetConvertersResolveToTheWorkerDefaults() throws {
        let converters = try settings(["value.converter": "org.apache.kafka.connect.storage.StringConverter"]).converters
        #expect(converters.key == nil)
        #expect(converters.header == nil)
        let resolved = converters.resolved()
        #expect(resolved.key == ConverterSetting(kind: .json, options: ["schemas.enable": "true"]))
        #expect(resolved.key?.schemasEnabled == true)
        #expect(resolved.value == ConverterSetting(kind: .string))
        #expect(resolved.header == ConverterSetting(kind: .simpleHeader))
        let custom = converters.resolved(withWorkerDefaults: ConverterSettings(key: ConverterSetting(kind: .byteArray)))
        #expect(custom.key?.kind == .byteArray)
        #expect(custom.header == nil)
    }

    @Test("snapshot.mode=never, Debezium 2.x's name, is read as no_data with a warning that says so")
    func snapshotModeNeverIsNoDataWithAWarning() throws {
        let never = try settings(["snapshot.mode": "never"])
        #expect(never.replication.snapshotMode == .noData)
        #expect(never.warnings.count == 1)
        #expect(never.warnings.first?.contains("snapshot.mode=never") == true && never.warnings.first?.contains("no_data") == true)
        #expect(try settings(["snapshot.mode": "no_data"]).warnings.isEmpty)
    }

    @Test("Kafka Connect's errors.tolerance and Debezium's failure handling decide whether failing records are skipped; the dead-letter queue keys warn")
    func errorHandlingKeys() throws {
        #expect(try settings().skipsRecordsThatFail == false)
        #expect(try settings(["errors.tolerance": "all"]).skipsRecordsThatFail)
        #expect(try settings(["errors.tolerance": "none"]).skipsRecordsThatFail == false)
        for mode in ["warn", "skip", "ignore"] {
            // Alone it would cover only rows Debezium cannot decode, not refusals: outbox-cdc stops, and says so.
            let alone = try settings(["event.processing.failure.handling.mode": mode])
            #expect(alone.skipsRecordsThatFail == false, "\(mode)")
            #expect(alone.warnings.first?.contains("errors.tolerance=all") == true, "\(alone.warnings)")
            #expect(try settings(["event.processing.failure.handling.mode": mode, "errors.tolerance": "all"]).skipsRecordsThatFail)
        }
        #expect(try settings(["event.processing.failure.handling.mode": "fail"]).skipsRecordsThatFail == false)
        let deadLetter = try settings([
            "errors.tolerance": "all", "errors.deadletterqueue.topic.name": "debezium-deadletter",
            "errors.deadletterqueue.context.headers.enable": "true", "errors.retry.delay.max.ms": "1000",
        ])
        #expect(deadLetter.unknownKeys.isEmpty)
        #expect(deadLetter.warnings.count == 1)
        #expect(deadLetter.warnings.first?.contains("errors.deadletterqueue.topic.name") == true)
        #expect(deadLetter.warnings.first?.contains("sink connectors only") == true)
        #expect(settingsError(["errors.tolerance": "some"])?.key == "errors.tolerance")
        #expect(settingsError(["event.processing.failure.handling.mode": "retry"])?.key == "event.processing.failure.handling.mode")
    }

    @Test func converterOptionsWithoutTheirClassAreAWarningNotAnUnknownKey() throws {
        let settings = try settings(["key.converter.schemas.enable": "false"])
        #expect(settings.converters.key == nil)
        #expect(settings.unknownKeys.isEmpty)
        #expect(settings.warnings.count == 1)
        #expect(settings.warnings.first?.contains("key.converter.schemas.enable") == true)
    }

    @Test(arguments: [
        ("value.converter", "io.confluent.connect.avro.AvroConverter"),
        ("key.converter", "io.apicurio.registry.utils.converter.AvroConverter"),
        ("value.converter", "org.apache.kafka.connect.storage.SimpleHeaderConverter"),
        ("header.converter", "io.debezium.converters.CloudEventsConverter"),
    ])
    func anUnsupportedConverterIsAnErrorNamingTheKey(_ key: String, _ className: String) {
        let error = settingsError([key: className])
        #expect(error == .unsupportedConverter(key: key, value: className))
        #expect(error?.description.contains(key) == true)
    }

    @Test func aBadSchemasEnableIsAnErrorNamingItsKey() {
        let error = settingsError(["value.converter": "JsonConverter", "value.converter.schemas.enable": "maybe"])
        #expect(error == .invalidValue(key: "value.converter.schemas.enable", value: "maybe", expected: "true or false"))
    }

    // MARK: Unknown and known keys

    @Test func unknownKeysAreCollectedInFileOrderAndKnownOnesPassSilently() throws {
        let settings = try settings([
            "tasks.max": "1", "name": "x", "errors.tolerance": "all", "topic.creation.default.partitions": "3",
            "schema.history.internal.kafka.topic": "h", "decimal.handling.mode": "string", "time.precision.mode": "connect",
            "tombstones.on.delete": "false", "include.unknown.datatypes": "true", "max.batch.size": "2048",
            "max.queue.size": "8192", "poll.interval.ms": "500", "signal.data.collection": "public.signals",
            "notification.enabled.channels": "sink", "snapshot.locking.mode": "none", "database.server.name": "legacy",
            "predicates": "p", "predicates.p.type": "x", "offset.flush.interval.ms": "0",
            "post.processors": "reselector", "reselector.type": "io.debezium.processors.reselect.ReselectColumnsPostProcessor",
            "consumer.override.max.poll.records": "1",
            "table.whitelist": "public.outbox", "transforms.outbox.route.topic.replacment": "typo",
            "transforms.unlisted.type": "org.apache.kafka.connect.transforms.InsertField$Value", "databse.port": "5432",
        ])
        #expect(settings.unknownKeys == [
            "table.whitelist", "transforms.outbox.route.topic.replacment", "transforms.unlisted.type", "databse.port",
        ])
    }

    @Test func debeziumServerErrorsAndUnknownKeysUseTheServerSpelling() throws {
        let base = """
            debezium.sink.type=kafka
            debezium.source.connector.class=io.debezium.connector.postgresql.PostgresConnector
            debezium.source.plugin.name=pgoutput
            debezium.source.database.hostname=db
            debezium.source.database.user=u
            debezium.source.database.dbname=d
            debezium.source.topic.prefix=p
            debezium.transforms=outbox
            debezium.transforms.outbox.type=io.debezium.transforms.outbox.EventRouter
            debezium.transforms.outbox.unknown.option=1
            debezium.source.some.typo=1

            """
        let settings = try DebeziumSettings(try DebeziumConfigFile.parse(base))
        #expect(settings.unknownKeys == ["debezium.transforms.outbox.unknown.option", "debezium.source.some.typo"])

        let portError = configError { try DebeziumSettings(try DebeziumConfigFile.parse(base + "debezium.source.database.port=abc")) }
        #expect(portError == .invalidValue(key: "debezium.source.database.port", value: "abc", expected: "a port number from 1 to 65535"))
        let pluginError = configError {
            try DebeziumSettings(try DebeziumConfigFile.parse(base.replacing("debezium.source.plugin.name=pgoutput\n", with: "")))
        }
        #expect(pluginError == .unsupportedPlugin(key: "debezium.source.plugin.name", value: nil))
        #expect(pluginError?.description.contains("debezium.source.plugin.name=pgoutput") == true)
        // Without an EventRouter, Debezium Server publishes change events.
        let changeEvents = try DebeziumSettings(try DebeziumConfigFile.parse(base.replacing("debezium.transforms=outbox", with: "debezium.transforms=")))
        #expect(changeEvents.eventRouter == nil)
        let classError = configError {
            try DebeziumSettings(try DebeziumConfigFile.parse(
                base.replacing("debezium.source.connector.class=io.debezium.connector.postgresql.PostgresConnector\n", with: "")))
        }
        #expect(classError?.key == "debezium.source.connector.class")
    }

    // MARK: Errors

    @Test func theConnectorClassMustBeDebeziumsPostgresConnector() {
        let error = settingsError(["connector.class": "io.debezium.connector.mysql.MySqlConnector"])
        #expect(error == .unsupportedConnectorClass(key: "connector.class", value: "io.debezium.connector.mysql.MySqlConnector"))
        #expect(error?.description.contains("connector.class") == true)
        let missing = settingsError(removing: ["connector.class"])
        #expect(missing?.key == "connector.class")
        #expect(missing?.description.contains(DebeziumSettings.postgresConnectorClass) == true)
    }

    @Test func anAbsentPluginNameSaysDebeziumDefaultsToDecoderbufs() {
        let error = settingsError(removing: ["plugin.name"])
        #expect(error == .unsupportedPlugin(key: "plugin.name", value: nil))
        let message = error?.description ?? ""
        #expect(message.contains("decoderbufs"))
        #expect(message.contains("plugin.name=pgoutput"))
        #expect(message.contains("pgoutput only"))
    }

    @Test(arguments: ["decoderbufs", "wal2json", ""])
    func aPluginOtherThanPgoutputIsAnError(_ plugin: String) {
        let error = settingsError(["plugin.name": plugin])
        #expect(error?.key == "plugin.name")
        #expect(error?.description.contains("pgoutput only") == true)
        if !plugin.isEmpty { #expect(error == .unsupportedPlugin(key: "plugin.name", value: plugin)) }
    }

    @Test func aMissingTopicPrefixIsAnError() {
        let error = settingsError(removing: ["topic.prefix"])
        #expect(error?.key == "topic.prefix")
        let legacy = settingsError(["database.server.name": "srv"], removing: ["topic.prefix"])
        #expect(legacy?.key == "topic.prefix")
        #expect(legacy?.description.contains("database.server.name") == true)
    }

    @Test func aTopicPrefixWithCharactersKafkaRefusesIsAnError() {
        #expect(settingsError(["topic.prefix": "my prefix"])?.key == "topic.prefix")
    }

    @Test(arguments: ["database.hostname", "database.user", "database.dbname"])
    func aMissingRequiredDatabaseKeyIsAnError(_ key: String) {
        let error = settingsError(removing: [key])
        guard case .missingRequired(let errorKey, _) = error else {
            Issue.record("expected missingRequired")
            return
        }
        #expect(errorKey == key)
    }

    @Test func publishViaPartitionRootIsRead() throws {
        #expect(try settings().replication.publishViaPartitionRoot == false, "Debezium's default")
        #expect(try settings(["publish.via.partition.root": "true"]).replication.publishViaPartitionRoot)
        #expect(try settings(["publish.via.partition.root": "FALSE"]).replication.publishViaPartitionRoot == false)
    }

    @Test(arguments: [
        ("database.port", "54x32"), ("database.port", "0"), ("database.port", "70000"), ("database.port", "5432.0"),
        ("database.sslmode", "strict"), ("database.tcpKeepAlive", "yes"), ("slot.drop.on.stop", "1"),
        ("status.update.interval.ms", "0"), ("status.update.interval.ms", "ten"), ("heartbeat.interval.ms", "-1"),
        ("publication.autocreate.mode", "some_tables"), ("skipped.operations", "c,x"), ("skipped.operations", "none,c"),
        ("skipped.operations", ""), ("slot.stream.params", "a=1;b"), ("slot.stream.params", "a=1=2"),
        ("slot.name", "Outbox-Slot"), ("slot.name", String(repeating: "s", count: 64)),
        ("extended.headers.enabled", "on"), ("transforms.outbox.route.tombstone.on.empty.payload", "maybe"),
        ("transforms.outbox.table.op.invalid.behavior", "ignore"),
        ("transforms.outbox.table.json.payload.null.behavior", "keep"),
        ("transforms.outbox.table.expand.json.payload", "yes please"), ("publish.via.partition.root", "1"),
    ])
    func anUnreadableValueIsAnErrorNamingTheKeyAndTheValue(_ key: String, _ value: String) {
        let error = settingsError([key: value])
        guard case .invalidValue(let errorKey, let errorValue, _) = error else {
            Issue.record("expected invalidValue for \(key)=\(value), got \(String(describing: error))")
            return
        }
        #expect(errorKey == key)
        #expect(errorValue == value)
        #expect(error?.description.contains(key) == true)
        #expect(error?.description.contains("\"\(value)\"") == true)
    }

    @Test(arguments: [("table.include.list", "table.exclude.list"), ("schema.include.list", "schema.exclude.list"),
        ("message.prefix.include.list", "message.prefix.exclude.list")])
    func anIncludeAndAnExcludeListTogetherAreAnError(_ include: String, _ exclude: String) {
        let error = settingsError([include: "a", exclude: "b"])
        #expect(error?.key == exclude)
        #expect(error?.description.contains(include) == true)
    }

    @Test(arguments: ["always", "configuration_based", "custom", "recovery"])
    func aSnapshotModeOutboxCDCDoesNotHonourIsAnError(_ mode: String) {
        let error = settingsError(["snapshot.mode": mode])
        #expect(error == .unsupportedSnapshotMode(key: "snapshot.mode", value: mode))
        #expect(error?.description.contains("no_data") == true)
    }

    @Test func noTransformsPublishesChangeEvents() throws {
        let read = try settings(removing: ["transforms", "transforms.outbox.type"])
        #expect(read.records == .changeEvents(ChangeEventSettings()))
        #expect(read.eventRouter == nil)
    }

    @Test func extractNewRecordStateWithoutAnEventRouterPublishesItsRows() throws {
        let read = try settings([
            "transforms": "unwrap", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        ], removing: ["transforms.outbox.type"])
        guard case .changeEvents(let changeEvents) = read.records else {
            Issue.record("change events expected, got \(read.records)")
            return
        }
        #expect(changeEvents.extractNewRecordState == ExtractNewRecordState())
    }

    @Test func anotherTransformWithoutAnEventRouterIsAnErrorNamingIt() {
        let error = settingsError([
            "transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        ], removing: ["transforms.outbox.type"])
        #expect(error == .unsupportedTransforms(key: "transforms", transforms: ["route (org.apache.kafka.connect.transforms.RegexRouter)"]))
    }

    @Test func otherTransformsBesidesTheEventRouterAreAnErrorListingThem() {
        let error = settingsError([
            "transforms": "filter, outbox,addField",
            "transforms.filter.type": "io.debezium.transforms.Filter",
            "transforms.addField.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        ])
        #expect(error == .unsupportedTransforms(key: "transforms", transforms: [
            "filter (io.debezium.transforms.Filter)", "addField (org.apache.kafka.connect.transforms.InsertField$Value)",
        ]))
        #expect(error?.description.contains("filter") == true)
        #expect(error?.description.contains("addField") == true)
    }

    @Test func twoEventRoutersAreAnError() {
        let error = settingsError([
            "transforms": "outbox,second", "transforms.second.type": "io.debezium.transforms.outbox.EventRouter",
        ])
        #expect(error == .multipleEventRouters(key: "transforms", names: ["outbox", "second"]))
    }

    @Test func aTransformWithoutTypeIsAnError() {
        let error = settingsError(["transforms": "outbox,mystery"])
        #expect(error?.key == "transforms.mystery.type")
        guard case .missingRequired = error else {
            Issue.record("expected missingRequired")
            return
        }
    }

    @Test func aRepeatedTransformAliasIsAnError() {
        #expect(settingsError(["transforms": "outbox,outbox"])?.key == "transforms")
    }

    @Test func additionalPlacementEntriesAreParsedLikeDebezium() throws {
        let fields = try settings([
            "transforms.outbox.table.fields.additional.placement": " id:HEADER , type : envelope : eventType,p:partition",
        ]).eventRouter?.additionalFields
        #expect(fields == [
            .init(column: "id", placement: .header, alias: "id"),
            .init(column: "type", placement: .envelope, alias: "eventType"),
            .init(column: "p", placement: .partition, alias: "p"),
        ])
    }

    @Test(arguments: ["id", "id:header:a:b", "id:body", "id:header,", ":header", "id::alias"])
    func aBadAdditionalPlacementIsAnErrorNamingTheKey(_ value: String) {
        let key = "transforms.outbox.table.fields.additional.placement"
        let error = settingsError([key: value])
        guard case .invalidAdditionalPlacement(let errorKey, _, _) = error else {
            Issue.record("expected invalidAdditionalPlacement for \(value)")
            return
        }
        #expect(errorKey == key)
        #expect(error?.description.contains(key) == true)
    }

    // MARK: Secrets

    @Test func printingSettingsNeverShowsThePasswords() throws {
        let settings = try settings(["database.sslpassword": "Key-Pa55phrase"])
        let rendered = allRenderings(of: settings)
        expectNoSecrets(rendered, ["Hunter2-Secret", "Key-Pa55phrase"])
        #expect(rendered.contains("[redacted]"))
        #expect(String(describing: SecretString("abc")) == "[redacted]")
        #expect("\(SecretString("abc"))" == "[redacted]")
        #expect(settings.database.password?.value == "Hunter2-Secret")
    }

    @Test func anInvalidValueErrorForASensitiveKeyNeverShowsTheValue() {
        for key in ["database.password", "database.sslpassword", "sasl.jaas.config", "ssl.keystore.password", "DB_PASSWORD"] {
            let error = DebeziumConfigError.invalidValue(key: key, value: "Hunter2-Secret", expected: "anything")
            expectNoSecrets(error.description, ["Hunter2-Secret"])
            #expect(error.description.contains(key))
        }
    }
}

