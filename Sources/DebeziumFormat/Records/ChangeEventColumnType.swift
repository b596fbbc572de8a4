import PostgresWire


/// The connector settings that decide how Debezium's PostgreSQL connector turns column values into Connect
/// data in its change events.
public struct ColumnValueModes: Sendable, Hashable {
    /// `decimal.handling.mode`.
    public enum DecimalHandling: String, Sendable, CaseIterable {
        /// Connect `Decimal` bytes for `numeric(p,s)`, `io.debezium.data.VariableScaleDecimal` for `numeric`.
        case precise
        /// The number's text.
        case string
        /// A `double`.
        case double
    }

    /// `time.precision.mode`.
    public enum TimePrecision: String, Sendable, CaseIterable {
        /// Milliseconds for a precision up to 3, microseconds above (`io.debezium.time.*`).
        case adaptive
        /// Kafka Connect's own logical types, milliseconds (`org.apache.kafka.connect.data.*`).
        case connect
    }

    public var decimal: DecimalHandling
    public var time: TimePrecision

    public init(decimal: DecimalHandling = .precise, time: TimePrecision = .adaptive) {
        self.decimal = decimal
        self.time = time
    }
}

/// A column of a captured table as Debezium 3.6.3's PostgreSQL connector types it in a change event: its
/// Connect schema and the Connect value of its pgoutput text. The types are those checked against the
/// real Debezium (Tests/DebeziumFormatTests/Fixtures/goldens/change-types-*, CHANGE-EVENTS-FINDINGS.md);
/// any other is refused, never guessed.
public struct ChangeEventColumnType: Sendable, Hashable {
    /// `pg_type.oid` and `atttypmod`, as pgoutput's Relation message gives them.
    public var type: PostgresColumnType
    /// An enum type's labels in their order (`pg_enum.enumsortorder`); nil when the type is no enum. The
    /// Relation message names an enum only by its oid, so the catalog says what it is.
    public var enumLabels: [String]?
    public var modes: ColumnValueModes

    public init(type: PostgresColumnType, enumLabels: [String]? = nil, modes: ColumnValueModes = ColumnValueModes()) {
        self.type = type
        self.enumLabels = enumLabels
        self.modes = modes
    }

    // Built-in type oids (pg_type.dat).
    static let float4: UInt32 = 700
    static let date: UInt32 = 1082
    static let time: UInt32 = 1083
    static let interval: UInt32 = 1186
    static let timetz: UInt32 = 1266
    static let numeric: UInt32 = 1700
    static let int4Array: UInt32 = 1007
    static let textArray: UInt32 = 1009

    /// The elements of a one-dimensional array's text (`{sad,ok,"so so"}`), NULL as nil; nil when the text
    /// is no such array. For the catalog's `array_agg` of an enum's labels too.
    public static func arrayElements(_ text: String) -> [String?]? {
        try? ChangeEventText.arrayElements(text)
    }

    /// Whether this is a type the change events reproduce.
    public var isSupported: Bool {
        (try? schema(optional: true)) != nil
    }

