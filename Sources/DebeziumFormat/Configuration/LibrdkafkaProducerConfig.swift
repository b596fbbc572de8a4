/// The librdkafka equivalent of a Kafka Java producer configuration: what a Kafka Connect connector's
/// `producer.override.*` or Debezium Server's `debezium.sink.kafka.producer.*` set, translated for the
/// producer outbox-cdc runs.
///
/// Keys with the same meaning in both clients pass through; renamed ones are renamed
/// (`sasl.mechanism` → `sasl.mechanisms`, `delivery.timeout.ms` → `message.timeout.ms`…); `sasl.jaas.config`
/// becomes `sasl.username`/`sasl.password` (PLAIN, SCRAM), OIDC client credentials (OAUTHBEARER) or a
/// Kerberos keytab; Java key stores become PEM or PKCS#12 locations where librdkafka can read them, and an
/// error naming the key where it cannot. The serializers are dropped (Kafka Connect always sends bytes).
/// Anything else is left out and listed in `unmappedKeys` for one warning.
public struct LibrdkafkaProducerConfig: Sendable, Equatable {
    /// librdkafka properties, in the order of the Java keys they come from. Sensitive values print as
    /// `[redacted]`.
    public var properties: OrderedConfig
    /// Java producer keys that have no librdkafka equivalent, spelled as in the file, in file order.
    public var unmappedKeys: [String]

    /// Translates `file.producer`; errors and `unmappedKeys` spell keys as the file does.
    public init(_ file: DebeziumConfigFile) throws(DebeziumConfigError) {
        try self.init(javaProducer: file.producer, fileKey: file.fileKey(forProducerKey:))
    }

    /// Translates Java producer properties. `fileKey` says how the user's file spells a key, for messages.
    public init(javaProducer: OrderedConfig, fileKey: (String) -> String = { $0 }) throws(DebeziumConfigError) {
        var properties = OrderedConfig()
        var unmapped: [String] = []
        for (key, value) in javaProducer {
            if Self.sameName.contains(key) {
                properties[key] = value
                continue
            }
            switch key {
            case "key.serializer", "value.serializer":
                // Kafka Connect's producer always uses ByteArraySerializer; the converters did the work.
                continue
            case "security.protocol":
                let protocolName = value.trimmingBlanks.lowercased()
                guard ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"].contains(protocolName) else {
                    throw .invalid(key: fileKey(key), value: value, expected: "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
                }
                properties["security.protocol"] = protocolName
            case "sasl.mechanism":
                properties["sasl.mechanisms"] = value.trimmingBlanks
            case "ssl.endpoint.identification.algorithm":
                // Java disables host name verification with an empty value, librdkafka with `none`.
                let algorithm = value.trimmingBlanks.lowercased()
                properties[key] = algorithm.isEmpty ? "none" : algorithm
            case "buffer.memory":
                let bytes = try Self.integer(value, key: fileKey(key), range: 0...Int(Int64.max))
                // librdkafka counts kibibytes; round up so the bound is never tighter than the Java one.
                properties["queue.buffering.max.kbytes"] = String(bytes / 1024 + (bytes % 1024 == 0 ? 0 : 1))
            case "send.buffer.bytes", "receive.buffer.bytes":
                // Java's -1 ("the OS default") is librdkafka's 0.
                let bytes = try Self.integer(value, key: fileKey(key), range: -1...Int(Int32.max))
                properties["socket." + key] = String(max(bytes, 0))
            case "sasl.jaas.config":
                for (name, translated) in try Self.translateJAAS(value, key: fileKey(key)) {
                    properties[name] = translated
                }
            case "ssl.truststore.location":
                guard Self.storeType(javaProducer["ssl.truststore.type"]) == "PEM" else {
                    throw .unsupportedProducerSetting(
                        key: fileKey(key),
                        reason: "librdkafka cannot read a JKS or PKCS12 truststore; export its CA certificates as PEM"
                            + " (keytool -exportcert -rfc) and set ssl.ca.location to that file instead")
                }
                properties["ssl.ca.location"] = value
            case "ssl.truststore.certificates":
                properties["ssl.ca.pem"] = value
            case "ssl.keystore.location":
                switch Self.storeType(javaProducer["ssl.keystore.type"]) {
                case "PKCS12":
                    properties["ssl.keystore.location"] = value
                case "PEM":
                    // A PEM key store holds the private key and the certificate chain in one file.
                    properties["ssl.certificate.location"] = value
                    properties["ssl.key.location"] = value
                default:
                    throw .unsupportedProducerSetting(
                        key: fileKey(key),
                        reason: "librdkafka cannot read a JKS keystore; convert it to PKCS12 (keytool -importkeystore"
                            + " -deststoretype PKCS12) and set ssl.keystore.type=PKCS12, or use PEM files")
                }
            case "ssl.keystore.password":
                // Only a PKCS12 store is opened with it; a PEM key's password is ssl.key.password.
                if Self.storeType(javaProducer["ssl.keystore.type"]) == "PKCS12" {
                    properties["ssl.keystore.password"] = value
                }
            case "ssl.keystore.key":
                properties["ssl.key.pem"] = value
            case "ssl.keystore.certificate.chain":
                properties["ssl.certificate.pem"] = value
            case "ssl.truststore.type", "ssl.keystore.type", "ssl.truststore.password":
                // Used with the locations above; librdkafka reads PEM trust material without a password.
                continue
            default:
                guard let name = Self.renamed[key] else {
                    unmapped.append(fileKey(key))
                    continue
                }
                properties[name] = value
            }
        }
        self.properties = properties
        self.unmappedKeys = unmapped
    }

