#!/usr/bin/env python3
"""Renders every case of cases.json independently of Java and compares with the .value files.

    python3 check_values.py [fixture directory]

Two renderings per case:
  rule:  the rules written down in README.md (Java's UTF-8 replacement, Jackson's escapes, ISO_INSTANT);
         every .value file must equal it, or the script exits 1.
  naive: bytes.decode('utf-8', 'replace') + json.dumps(ensure_ascii=False) + always three fraction digits;
         listed where it differs, to show what an implementation must not do.
"""
import json
import os
import sys


def is_cont(b):
    return 0x80 <= b <= 0xBF


def java_utf8_decode(data: bytes) -> str:
    """java.lang.String(bytes, UTF_8): malformed input replaced by U+FFFD, one per malformed subsequence."""
    out = []
    i, n = 0, len(data)
    R = "\ufffd"
    while i < n:
        b1 = data[i]
        if b1 < 0x80:
            out.append(chr(b1))
            i += 1
        elif 0xC2 <= b1 <= 0xDF:
            if i + 1 < n and is_cont(data[i + 1]):
                out.append(chr(((b1 & 0x1F) << 6) | (data[i + 1] & 0x3F)))
                i += 2
            else:
                out.append(R)
                i += 1
        elif 0xE0 <= b1 <= 0xEF:
            # second byte: only E0 restricts it (A0..BF); ED is NOT restricted here (unlike Unicode's table)
            def bad2(b2):
                return (b1 == 0xE0 and 0x80 <= b2 <= 0x9F) or not is_cont(b2)
            if i + 2 < n:
                b2, b3 = data[i + 1], data[i + 2]
                if bad2(b2):
                    out.append(R); i += 1
                elif not is_cont(b3):
                    out.append(R); i += 2
                else:
                    c = ((b1 & 0x0F) << 12) | ((b2 & 0x3F) << 6) | (b3 & 0x3F)
                    out.append(R if 0xD800 <= c <= 0xDFFF else chr(c))  # a surrogate: ONE U+FFFD for 3 bytes
                    i += 3
            elif i + 1 < n:
                if bad2(data[i + 1]):
                    out.append(R); i += 1
                else:
                    out.append(R); i += 2  # truncated at the end: one U+FFFD (ED A0 included)
            else:
                out.append(R); i += 1
        elif 0xF0 <= b1 <= 0xF4:
            def bad2(b2):
                return ((b1 == 0xF0 and not 0x90 <= b2 <= 0xBF) or (b1 == 0xF4 and not 0x80 <= b2 <= 0x8F)
                        or not is_cont(b2))
            if i + 3 < n:
                b2, b3, b4 = data[i + 1], data[i + 2], data[i + 3]
                if bad2(b2):
                    out.append(R); i += 1
                elif not is_cont(b3):
                    out.append(R); i += 2
                elif not is_cont(b4):
                    out.append(R); i += 3
                else:
                    out.append(chr(((b1 & 0x07) << 18) | ((b2 & 0x3F) << 12) | ((b3 & 0x3F) << 6) | (b4 & 0x3F)))
                    i += 4
            else:
                if i + 1 < n and bad2(data[i + 1]):
                    out.append(R); i += 1
                else:
                    # consume the lead and a valid second byte; a third byte too unless it is not a continuation
                    j = i + 2
                    if j < n and is_cont(data[j]):
                        j += 1
                    out.append(R); i = min(j, n)
        else:  # 80..BF, C0, C1, F5..FF
            out.append(R)
            i += 1
    return "".join(out)


SHORT = {0x22: '\\"', 0x5C: "\\\\", 0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}


def jackson_string(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if o in SHORT:
            out.append(SHORT[o])
        elif o < 0x20:
            out.append("\\u%04X" % o)  # upper-case hex
        else:
            out.append(ch)  # 0x7F, '/', U+2028/9, non-ASCII: as is
    out.append('"')
    return "".join(out)


def iso_instant(sec: int, nanos: int) -> str:
    """java.time.Instant.toString (DateTimeFormatter.ISO_INSTANT), for years 0000..999999999."""
    days, rem = divmod(sec, 86400)
    # proleptic Gregorian date from days since 1970-01-01 (H. Hinnant's civil_from_days)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    year = "%04d" % y if y <= 9999 else "+%d" % y
    clock = "%02d:%02d:%02d" % (rem // 3600, rem % 3600 // 60, rem % 60)
    if nanos == 0:
        frac = ""
    elif nanos % 1_000_000 == 0:
        frac = ".%03d" % (nanos // 1_000_000)
    elif nanos % 1000 == 0:
        frac = ".%06d" % (nanos // 1000)
    else:
        frac = ".%09d" % nanos
    return "%s-%02d-%02dT%s%sZ" % (year, m, d, clock, frac)


def render(fields, string):
    body = ",\n".join('  %s : %s' % (string(k), string(v)) for k, v in fields)
    return ("{\n" + body + "\n}").encode("utf-8")


def fields_of(case, payload_text, timestamp):
    return [("topic", case["topic"]), ("uuid", case["uuid"]), ("timestamp", timestamp),
            ("msgType", case["msgType"]), ("mimeType", case["mimeType"]), ("payload", payload_text)]


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    cases = json.load(open(os.path.join(d, "cases.json"), encoding="utf-8"))
    failures = 0
    for c in cases:
        actual = open(os.path.join(d, c["name"] + ".value"), "rb").read()
        payload = bytes.fromhex(c["payloadHex"])
        ts = c["timestamp"]
        rule = render(fields_of(c, java_utf8_decode(payload), iso_instant(ts["epochSecond"], ts["nanos"])),
                      jackson_string)
        if rule != actual:
            failures += 1
            print("RULE MISMATCH %s\n  expected %r\n  actual   %r" % (c["name"], rule, actual))
        notes = []
        py_text = payload.decode("utf-8", "replace")
        if py_text != java_utf8_decode(payload):
            notes.append("decode: python %r, java %r" % (py_text, java_utf8_decode(payload)))
        # a common hand-written format: always three fraction digits (e.g. ISO8601DateFormatter with fractional seconds)
        naive_ts = iso_instant(ts["epochSecond"], 0)[:-1] + ".%03dZ" % (ts["nanos"] // 1_000_000)
        naive = render(fields_of(c, py_text, naive_ts), lambda s: json.dumps(s, ensure_ascii=False))
        if naive != actual:
            esc = render(fields_of(c, java_utf8_decode(payload), iso_instant(ts["epochSecond"], ts["nanos"])),
                         lambda s: json.dumps(s, ensure_ascii=False))
            if esc != actual:
                diff = [(a, b) for a, b in zip(esc.split(b"\\u"), actual.split(b"\\u")) if a[:4] != b[:4]]
                notes.append("escapes: json.dumps writes %s where Jackson writes %s" % (
                    ", ".join("\\u" + a[:4].decode() for a, _ in diff), ", ".join("\\u" + b[:4].decode() for _, b in diff)))
            if naive_ts != iso_instant(ts["epochSecond"], ts["nanos"]):
                notes.append("timestamp: fixed .SSS %s, Instant.toString %s"
                             % (naive_ts, iso_instant(ts["epochSecond"], ts["nanos"])))
        if notes:
            print("%s:\n  %s" % (c["name"], "\n  ".join(notes)))
    print("%d cases, %d rule mismatches" % (len(cases), failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