    /// The column's field schema; `optional` is the column's nullability.
    public func schema(optional: Bool) throws(ChangeEventValueError) -> ConnectSchema {
        let oid = type.oid
        if let enumLabels {
            var schema = ConnectSchema(type: .string, optional: optional, name: "io.debezium.data.Enum", version: 1)
            schema.parameters = [ConnectSchemaParameter("allowed", enumLabels.joined(separator: ","))]
            return schema
        }
        switch oid {
        case Self.float4:
            return ConnectSchema(type: .float32, optional: optional)
        case Self.numeric:
            return try numericSchema(optional: optional)
        case Self.date:
            return ConnectSchema(
                type: .int32, optional: optional,
                name: modes.time == .connect ? "org.apache.kafka.connect.data.Date" : "io.debezium.time.Date", version: 1
            )
        case Self.time:
            if modes.time == .connect {
                return ConnectSchema(type: .int32, optional: optional, name: "org.apache.kafka.connect.data.Time", version: 1)
            }
            return timeIsMilliseconds
                ? ConnectSchema(type: .int32, optional: optional, name: "io.debezium.time.Time", version: 1)
                : ConnectSchema(type: .int64, optional: optional, name: "io.debezium.time.MicroTime", version: 1)
        case Self.timetz:
            return ConnectSchema(type: .string, optional: optional, name: "io.debezium.time.ZonedTime", version: 1)
        case PostgresColumnType.timestamp.oid:
            if modes.time == .connect {
                return ConnectSchema(type: .int64, optional: optional, name: "org.apache.kafka.connect.data.Timestamp", version: 1)
            }
            return ConnectSchema(
                type: .int64, optional: optional,
                name: timeIsMilliseconds ? "io.debezium.time.Timestamp" : "io.debezium.time.MicroTimestamp", version: 1
            )
        case PostgresColumnType.timestamptz.oid:
            return ConnectSchema(type: .string, optional: optional, name: "io.debezium.time.ZonedTimestamp", version: 1)
        case Self.interval:
            return ConnectSchema(type: .int64, optional: optional, name: "io.debezium.time.MicroDuration", version: 1)
        case Self.textArray:
            return .array(of: ConnectSchema(type: .string, optional: true), optional: optional)
        case Self.int4Array:
            return .array(of: ConnectSchema(type: .int32, optional: true), optional: optional)
        default:
            // The types the EventRouter places have the same schemas in change events.
            do {
                return try type.connectSchema(optional: optional)
            } catch {
                throw .unsupportedType(oid: oid)
            }
        }
    }

    /// The Connect value of the column's text (nil: NULL).
    public func data(text: String?) throws(ChangeEventValueError) -> ConnectData {
        guard let text else { return .null }
        if enumLabels != nil { return .string(text) }
        switch type.oid {
        case Self.float4:
            guard let value = Float(text) else { throw .malformed(oid: type.oid, text: text) }
            return .float32(value)
        case Self.numeric:
            return try numericData(text)
        case Self.date:
            // PostgreSQL's infinite dates come out of Debezium (through pgjdbc's sentinels) as these day numbers
            // (change-types-special), whatever the modes.
            if text == "infinity" { return .int32(-2_147_472_692) }
            if text == "-infinity" { return .int32(-2_147_472_691) }
            let days = try ChangeEventText.days(date: text)
            guard let value = Int32(exactly: days) else { throw .notReproduced(text: text, why: "a date beyond 32-bit days") }
            return .int32(value)
        case Self.time:
            let micros = try ChangeEventText.microsecondsOfDay(text)
            if modes.time == .connect || timeIsMilliseconds {
                return .int32(Int32(micros / 1_000))
            }
            return .int64(micros)
        case Self.timetz:
            return .string(try ChangeEventText.zonedTime(text))
        case PostgresColumnType.timestamp.oid:
            // pgjdbc's infinite-timestamp sentinels, which Debezium's adaptive mode writes as microseconds as
            // they are (change-types-special); in milliseconds they are not captured, so not reproduced.
            if text == "infinity" || text == "-infinity", modes.time == .adaptive, !timeIsMilliseconds {
                return .int64(text == "infinity" ? 9_223_372_036_825_200_000 : -9_223_372_036_832_400_000)
            }
            let parts = try ChangeEventText.dateTime(text, withOffset: false)
            guard let micros = parts.epochMicroseconds else {
                throw .notReproduced(text: text, why: "beyond 64-bit microseconds since 1970 (Debezium's value overflows)")
            }
            if modes.time == .connect || timeIsMilliseconds {
                return .int64(ChangeEventText.floorDivide(micros, by: 1_000))
            }
            return .int64(micros)
        case PostgresColumnType.timestamptz.oid:
            return .string(try ChangeEventText.zonedTimestamp(text))
        case Self.interval:
            return .int64(try ChangeEventText.microDuration(text))
        case Self.textArray:
            return .array(try ChangeEventText.arrayElements(text).map { element in element.map(ConnectData.string) ?? .null })
        case Self.int4Array:
            return .array(try ChangeEventText.arrayElements(text).map { element throws(ChangeEventValueError) -> ConnectData in
                guard let element else { return .null }
                guard let value = Int32(element) else { throw .malformed(oid: type.oid, text: text) }
                return .int32(value)
            })
        default:
            do {
                return try type.connectData(text: text)
            } catch {
                switch error {
                case .unsupportedType(let oid): throw .unsupportedType(oid: oid)
                case .malformed(let oid, let text): throw .malformed(oid: oid, text: text)
                case .timestamp(let reason): throw .notReproduced(text: text, why: reason.description)
                }
            }
        }
    }