    /// Java producer keys that librdkafka spells and reads the same way. The librdkafka-only TLS and SASL
    /// keys are here too, so that a file already adapted for outbox-cdc keeps working.
    static let sameName: Set<String> = [
        "bootstrap.servers", "client.id", "acks", "enable.idempotence", "compression.type", "linger.ms",
        "batch.size", "max.in.flight.requests.per.connection", "retries", "request.timeout.ms", "retry.backoff.ms",
        "retry.backoff.max.ms", "connections.max.idle.ms", "metadata.max.age.ms", "reconnect.backoff.ms",
        "reconnect.backoff.max.ms", "socket.connection.setup.timeout.ms", "client.dns.lookup",
        "sasl.kerberos.service.name", "sasl.oauthbearer.token.endpoint.url", "ssl.key.password",
        "ssl.ca.location", "ssl.ca.pem", "ssl.certificate.location", "ssl.certificate.pem", "ssl.key.location",
        "ssl.key.pem", "sasl.username", "sasl.password", "sasl.mechanisms",
    ]

    /// Java producer keys that librdkafka spells differently.
    static let renamed: [String: String] = [
        "delivery.timeout.ms": "message.timeout.ms",
        "max.request.size": "message.max.bytes",
    ]

    /// A key store type as Kafka reads it, upper-cased; JKS when not set (Kafka's default).
    private static func storeType(_ value: String?) -> String {
        let type = value?.trimmingBlanks.uppercased() ?? ""
        return type.isEmpty ? "JKS" : type
    }

    private static func integer(_ value: String, key: String, range: ClosedRange<Int>) throws(DebeziumConfigError) -> Int {
        guard let number = Int(value.trimmingBlanks), range.contains(number) else {
            throw .invalid(key: key, value: value, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// The librdkafka properties for a JAAS login module; errors name the module, never an option value.
    private static func translateJAAS(_ text: String, key: String) throws(DebeziumConfigError) -> [(String, String)] {
        let module: JAASLoginModule
        switch JAASLoginModule.parse(text) {
        case .success(let parsed): module = parsed
        case .failure(let error): throw .unsupportedProducerSetting(key: key, reason: "cannot parse the JAAS entry: \(error.reason)")
        }
        let simpleName = module.moduleClass.split(separator: ".").last.map(String.init) ?? module.moduleClass
        switch simpleName {
        case "PlainLoginModule", "ScramLoginModule":
            guard let username = module.options["username"], let password = module.options["password"] else {
                throw .unsupportedProducerSetting(
                    key: key, reason: "\(simpleName) needs both username and password options")
            }
            return [("sasl.username", username), ("sasl.password", password)]
        case "OAuthBearerLoginModule":
            guard let clientID = module.options["clientId"], let clientSecret = module.options["clientSecret"] else {
                throw .unsupportedProducerSetting(
                    key: key,
                    reason: "OAuthBearerLoginModule without clientId and clientSecret (unsecured or custom tokens)"
                        + " has no librdkafka equivalent; configure sasl.oauthbearer.* for librdkafka directly")
            }
            var result = [
                ("sasl.oauthbearer.method", "oidc"), ("sasl.oauthbearer.client.id", clientID),
                ("sasl.oauthbearer.client.secret", clientSecret),
            ]
            if let scope = module.options["scope"] { result.append(("sasl.oauthbearer.scope", scope)) }
            let extensions = module.options.keys.filter { $0.hasPrefix("extension_") }.sorted()
            if !extensions.isEmpty {
                let pairs = extensions.compactMap { name in
                    module.options[name].map { "\(name.dropFirst("extension_".count))=\($0)" }
                }
                result.append(("sasl.oauthbearer.extensions", pairs.joined(separator: ",")))
            }
            return result
        case "Krb5LoginModule":
            var result: [(String, String)] = []
            if let principal = module.options["principal"] { result.append(("sasl.kerberos.principal", principal)) }
            if let keyTab = module.options["keyTab"] { result.append(("sasl.kerberos.keytab", keyTab)) }
            return result
        default:
            throw .unsupportedProducerSetting(
                key: key, reason: "login module \(module.moduleClass) has no librdkafka equivalent")
        }
    }
}
