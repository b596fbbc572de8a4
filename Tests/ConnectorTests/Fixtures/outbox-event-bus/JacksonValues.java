// Golden Kafka record values of the outbox-event-bus (waterdog-oss/ktor-event-bus 0.11) polling relay.
//
// Run (single-file source launch, Java 11+; the Jackson jars are those of the Debezium set-up,
// /work/shared/debezium/debezium.sh links them into $DBZ_HOME/cp, by default /tmp/debezium-peer/cp):
//
//   java -cp '/tmp/debezium-peer/cp/*' JacksonValues.java <output directory>
//
// It writes <output directory>/cases.json and one <name>.value per case: the exact bytes the relay hands to
// Kafka as the record value. Only facts carry over from the relay (see README.md beside this file); the code
// is ours:
//   - payload: the relay decodes the stored bytes with Kotlin's String(ByteArray), i.e.
//     java.lang.String(bytes, UTF_8) (malformed input replaced by U+FFFD);
//   - timestamp: Instant.now().toString() at publication; here a fixed Instant's toString();
//   - the object: KafkaEvent(topic, uuid, timestamp, msgType, mimeType, payload), all Strings, written in that
//     order (the Kotlin data class's constructor and field order);
//   - the ObjectMapper: INDENT_OUTPUT with a DefaultPrettyPrinter whose objects are indented with
//     DefaultIndenter("  ", "\n") and arrays with FixedSpaceIndenter; JavaTimeModule registered (it changes
//     nothing here: every field is a String); writeValueAsString;
//   - the value bytes: Kafka's StringSerializer, String.getBytes(UTF_8).
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

public class JacksonValues {

    /** The relay's record value, field for field. */
    @JsonPropertyOrder({"topic", "uuid", "timestamp", "msgType", "mimeType", "payload"})
    public static final class RelayValue {
        private final String topic;
        private final String uuid;
        private final String timestamp;
        private final String msgType;
        private final String mimeType;
        private final String payload;

        RelayValue(String topic, String uuid, String timestamp, String msgType, String mimeType, String payload) {
            this.topic = topic;
            this.uuid = uuid;
            this.timestamp = timestamp;
            this.msgType = msgType;
            this.mimeType = mimeType;
            this.payload = payload;
        }

        public String getTopic() { return topic; }
        public String getUuid() { return uuid; }
        public String getTimestamp() { return timestamp; }
        public String getMsgType() { return msgType; }
        public String getMimeType() { return mimeType; }
        public String getPayload() { return payload; }
    }

    record Case(String name, String topic, String uuid, String msgType, String mimeType, byte[] payload,
                long epochSecond, int nanos) {}

    static ObjectMapper relayMapper() {
        ObjectMapper mapper = new ObjectMapper();
        mapper.registerModule(new JavaTimeModule());
        mapper.configure(SerializationFeature.INDENT_OUTPUT, true);
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter();
        printer.indentArraysWith(DefaultPrettyPrinter.FixedSpaceIndenter.instance);
        printer.indentObjectsWith(new DefaultIndenter("  ", "\n"));
        mapper.setDefaultPrettyPrinter(printer);
        return mapper;
    }