    /// `time(p)` and `timestamp(p)` with p ≤ 3 are milliseconds under `adaptive`; no precision is 6.
    private var timeIsMilliseconds: Bool { type.typmod >= 0 && type.typmod <= 3 }

    /// A `numeric(p,s)`'s precision and scale from its typmod; nil for a plain `numeric`. Since PostgreSQL
    /// 15 the scale is 11 bits with a sign.
    var numericPrecisionAndScale: (precision: Int, scale: Int)? {
        guard type.typmod >= 4 else { return nil }
        let packed = Int(type.typmod) - 4
        let rawScale = packed & 0x7FF
        return ((packed >> 16) & 0xFFFF, rawScale > 1023 ? rawScale - 2048 : rawScale)
    }

    private func numericSchema(optional: Bool) throws(ChangeEventValueError) -> ConnectSchema {
        switch modes.decimal {
        case .string: return ConnectSchema(type: .string, optional: optional)
        case .double: return ConnectSchema(type: .float64, optional: optional)
        case .precise:
            if let (precision, scale) = numericPrecisionAndScale {
                guard scale >= 0 else { throw .unsupportedType(oid: type.oid) }
                var schema = ConnectSchema(type: .bytes, optional: optional, name: "org.apache.kafka.connect.data.Decimal", version: 1)
                schema.parameters = [ConnectSchemaParameter("scale", String(scale)), ConnectSchemaParameter("connect.decimal.precision", String(precision))]
                return schema
            }
            var schema = ConnectSchema.struct(name: "io.debezium.data.VariableScaleDecimal", optional: optional, version: 1, fields: [
                ConnectField(name: "scale", schema: ConnectSchema(type: .int32, optional: false)),
                ConnectField(name: "value", schema: ConnectSchema(type: .bytes, optional: false)),
            ])
            schema.doc = "Variable scaled decimal"
            return schema
        }
    }

    private func numericData(_ text: String) throws(ChangeEventValueError) -> ConnectData {
        let special = ["NaN": "NAN", "Infinity": "POSITIVE_INFINITY", "-Infinity": "NEGATIVE_INFINITY"][text]
        switch modes.decimal {
        case .string:
            return .string(special ?? text)
        case .double:
            guard let value = Double(text) else { throw .malformed(oid: type.oid, text: text) }
            return .float64(value)
        case .precise:
            // Debezium cannot hold NaN or an infinity in a BigDecimal: it writes null (and logs a warning).
            if special != nil { return .null }
            guard let decimal = DecimalText(text) else { throw .malformed(oid: type.oid, text: text) }
            if let (_, scale) = numericPrecisionAndScale {
                guard let unscaled = decimal.unscaledBytes(scale: scale) else { throw .malformed(oid: type.oid, text: text) }
                return .bytes(unscaled)
            }
            let stripped = decimal.strippingTrailingFractionZeros()
            guard let unscaled = stripped.unscaledBytes(scale: stripped.fractionDigits.count), let scale = Int32(exactly: stripped.fractionDigits.count) else {
                throw .malformed(oid: type.oid, text: text)
            }
            return .struct([.int32(scale), .bytes(unscaled)])
        }
    }
}

/// Why a column's type or value cannot be put into a change event as Debezium would.
public enum ChangeEventValueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A type outside those reproduced.
    case unsupportedType(oid: UInt32)
    /// The text is not the type's output form.
    case malformed(oid: UInt32, text: String)
    /// A value of a supported type whose Debezium form is not reproduced (an infinite date, say).
    case notReproduced(text: String, why: String)
    /// A transform Debezium runs fails on this record too (Kafka Connect then stops the task, or under
    /// `errors.tolerance=all` skips the record).
    case transformFails(String)

    public var description: String {
        switch self {
        case .unsupportedType(let oid): return "PostgreSQL type oid \(oid) is not one whose change events outbox-cdc reproduces"
        case .malformed(let oid, let text): return "\"\(text)\" is not the text of PostgreSQL type oid \(oid)"
        case .notReproduced(let text, let why): return "\"\(text)\": its Debezium form is not reproduced (\(why))"
        case .transformFails(let why): return "\(why), which fails Debezium's transform on this record too"
        }
    }
}

