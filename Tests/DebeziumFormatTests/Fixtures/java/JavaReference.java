// Writes reference outputs of the JDK for the tests (no dependencies; run with the JDK that captured the
// goldens, OpenJDK 17.0.15):
//   java JavaReference.java double > double-tostring.tsv
//   java JavaReference.java float > float-tostring.tsv
//   java JavaReference.java router > regex-router.jsonl
// double: `<raw bits in hex>\t<Double.toString>` per line; float: `<raw bits in hex>\t<Float.toString>`.
// router: one JSON array per line, [regex, replacement, value, result], where result is what Kafka
// Connect's RegexRouter makes of the value (matches() ? replaceFirst(replacement) : value), or
// "!regex: <message>" / "!replacement: <message>" when Java throws.
import java.util.*;
import java.util.regex.*;

public class JavaReference {
    public static void main(String[] args) {
        if (args[0].equals("double")) doubles(); else if (args[0].equals("float")) floats(); else router();
    }

    static void doubles() {
        List<Double> values = new ArrayList<>(List.of(
            0.0, -0.0, 1.0, -1.0, 0.1, 0.001, 0.0009999, 1.0E-4, 12.5, 12.50, 1500.0, 9999999.0, 9999999.999, 1.0E7,
            10000001.0, 1.0E-5, 1.0E21, 1.0E22, 1.0E23, 2.0E23, 8.41E21, 5.0E-324, 4.9E-324, 1.0E-323, 2.2250738585072014E-308,
            Double.MIN_VALUE, Double.MAX_VALUE, Double.MIN_NORMAL, 3.0E9, 123456789.0, 0.30000000000000004, 100.0, 1.0E16,
            1.2345678901234567E-7, 2.82879384806159E17, 1.0E-320, 3.14159, Math.PI, Math.E, 1.7976931348623157E308,
            Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY));
        SplittableRandom random = new SplittableRandom(20261123L);
        for (int i = 0; i < 3000; i++) values.add(Double.longBitsToDouble(random.nextLong()));
        for (int i = 0; i < 2000; i++) values.add(random.nextLong(-10_000_000, 10_000_000) / 100.0);
        for (int i = 0; i < 2000; i++) values.add(random.nextInt(1, 1000) * Math.pow(10, random.nextInt(-330, 310)));
        for (int i = 0; i < 500; i++) values.add(Double.longBitsToDouble(random.nextLong(1L, 1L << 20)));
        for (double value : values) {
            System.out.println(Long.toHexString(Double.doubleToRawLongBits(value)) + "\t" + Double.toString(value));
        }
    }

    static void floats() {
        List<Float> values = new ArrayList<>(List.of(
            0.0f, -0.0f, 1.0f, -1.0f, 0.1f, -0.1f, 1.5f, 0.001f, 1.0E-4f, 9999999.0f, 1.0E7f, 123456.7f, 3.4028235E38f,
            1.1754944E-38f, Float.MIN_VALUE, Float.MAX_VALUE, Float.MIN_NORMAL, 3.14159f, 16777216.0f, 16777217.0f,
            1.0E10f, 2.0E-45f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY));
        SplittableRandom random = new SplittableRandom(20261203L);
        for (int i = 0; i < 3000; i++) values.add(Float.intBitsToFloat(random.nextInt()));
        for (int i = 0; i < 2000; i++) values.add(random.nextInt(-10_000_000, 10_000_000) / 100.0f);
        for (int i = 0; i < 2000; i++) values.add((float) (random.nextInt(1, 1000) * Math.pow(10, random.nextInt(-45, 38))));
        for (int i = 0; i < 500; i++) values.add(Float.intBitsToFloat(random.nextInt(1, 1 << 23)));
        for (float value : values) {
            System.out.println(Integer.toHexString(Float.floatToRawIntBits(value)) + "\t" + Float.toString(value));
        }
    }

    static void router() {
        String[] lineTerminated = {"Order", "", "A\nB", "A\rB", "A\u0085B", "A\u2028B", "A\u2029B", "A\u000BB", "A\u000CB",
            "Zoë 😀", "a.b-c_d", "$1", "\\"};
        String[] routedValues = {"OrderCreated", "Created", "OrderShipped", "CustomerDeleted", "", "createdCreated",
            "Order\nCreated", "Ordér😀Created", "CreatedCreated"};
        Object[][] cases = {
            {"(?<routedByValue>.*)", "outbox.event.${routedByValue}", lineTerminated},
            {"(?<routedByValue>.*)", "t.$1.$0", lineTerminated},
            {"(?<routedByValue>.*)Created", "events.${routedByValue}", routedValues},
            {"(?<routedByValue>.*)Created", "events.$1", routedValues},
            {"(?<routedByValue>.*)Created", "\\$1\\\\\\e.${routedByValue}", routedValues},
            {"(?<routedByValue>.*)Created", "events.$12", routedValues},
            {"(?<routedByValue>.*)Created", "events.${nope}", routedValues},
            {"(?<routedByValue>.*)Created", "events.$2", routedValues},
            {"(?<routedByValue>.*)Created", "events.\\", routedValues},
            {"(?<routedByValue>.*)Created", "events.$", routedValues},
            {"(?<agg>[A-Z][a-z]+)(?<evt>[A-Z].*)", "${agg}_${evt}", routedValues},
            {"(?<agg>[A-Z][a-z]+)(?<evt>[A-Z].*)?", "$2-$1", new String[] {"Order", "OrderCreated", "order"}},
            {"a|ab", "X$0Y", new String[] {"a", "ab", "abc", "b"}},
            {"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)", "$12|$11|$10|$1", new String[] {"abcdefghijkl"}},
            {"(?i)order(?<rest>.*)", "orders.${rest}", new String[] {"ORDERshipped", "Order", "other"}},
            {"(?<x>.*)(?=Created)Created", "x.${x}", routedValues},
            {"(?<x>.+)", "${x}.v1", new String[] {"", "é", "😀😀", "a b"}},
            {"(\\w+)\\.(\\w+)", "$2.$1", new String[] {"public.outbox", "a.b.c", "x"}},
            {"(?<routedByValue>.*", "x", new String[] {"a"}},
            {"[a-", "x", new String[] {"a"}},
            {"(?<a>x)(?<a>y)", "x", new String[] {"xy"}},
        };
        for (Object[] testCase : cases) {
            String regex = (String) testCase[0];
            String replacement = (String) testCase[1];
            for (String value : (String[]) testCase[2]) {
                String result;
                try {
                    Matcher matcher = Pattern.compile(regex).matcher(value);
                    try {
                        result = matcher.matches() ? matcher.replaceFirst(replacement) : value;
                    } catch (RuntimeException e) {
                        result = "!replacement: " + e.getMessage();
                    }
                } catch (PatternSyntaxException e) {
                    result = "!regex: " + e.getDescription();
                }
                System.out.println("[" + json(regex) + "," + json(replacement) + "," + json(value) + "," + json(result) + "]");
            }
        }
    }

    static String json(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20 || c > 0x7E) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }
}