    static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) out[i] = (byte) values[i];
        return out;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    static final String UUID_A = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    static final long T0 = 1718438400L; // 2024-06-15T08:00:00Z

    static Case json(String name, byte[] payload) {
        return new Case(name, "orders", UUID_A, "OrderCreated", "application/json", payload, T0, 123_000_000);
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(json("ascii-json", utf8("{\"orderId\":42,\"status\":\"CREATED\",\"lines\":[1,2]}")));
        c.add(json("non-ascii", utf8("{\"name\":\"café 中文 😀\"}")));
        c.add(json("quotes-backslashes", utf8("say \"hi\" \\ C:\\path\\to \\\"x\\\"")));
        byte[] controls = new byte[33];
        for (int i = 0; i < 32; i++) controls[i] = (byte) i;
        controls[32] = 0x7F;
        c.add(json("control-chars", controls));
        c.add(json("line-paragraph-separators", utf8("a\u2028b\u2029c")));
        c.add(json("slash", utf8("a/b </script> http://x/y")));
        c.add(json("bom-and-fffd", utf8("\uFEFFbom \uFFFD literal")));
        c.add(json("invalid-lone-ff", concat(utf8("a"), bytes(0xFF), utf8("b"))));
        c.add(json("invalid-lone-continuation-80", concat(utf8("a"), bytes(0x80), utf8("b"))));
        c.add(json("invalid-truncated-c3-at-end", concat(utf8("a"), bytes(0xC3))));
        c.add(json("invalid-truncated-c3-before-ascii", concat(utf8("a"), bytes(0xC3), utf8("b"))));
        c.add(json("invalid-truncated-e282-at-end", concat(utf8("a"), bytes(0xE2, 0x82))));
        c.add(json("invalid-truncated-e282-before-ascii", concat(utf8("a"), bytes(0xE2, 0x82), utf8("b"))));
        c.add(json("invalid-truncated-f09f98-at-end", concat(utf8("a"), bytes(0xF0, 0x9F, 0x98))));
        c.add(json("invalid-truncated-f09f98-before-ascii", concat(utf8("a"), bytes(0xF0, 0x9F, 0x98), utf8("b"))));
        c.add(json("invalid-overlong-c0af", concat(utf8("a"), bytes(0xC0, 0xAF), utf8("b"))));
        c.add(json("invalid-overlong-e080af", concat(utf8("a"), bytes(0xE0, 0x80, 0xAF), utf8("b"))));
        c.add(json("invalid-surrogate-eda080", concat(utf8("a"), bytes(0xED, 0xA0, 0x80), utf8("b"))));
        c.add(json("invalid-surrogate-pair-eda0bdedb880", concat(utf8("a"), bytes(0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80), utf8("b"))));
        c.add(json("invalid-truncated-eda0-at-end", concat(utf8("a"), bytes(0xED, 0xA0))));
        c.add(json("invalid-truncated-eda0-before-ascii", concat(utf8("a"), bytes(0xED, 0xA0), utf8("b"))));
        c.add(json("invalid-overlong-f0808080", concat(utf8("a"), bytes(0xF0, 0x80, 0x80, 0x80), utf8("b"))));
        c.add(json("invalid-truncated-f490-at-end", concat(utf8("a"), bytes(0xF4, 0x90))));
        c.add(json("invalid-above-max-f4908080", concat(utf8("a"), bytes(0xF4, 0x90, 0x80, 0x80), utf8("b"))));
        c.add(json("invalid-f5-f8-fe", concat(utf8("a"), bytes(0xF5, 0x80), utf8("b"), bytes(0xF8, 0x88, 0x80, 0x80, 0x80), utf8("c"), bytes(0xFE), utf8("d"))));
        c.add(json("invalid-then-valid", concat(bytes(0xFF), utf8("é"), bytes(0xC3), utf8("中"), bytes(0xE4, 0xB8), utf8("😀"))));
        c.add(json("empty-payload", new byte[0]));
        c.add(new Case("metadata-quote-non-ascii", "top\"ic-é中", "00000000-0000-0000-0000-000000000000",
                "Type \"X\" — ünïcode 😀", "text/plain; charset=\"utf-8\"", utf8("plain text"), T0, 123_000_000));
        c.add(new Case("metadata-controls-backslash", "t\\opic", UUID_A, "tab\there", "a/b\u0001", utf8("x"), T0, 123_000_000));
        c.add(new Case("ts-zero-nanos", "orders", UUID_A, "OrderCreated", "application/json", utf8("{}"), T0, 0));
        c.add(new Case("ts-epoch", "orders", UUID_A, "OrderCreated", "application/json", utf8("{}"), 0L, 0));
        c.add(new Case("ts-millis", "orders", UUID_A, "OrderCreated", "application/json", utf8("{}"), T0, 123_000_000));
        c.add(new Case("ts-millis-trailing-zeros", "orders", UUID_A, "OrderCreated", "application/json", utf8("{}"), T0, 100_000_000));
        c.add(new Case("ts-micros", "orders", UUID_A, "OrderCreated", "application/json", utf8("{}"), T0, 123_456_000));
        c.add(new Case("ts-micros-trailing-zeros", "orders", UUID_A, "OrderCreated", "application/json", utf8("{}"), T0, 120_000_000 + 10_000));
        c.add(new Case("ts-nanos", "orders", UUID_A, "OrderCreated", "application/json", utf8("{}"), T0, 123_456_789));
        c.add(new Case("ts-one-nano", "orders", UUID_A, "OrderCreated", "application/json", utf8("{}"), T0, 1));
        c.add(new Case("ts-before-epoch", "orders", UUID_A, "OrderCreated", "application/json", utf8("{}"), -1L, 999_999_000));
        c.add(new Case("ts-year-10000", "orders", UUID_A, "OrderCreated", "application/json", utf8("{}"), 253402300800L, 0));
        return c;
    }

    /** Kotlin's String(ByteArray) = java.lang.String(bytes, UTF_8); checked against a REPLACE decoder. */
    static String relayDecode(byte[] payload) throws Exception {
        String viaString = new String(payload, StandardCharsets.UTF_8);
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        CharBuffer viaDecoder = decoder.decode(ByteBuffer.wrap(payload));
        if (!viaString.equals(viaDecoder.toString())) {
            throw new IllegalStateException("String(bytes, UTF_8) and the REPLACE decoder disagree");
        }
        return viaString;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java -cp '<jackson jars>/*' JacksonValues.java <output directory>");
            System.exit(2);
        }
        Path out = Paths.get(args[0]);
        Files.createDirectories(out);
        ObjectMapper relay = relayMapper();
        ObjectMapper plain = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode index = plain.createArrayNode();
        HexFormat hex = HexFormat.of();
        for (Case c : cases()) {
            String timestamp = Instant.ofEpochSecond(c.epochSecond(), c.nanos()).toString();
            RelayValue value = new RelayValue(c.topic(), c.uuid(), timestamp, c.msgType(), c.mimeType(),
                    relayDecode(c.payload()));
            byte[] valueBytes = relay.writeValueAsString(value).getBytes(StandardCharsets.UTF_8);
            Files.write(out.resolve(c.name() + ".value"), valueBytes);

            ObjectNode entry = index.addObject();
            entry.put("name", c.name());
            entry.put("topic", c.topic());
            entry.put("uuid", c.uuid());
            entry.put("msgType", c.msgType());
            entry.put("mimeType", c.mimeType());
            entry.put("payloadHex", hex.formatHex(c.payload()));
            ObjectNode ts = entry.putObject("timestamp");
            ts.put("epochSecond", c.epochSecond());
            ts.put("nanos", c.nanos());
        }
        String indexText = plain.writeValueAsString(index) + "\n";
        Files.write(out.resolve("cases.json"), indexText.getBytes(StandardCharsets.UTF_8));
        System.out.println("wrote " + index.size() + " cases with Jackson "
                + com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION + " on Java "
                + System.getProperty("java.version"));
    }
}