/// A decimal number's text (`-12345678.90`): sign, integer digits and fraction digits.
struct DecimalText {
    var negative: Bool
    var integerDigits: [UInt8]
    var fractionDigits: [UInt8]

    init?(_ text: String) {
        var bytes = Array(text.utf8)[...]
        negative = bytes.first == UInt8(ascii: "-")
        if negative || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty || parts.count == 2,
              (parts.dropFirst().first.map { !$0.isEmpty } ?? true) else { return nil }
        let digit: (UInt8) -> UInt8? = { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") ? $0 - UInt8(ascii: "0") : nil }
        let integer = whole.map(digit)
        let fraction = (parts.count == 2 ? parts[1] : []).map(digit)
        guard !integer.contains(nil), !fraction.contains(nil) else { return nil }
        integerDigits = integer.compactMap { $0 }
        fractionDigits = fraction.compactMap { $0 }
    }

    /// `BigDecimal.stripTrailingZeros()`, then a negative scale set back to 0: only the fraction loses zeros.
    func strippingTrailingFractionZeros() -> DecimalText {
        var copy = self
        while copy.fractionDigits.last == 0 { copy.fractionDigits.removeLast() }
        return copy
    }

    /// `BigInteger.toByteArray()` of the unscaled value at `scale` (the fraction padded with zeros; nil if it
    /// has more digits than `scale`): big-endian two's complement in the fewest bytes.
    func unscaledBytes(scale: Int) -> [UInt8]? {
        guard scale >= fractionDigits.count else { return nil }
        let digits = integerDigits + fractionDigits + [UInt8](repeating: 0, count: scale - fractionDigits.count)
        // Base 10 to base 2³² nine digits at a time (limbs least significant first): linear in the digits per
        // limb, so PostgreSQL's longest numerics (131,072 digits before the point) stay fast.
        var limbs: [UInt32] = []
        var index = 0
        while index < digits.count {
            let end = min(index + 9, digits.count)
            var chunk: UInt64 = 0
            var factor: UInt64 = 1
            for digit in digits[index ..< end] {
                chunk = chunk * 10 + UInt64(digit)
                factor *= 10
            }
            var carry = chunk
            for limb in limbs.indices {
                let product = UInt64(limbs[limb]) * factor + carry
                limbs[limb] = UInt32(truncatingIfNeeded: product)
                carry = product >> 32
            }
            if carry > 0 { limbs.append(UInt32(carry)) }
            index = end
        }
        var magnitude: [UInt8] = []
        magnitude.reserveCapacity(limbs.count * 4)
        for limb in limbs.reversed() {
            magnitude.append(contentsOf: [UInt8(limb >> 24), UInt8(truncatingIfNeeded: limb >> 16), UInt8(truncatingIfNeeded: limb >> 8), UInt8(truncatingIfNeeded: limb)])
        }
        if let first = magnitude.firstIndex(where: { $0 != 0 }) {
            magnitude.removeFirst(first)
        } else {
            magnitude = []
        }
        guard !magnitude.isEmpty else { return [0] }
        if !negative {
            return magnitude[0] & 0x80 != 0 ? [0] + magnitude : magnitude
        }
        // Two's complement: invert and add one; a lost sign bit takes one more byte.
        var complement = magnitude.map { ~$0 }
        var byte = complement.count - 1
        while byte >= 0 {
            let (sum, overflow) = complement[byte].addingReportingOverflow(1)
            complement[byte] = sum
            if !overflow { break }
            byte -= 1
        }
        return complement[0] & 0x80 == 0 ? [0xFF] + complement : complement
    }
}

/// Readers of PostgreSQL's text output (DateStyle ISO, IntervalStyle postgres) for the change-event types.
enum ChangeEventText {
    static func floorDivide(_ value: Int64, by divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    /// Days since 1970-01-01 of `YYYY-MM-DD` or `YYYY-MM-DD BC`.
    static func days(date text: String) throws(ChangeEventValueError) -> Int64 {
        if text == "infinity" || text == "-infinity" {
            throw .notReproduced(text: text, why: "an infinite date")
        }
        var body = Substring(text)
        var beforeCommonEra = false
        if body.hasSuffix(" BC") {
            beforeCommonEra = true
            body = body.dropLast(3)
        }
        let parts = body.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let year = Int64(parts[0]), let month = Int64(parts[1]), let day = Int64(parts[2]),
              parts[0].count >= 4, parts[1].count == 2, parts[2].count == 2,
              (1 ... 12).contains(month), (1 ... 31).contains(day), year >= 1, year < 10_000_000
        else { throw .malformed(oid: ChangeEventColumnType.date, text: text) }
        // Year 1 BC is year 0 of the proleptic Gregorian calendar.
        return ProlepticGregorian.daysSince1970(year: beforeCommonEra ? 1 - year : year, month: month, day: day)
    }

    /// Microseconds since midnight of `HH:MM:SS[.ffffff]` (24:00:00 included, as PostgreSQL allows it).
    static func microsecondsOfDay(_ text: Substring) throws(ChangeEventValueError) -> Int64 {
        let malformed = ChangeEventValueError.malformed(oid: ChangeEventColumnType.time, text: String(text))
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 2, parts[1].count == 2, let hours = Int64(parts[0]), let minutes = Int64(parts[1]) else { throw malformed }
        let secondParts = parts[2].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard secondParts[0].count == 2, let seconds = Int64(secondParts[0]) else { throw malformed }
        var micros: Int64 = 0
        if secondParts.count == 2 {
            let fraction = secondParts[1]
            guard (1 ... 6).contains(fraction.count), fraction.allSatisfy(\.isASCIIDigitCharacter), let value = Int64(fraction) else { throw malformed }
            micros = value * Int64([1, 100_000, 10_000, 1_000, 100, 10, 1][fraction.count])
        }
        guard hours <= 24, minutes < 60, seconds < 60 else { throw malformed }
        let total = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + micros
        guard total <= 86_400_000_000 else { throw malformed }
        return total
    }

    static func microsecondsOfDay(_ text: String) throws(ChangeEventValueError) -> Int64 {
        try microsecondsOfDay(Substring(text))
    }

    /// A time of day and its UTC offset (`10:11:12.5+05:30`, `…-11`, `…+05:30:15`): the time's text and the
    /// offset in seconds; nil when the text ends in no offset.
    static func splittingOffset(_ text: Substring) -> (time: Substring, offsetSeconds: Int64)? {
        guard let sign = text.lastIndex(where: { $0 == "+" || $0 == "-" }) else { return nil }
        let parts = text[text.index(after: sign)...].split(separator: ":", omittingEmptySubsequences: false)
        guard (1 ... 3).contains(parts.count), parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigitCharacter) }) else { return nil }
        var seconds: Int64 = 0
        for (index, part) in parts.enumerated() {
            seconds += (Int64(part) ?? 0) * [3600, 60, 1][index]
        }
        return (text[..<sign], text[sign] == "-" ? -seconds : seconds)
    }

    /// `timetz` text (`10:11:12.123456+05:30`) as Debezium's `ZonedTime`: the time in UTC, `HH:mm:ss`, the
    /// fraction with as many digits as it needs, and `Z` (`04:41:12.123456Z`).
    static func zonedTime(_ text: String) throws(ChangeEventValueError) -> String {
        guard let (time, offsetSeconds) = splittingOffset(Substring(text)) else {
            throw .malformed(oid: ChangeEventColumnType.timetz, text: text)
        }
        let local = try microsecondsOfDay(time)
        let day: Int64 = 86_400_000_000
        let utc = ((local - offsetSeconds * 1_000_000) % day + day) % day
        return timeOfDay(utc, fractionDigits: nil) + "Z"
    }

    /// `HH:mm:ss` and the fraction: `fractionDigits` digits, or as many as needed when nil (none for zero).
    static func timeOfDay(_ micros: Int64, fractionDigits: Int?) -> String {
        let seconds = micros / 1_000_000
        let fraction = micros % 1_000_000
        var text = twoDigits(seconds / 3600) + ":" + twoDigits(seconds / 60 % 60) + ":" + twoDigits(seconds % 60)
        var digits = String(fraction)
        digits = String(repeating: "0", count: 6 - digits.count) + digits
        if let fractionDigits {
            text += "." + digits.prefix(fractionDigits)
        } else if fraction != 0 {
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text
    }

    private static func twoDigits(_ value: Int64) -> String {
        value < 10 ? "0" + String(value) : String(value)
    }

    /// A `timestamp` or `timestamptz` text (`2024-05-06 07:08:09.123456`, `…+05:30`, `0044-03-15 12:00:00 BC`)
    /// as days since 1970-01-01 and microseconds into the day, in UTC when it has an offset. Year 1 BC is
    /// year 0 of the proleptic Gregorian calendar, as Java counts it.
    struct DateTimeParts {
        var days: Int64
        var microsecondsOfDay: Int64

        /// Microseconds since the epoch; nil beyond 64 bits (PostgreSQL's last years are).
        var epochMicroseconds: Int64? {
            let (product, overflow) = days.multipliedReportingOverflow(by: 86_400_000_000)
            let (sum, overflowSum) = product.addingReportingOverflow(microsecondsOfDay)
            return overflow || overflowSum ? nil : sum
        }
    }

    static func dateTime(_ text: String, withOffset: Bool) throws(ChangeEventValueError) -> DateTimeParts {
        if text == "infinity" || text == "-infinity" {
            throw .notReproduced(text: text, why: "an infinite timestamp")
        }
        let oid = withOffset ? PostgresColumnType.timestamptz.oid : PostgresColumnType.timestamp.oid
        var body = Substring(text)
        var beforeCommonEra = false
        if body.hasSuffix(" BC") {
            beforeCommonEra = true
            body = body.dropLast(3)
        }
        guard let space = body.firstIndex(of: " ") else { throw .malformed(oid: oid, text: text) }
        let dateText = String(body[..<space]) + (beforeCommonEra ? " BC" : "")
        let days = try days(date: dateText)
        var timeText = body[body.index(after: space)...]
        var offsetSeconds: Int64 = 0
        if withOffset {
            guard let split = splittingOffset(timeText) else { throw .malformed(oid: oid, text: text) }
            (timeText, offsetSeconds) = split
        }
        let local = try microsecondsOfDay(timeText)
        let day: Int64 = 86_400_000_000
        let utc = local - offsetSeconds * 1_000_000
        return DateTimeParts(days: days + floorDivide(utc, by: day), microsecondsOfDay: utc - floorDivide(utc, by: day) * day)
    }

    /// `timestamptz` text as Debezium's `ZonedTimestamp`: UTC, ISO-8601 with six fraction digits and `Z`
    /// (`2024-01-01T00:00:00.120000Z`); a year before 1 or after 9999 signed as Java writes it (`-0043`,
    /// `+294276`); the infinities as their text.
    static func zonedTimestamp(_ text: String) throws(ChangeEventValueError) -> String {
        if text == "infinity" || text == "-infinity" { return text }
        let parts = try dateTime(text, withOffset: true)
        let (year, month, dayOfMonth) = ProlepticGregorian.date(daysSince1970: parts.days)
        let digits = String(year.magnitude)
        let padded = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        let yearText = year < 0 ? "-" + padded : (year > 9999 ? "+" + padded : padded)
        return yearText + "-" + twoDigits(month) + "-" + twoDigits(dayOfMonth) + "T" + timeOfDay(parts.microsecondsOfDay, fractionDigits: 6) + "Z"
    }

    /// An `interval`'s text (IntervalStyle postgres: `1 year 2 mons 3 days 04:05:06.789`) as Debezium's
    /// `MicroDuration`: pgjdbc's `PGInterval` fields and Debezium's arithmetic, in doubles as Java does it
    /// (a month is 30.4375 days), cast to a long as Java casts (saturating).
    static func microDuration(_ text: String) throws(ChangeEventValueError) -> Int64 {
        let malformed = ChangeEventValueError.malformed(oid: ChangeEventColumnType.interval, text: text)
        var years: Int32 = 0, months: Int32 = 0, days: Int32 = 0, hours: Int32 = 0, minutes: Int32 = 0
        var seconds = 0.0
        let tokens = text.split(separator: " ")
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            if token.contains(":") {
                let negative = token.hasPrefix("-")
                let body = token.drop { $0 == "-" || $0 == "+" }
                let parts = body.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 3, let hourValue = Int32(parts[0]), let minuteValue = Int32(parts[1]) else { throw malformed }
                let secondParts = parts[2].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
                guard let wholeSeconds = Int32(secondParts[0]) else { throw malformed }
                var microSeconds: Int32 = 0
                if secondParts.count == 2 {
                    let fraction = secondParts[1]
                    guard (1 ... 6).contains(fraction.count), let value = Int32(fraction) else { throw malformed }
                    microSeconds = value * Int32([1, 100_000, 10_000, 1_000, 100, 10, 1][fraction.count])
                }
                let sign: Int32 = negative ? -1 : 1
                hours = sign * hourValue
                minutes = sign * minuteValue
                // PGInterval.getSeconds(): whole seconds plus microseconds / 1e6.
                seconds = Double(sign * wholeSeconds) + Double(sign * microSeconds) / 1e6
                index += 1
                continue
            }
            guard index + 1 < tokens.count, let amount = Int32(token.hasPrefix("+") ? token.dropFirst() : token) else { throw malformed }
            switch tokens[index + 1] {
            case "year", "years": years = amount
            case "mon", "mons": months = amount
            case "day", "days": days = amount
            default: throw malformed
            }
            index += 2
        }
        // MicroDuration.durationMicros: int months, then doubles.
        let monthCount = years.multipliedReportingOverflow(by: 12).partialValue.addingReportingOverflow(months).partialValue
        let numberOfDays = Double(monthCount) * 30.4375 + Double(days)
        let numberOfSeconds = ((numberOfDays * 24 + Double(hours)) * 60 + Double(minutes)) * 60 + seconds
        return javaLong(numberOfSeconds * 1e6)
    }

    /// Java's `(long)` of a double: truncation, saturating at the range, NaN as 0.
    static func javaLong(_ value: Double) -> Int64 {
        if value.isNaN { return 0 }
        if value >= 9_223_372_036_854_775_807.0 { return .max }
        if value <= -9_223_372_036_854_775_808.0 { return .min }
        return Int64(value.rounded(.towardZero))
    }

    /// The elements of a one-dimensional array literal (`{a,NULL,"with \"quote\"",""}`); nil for NULL.
    static func arrayElements(_ text: String) throws(ChangeEventValueError) -> [String?] {
        let malformed = ChangeEventValueError.malformed(oid: ChangeEventColumnType.textArray, text: text)
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}"), bytes.count >= 2 else { throw malformed }
        var elements: [String?] = []
        var index = 1
        let end = bytes.count - 1
        if index == end { return [] }
        while true {
            guard index < end else { throw malformed }
            if bytes[index] == UInt8(ascii: "{") { throw .notReproduced(text: text, why: "a multi-dimensional array") }
            var element: [UInt8] = []
            if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                while true {
                    guard index < end else { throw malformed }
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\\") {
                        guard index + 1 < end else { throw malformed }
                        element.append(bytes[index + 1])
                        index += 2
                    } else if byte == UInt8(ascii: "\"") {
                        index += 1
                        break
                    } else {
                        element.append(byte)
                        index += 1
                    }
                }
                elements.append(String(decoding: element, as: UTF8.self))
            } else {
                while index < end, bytes[index] != UInt8(ascii: ",") {
                    element.append(bytes[index])
                    index += 1
                }
                let word = String(decoding: element, as: UTF8.self)
                elements.append(word.uppercased() == "NULL" ? nil : word)
            }
            if index == end { return elements }
            guard bytes[index] == UInt8(ascii: ",") else { throw malformed }
            index += 1
        }
    }
}

private extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
