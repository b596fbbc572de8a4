// swift-tools-version:6.0
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "outbox-cdc",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "outbox-cdc", targets: ["outbox-cdc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // HDR histograms for the benchmark's latency distributions (pulls in only swift-numerics to build).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // The native configuration file (`--config`, YAML): a real YAML parser rather than a subset of our own.
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // Metrics: the library records through swift-metrics' API; only the executable picks the backend,
        // swift-prometheus (which needs only swift-atomics besides), and serves it on --metrics-address.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    ],
    targets: [
        // Thin C modules: headers and link flags only. Swift wrappers in WALReader and Connector own every
        // C resource; no C type crosses a public API.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CLibRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),

        // Log sequence numbers, shared by the pure decoder and the replication reader.
        .target(name: "PostgresLSN", swiftSettings: strictSettings),
        // Table names as PostgreSQL reads and prints them, and a relation's lineage (its parents), so that pure
        // mapping code can name tables without the replication reader (and its libpq). Pure.
        .target(name: "PostgresNames", swiftSettings: strictSettings),
        // What PostgreSQL's protocols carry, read without I/O: big-endian integers (BigEndianReader) and
        // timestamps (PostgresTimestamp: the binary microseconds since 2000, and the ISO text). Pure.
        .target(name: "PostgresWire", swiftSettings: strictSettings),
        // The wall clock (WallClock, CLOCK_REALTIME) and `Duration` in milliseconds, nanoseconds and seconds. No I/O
        // beyond reading the clock. (The monotonic clock is the standard library's ContinuousClock.)
        .target(name: "Clocks", swiftSettings: strictSettings),
        // Threads of their own for blocking work (DedicatedThread: run, detached or joinable), named for `top -H`.
        .target(name: "Threads", swiftSettings: strictSettings),
        // One JSON tokenizer (RFC 8259 tokens with their spans, typed errors, no traps) under the three JSON
        // readers: Kafka Connect's config, Jackson's tree for expand.json.payload, and the header columns. Pure.
        .target(name: "JSONTokens", swiftSettings: strictSettings),
        // Pure Swift pgoutput decoder: bytes in, typed message or typed error out. No I/O, no C.
        .target(name: "PgOutputDecoder", dependencies: ["PostgresLSN", "PostgresWire"], swiftSettings: strictSettings),
        // Reads an existing Debezium deployment's configuration (Kafka Connect JSON or .properties, Debezium
        // Server application.properties) into typed settings. Pure: file contents in, settings or typed error out.
        .target(name: "DebeziumFormat", dependencies: ["JSONTokens", "PostgresWire"], swiftSettings: strictSettings),
        // What the operator's settings resolve to, apart from any I/O: each librdkafka property across the
        // layers it can be set in, and a secret file's text as the secret. Pure, so that its rules have unit tests.
        .target(name: "OperatorSettings", swiftSettings: strictSettings),
        // libpq replication connection, the CopyBoth envelope, standby status updates.
        .target(
            name: "WALReader",
            dependencies: [
                "CLibPQ", "Clocks", "PostgresLSN", "PostgresNames", "PostgresWire",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The librdkafka wrappers: one type owns each rd_kafka_t; delivery reports on a dedicated thread.
        .target(
            name: "KafkaClient",
            dependencies: ["CLibRdKafka", "Clocks", "Threads", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // Outbox mapping, the librdkafka producer, the checkpoint tracker and the streaming pipeline.
        .target(
            name: "Connector",
            dependencies: [
                "WALReader", "PgOutputDecoder", "PostgresLSN", "PostgresNames", "PostgresWire", "KafkaClient", "DebeziumFormat",
                "Clocks", "JSONTokens", "Threads",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // `outbox-cdc bench`: end-to-end latency against a polling relay, drain beside the raw limits,
        // and the decoder micro-benchmark.
        .target(
            name: "OutboxBench",
            dependencies: [
                "Connector", "WALReader", "PgOutputDecoder", "PostgresLSN", "PostgresNames", "PostgresWire", "KafkaClient", "Clocks",
                "Threads",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "outbox-cdc",
            dependencies: [
                "Connector", "WALReader", "PostgresLSN", "PostgresNames", "OutboxBench", "DebeziumFormat", "OperatorSettings",
                "Clocks", "Threads",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),

        // Helpers shared by the test targets: a seedable PRNG, Kafka's murmur2, the golden records' files.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strictSettings),
        .testTarget(
            name: "PostgresLSNTests",
            dependencies: ["PostgresLSN", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PostgresNamesTests",
            dependencies: ["PostgresNames"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PostgresWireTests",
            dependencies: ["PostgresWire", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ClocksTests",
            dependencies: ["Clocks"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ThreadsTests",
            dependencies: ["Threads"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "JSONTokensTests",
            dependencies: ["JSONTokens", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PgOutputDecoderTests",
            dependencies: ["PgOutputDecoder", "PostgresLSN", "PostgresWire", "TestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DebeziumFormatTests",
            dependencies: ["DebeziumFormat", "PgOutputDecoder", "TestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OperatorSettingsTests",
            dependencies: ["OperatorSettings"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KafkaClientTests",
            dependencies: ["KafkaClient", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WALReaderTests",
            dependencies: ["WALReader", "PostgresLSN", "PostgresNames", "PostgresWire", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConnectorTests",
            dependencies: [
                "Connector", "DebeziumFormat", "WALReader", "PgOutputDecoder", "PostgresLSN", "PostgresNames", "KafkaClient",
                "TestSupport",
            ],
            // Read by path (#filePath), as the end-to-end tests read them too.
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OutboxBenchTests",
            dependencies: ["OutboxBench", "PgOutputDecoder", "Connector"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Connector", "DebeziumFormat", "WALReader", "PostgresLSN", "KafkaClient", "TestSupport", "outbox-cdc"],
            swiftSettings: strictSettings
        ),
    ]
)
