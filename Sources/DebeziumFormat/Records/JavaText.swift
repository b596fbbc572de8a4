// Java's text forms of numbers and strings, where Kafka Connect's output depends on them.

/// `java.lang.Double.toString(double)` as the JDK that captured the goldens (OpenJDK 17) writes it, which
/// Jackson (`writeNumber(double)`), Kafka Connect's `StringConverter` and `SimpleHeaderConverter` all use.
///
/// JDK 17's `FloatingDecimal` predates the shortest-digits algorithm of JDK 19 (JDK-4511638): for some
/// values it prints more digits than needed (`1.0E23` → `9.999999999999999E22`, `2.82879384806159E17` →
/// `2.82879384806159008E17`), and those are the bytes Debezium wrote. This is a port of its
/// `BinaryToASCIIBuffer.dtoa` and `getChars`, checked against JDK 17's output for thousands of doubles
/// (Fixtures/java/double-tostring.tsv). Layout: `ddd.ddd` when 10⁻³ ≤ |x| < 10⁷, else `d.dddE±n`.
enum JavaDouble {
    static func string(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        return (value < 0 ? "-" : "") + FloatingDecimalDigits(value.magnitude).javaFormat()
    }
}

/// `java.lang.Float.toString(float)` as OpenJDK 17 writes it (Jackson's `writeNumber(float)`): the same
/// `FloatingDecimal.dtoa` as `JavaDouble`, given the float's own bits, so it has the same pre-JDK 19
/// quirks (`1.1754944E-38` is written `1.17549435E-38`).
enum JavaFloat {
    static func string(_ value: Float) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        return (value < 0 ? "-" : "") + FloatingDecimalDigits(float: value.magnitude).javaFormat()
    }
}

/// `FloatingDecimal.BinaryToASCIIBuffer` for one positive finite double: its decimal digits and
/// `decExponent` (value = 0.d₁d₂… × 10^decExponent), developed exactly as JDK 17 does, quirks included.
/// Java's int and long arithmetic wraps, so the port uses wrapping operators where Java's could overflow.
struct FloatingDecimalDigits {
    private var digits: [UInt8] = []
    private var decExponent = 0

    private static let expShift = 52
    private static let fractHOB: Int64 = 1 << 52
    private static let expOne: Int64 = 1023 << 52
    private static let significandMask: Int64 = (1 << 52) - 1
    private static let exponentMask: Int64 = 0x7FF << 52
    private static let maxSmallBinExp = 62
    private static let minSmallBinExp = -(63 / 3)
    private static let small5Pow: [Int32] = (0 ... 13).map { power in (0 ..< power).reduce(1) { value, _ in value * 5 } }
    private static let long5Pow: [Int64] = (0 ... 26).map { power in (0 ..< power).reduce(1) { value, _ in value * 5 } }
    /// Approximately ceil(log2(5^i)).
    private static let n5Bits: [Int] = [0, 3, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28, 31, 33, 35, 38, 40, 42, 45, 47, 49, 52, 54, 56, 59, 61]
    private static let insignificantDigitsNumber: [Int] = [
        0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10,
        11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15, 15, 16, 16, 16, 17, 17, 17, 18, 18, 18, 19,
    ]

    /// `getBinaryToASCIIConverter(double)`: unpack, normalize a subnormal, then `dtoa`.
    init(_ value: Double) {
        let bits = Int64(bitPattern: value.bitPattern)
        var fractBits = bits & Self.significandMask
        var binExp = Int((bits & Self.exponentMask) >> Self.expShift)
        let nSignificantBits: Int
        if binExp == 0 {
            let leadingZeros = fractBits.leadingZeroBitCount
            let shift = leadingZeros - (63 - Self.expShift)
            fractBits <<= shift
            binExp = 1 - shift
            nSignificantBits = 64 - leadingZeros
        } else {
            fractBits |= Self.fractHOB
            nSignificantBits = Self.expShift + 1
        }
        dtoa(binExp: binExp - 1023, fractBits: fractBits, nSignificantBits: nSignificantBits)
    }

    /// `getBinaryToASCIIConverter(float)`: unpack the float's 23-bit fraction, normalize a subnormal, and hand
    /// `dtoa` the fraction shifted to a double's position with the float's count of significant bits.
    init(float value: Float) {
        let singleExpShift = 23
        let bits = Int32(bitPattern: value.bitPattern)
        var fractBits = bits & ((1 << 23) - 1)
        var binExp = Int((bits >> singleExpShift) & 0xFF)
        let nSignificantBits: Int
        if binExp == 0 {
            let leadingZeros = fractBits.leadingZeroBitCount
            let shift = leadingZeros - (31 - singleExpShift)
            fractBits <<= shift
            binExp = 1 - shift
            nSignificantBits = 32 - leadingZeros
        } else {
            fractBits |= 1 << 23
            nSignificantBits = singleExpShift + 1
        }
        dtoa(binExp: binExp - 127, fractBits: Int64(fractBits) << (Self.expShift - singleExpShift), nSignificantBits: nSignificantBits)
    }

    private mutating func dtoa(binExp: Int, fractBits originalFractBits: Int64, nSignificantBits: Int) {
        var fractBits = originalFractBits
        let tailZeros = fractBits.trailingZeroBitCount
        let nFractBits = Self.expShift + 1 - tailZeros
        let nTinyBits = max(0, nFractBits - binExp - 1)
        if binExp <= Self.maxSmallBinExp, binExp >= Self.minSmallBinExp, nTinyBits < Self.long5Pow.count,
           nFractBits + Self.n5Bits[nTinyBits] < 64, nTinyBits == 0 {
            // The easy integer case.
            let insignificant = binExp > nSignificantBits ? Self.insignificantDigitsForPow2(binExp - nSignificantBits - 1) : 0
            if binExp >= Self.expShift {
                fractBits <<= (binExp - Self.expShift)
            } else {
                fractBits >>= (Self.expShift - binExp)
            }
            developLongDigits(fractBits, insignificant: insignificant)
            return
        }
        var decExp = Self.estimateDecExp(fractBits: fractBits, binExp: binExp)
        let b5 = max(0, -decExp)
        var b2 = b5 + nTinyBits + binExp
        let s5 = max(0, decExp)
        var s2 = s5 + nTinyBits
        let m5 = b5
        var m2 = b2 - nSignificantBits
        fractBits >>= tailZeros
        b2 -= nFractBits - 1
        let common2Factor = min(b2, s2)
        b2 -= common2Factor
        s2 -= common2Factor
        m2 -= common2Factor
        // For exact powers of two the next smaller number is only half as far away.
        if nFractBits == 1 { m2 -= 1 }
        if m2 < 0 {
            b2 -= m2
            s2 -= m2
            m2 = 0
        }
        let bBits = nFractBits + b2 + (b5 < Self.n5Bits.count ? Self.n5Bits[b5] : b5 * 3)
        let tenSBits = s2 + 1 + (s5 + 1 < Self.n5Bits.count ? Self.n5Bits[s5 + 1] : (s5 + 1) * 3)
        // Java's E-form needs a digit after the point, so the first digit never ends it there.
        let needsSecondDigit = { (decExp: Int) in decExp < -3 || decExp >= 8 }
        var low: Bool
        var high: Bool
        var lowDigitDifference: Int64
        if bBits < 32, tenSBits < 32 {
            (low, high, lowDigitDifference) = developDigits(
                b: (Int32(truncatingIfNeeded: fractBits) &* Self.small5Pow[b5]) << Int32(b2),
                s: Self.small5Pow[s5] << Int32(s2), m: Self.small5Pow[m5] << Int32(m2),
                decExp: &decExp, needsSecondDigit: needsSecondDigit)
        } else if bBits < 64, tenSBits < 64 {
            (low, high, lowDigitDifference) = developDigits(
                b: (fractBits &* Self.long5Pow[b5]) << Int64(b2), s: Self.long5Pow[s5] << Int64(s2),
                m: Self.long5Pow[m5] << Int64(m2), decExp: &decExp, needsSecondDigit: needsSecondDigit)
        } else {
            // FDBigInteger arithmetic (its normalization shift scales every value alike and is left out).
            let s = BigUnsigned(times: 1, pow5: s5, pow2: s2)
            var b = BigUnsigned(times: UInt64(fractBits), pow5: b5, pow2: b2)
            var m = BigUnsigned(times: 1, pow5: m5 + 1, pow2: m2 + 1)
            let tenS = BigUnsigned(times: 1, pow5: s5 + 1, pow2: s2 + 1)
            var q = b.quotientThenTimesTenRemainder(dividingBy: s)
            low = b < m
            high = !(b.adding(m) < tenS)
            if q == 0, !high { decExp -= 1 } else { digits.append(UInt8(truncatingIfNeeded: q)) }
            if needsSecondDigit(decExp) { high = false; low = false }
            while !low, !high {
                q = b.quotientThenTimesTenRemainder(dividingBy: s)
                m.multiply(by: 10)
                low = b < m
                high = !(b.adding(m) < tenS)
                digits.append(UInt8(truncatingIfNeeded: q))
            }
            if high, low {
                b.multiply(by: 2)
                lowDigitDifference = b < tenS ? -1 : (b == tenS ? 0 : 1)
            } else {
                lowDigitDifference = 0
            }
        }
        decExponent = decExp + 1
        // The last digit is rounded by the stopping condition.
        if high {
            if low {
                if lowDigitDifference == 0 {
                    if let last = digits.last, last & 1 != 0 { roundUp() }
                } else if lowDigitDifference > 0 {
                    roundUp()
                }
            } else {
                roundUp()
            }
        }
    }

    /// The digit loop of `dtoa` where B, S and M fit a Java `int` (`Int32`) or `long` (`Int64`): each step
    /// takes the next quotient digit of B / S and stops once the remainder is within M of either end.
    /// Java's arithmetic wraps (its "m might overflow" hack relies on that), so this does too.
    private mutating func developDigits<T: FixedWidthInteger & SignedInteger>(
        b initialB: T, s: T, m initialM: T, decExp: inout Int, needsSecondDigit: (Int) -> Bool
    ) -> (low: Bool, high: Bool, lowDigitDifference: Int64) {
        var b = initialB
        var m = initialM
        let tens = s &* 10
        // The first iteration, unrolled: a zero first digit means the exponent estimate was one too high.
        var q = b / s
        b = 10 &* (b % s)
        m = m &* 10
        var low = b < m
        var high = b &+ m > tens
        if q == 0, !high { decExp -= 1 } else { digits.append(UInt8(truncatingIfNeeded: q)) }
        if needsSecondDigit(decExp) {
            high = false
            low = false
        }
        while !low, !high {
            q = b / s
            b = 10 &* (b % s)
            m = m &* 10
            if m > 0 {
                low = b < m
                high = b &+ m > tens
            } else {
                low = true
                high = true
            }
            digits.append(UInt8(truncatingIfNeeded: q))
        }
        return (low, high, Int64(truncatingIfNeeded: (b << 1) &- tens))
    }

    /// The integer case: the digits of `value`, less `insignificant` rounded-off low digits, without
    /// trailing zeros.
    private mutating func developLongDigits(_ original: Int64, insignificant: Int) {
        var value = original
        var exponent = 0
        if insignificant != 0 {
            let pow10 = Self.long5Pow[insignificant] << Int64(insignificant)
            let residue = value % pow10
            value /= pow10
            exponent += insignificant
            if residue >= pow10 >> 1 { value += 1 }
        }
        var reversed: [UInt8] = []
        var digit = value % 10
        value /= 10
        while digit == 0 {
            exponent += 1
            digit = value % 10
            value /= 10
        }
        while value != 0 {
            reversed.append(UInt8(truncatingIfNeeded: digit))
            exponent += 1
            digit = value % 10
            value /= 10
        }
        reversed.append(UInt8(truncatingIfNeeded: digit))
        digits = reversed.reversed()
        decExponent = exponent + 1
    }

    private mutating func roundUp() {
        var index = digits.count - 1
        var digit = digits[index]
        if digit == 9 {
            while digit == 9, index > 0 {
                digits[index] = 0
                index -= 1
                digit = digits[index]
            }
            if digit == 9 {
                // Carry out: a 1 and zeros, one decimal place up.
                decExponent += 1
                digits[0] = 1
                return
            }
        }
        digits[index] = digit &+ 1
    }

    /// log10 estimated in double arithmetic, floored through the bits, exactly as Java does it.
    private static func estimateDecExp(fractBits: Int64, binExp: Int) -> Int {
        let d2 = Double(bitPattern: UInt64(bitPattern: expOne | (fractBits & significandMask)))
        let d = (d2 - 1.5) * 0.289529654 + 0.176091259 + Double(binExp) * 0.301029995663981
        let dBits = Int64(bitPattern: d.bitPattern)
        let exponent = Int((dBits & exponentMask) >> expShift) - 1023
        let isNegative = dBits < 0
        if exponent >= 0, exponent < 52 {
            let mask = significandMask >> exponent
            let r = Int(((dBits & significandMask) | fractHOB) >> (expShift - exponent))
            return isNegative ? ((mask & dBits) == 0 ? -r : -r - 1) : r
        } else if exponent < 0 {
            return (dBits & ~Int64.min) == 0 ? 0 : (isNegative ? -1 : 0)
        } else {
            return Int(d)
        }
    }

    private static func insignificantDigitsForPow2(_ p2: Int) -> Int {
        p2 > 1 && p2 < insignificantDigitsNumber.count ? insignificantDigitsNumber[p2] : 0
    }

    /// `getChars`.
    func javaFormat() -> String {
        var result = ""
        let text = digits.map { Character(Unicode.Scalar($0 &+ UInt8(ascii: "0"))) }
        if decExponent > 0, decExponent < 8 {
            let integerCount = min(text.count, decExponent)
            result += String(text[..<integerCount])
            if integerCount < decExponent {
                result += String(repeating: "0", count: decExponent - integerCount) + ".0"
            } else {
                result += "." + (integerCount < text.count ? String(text[integerCount...]) : "0")
            }
        } else if decExponent <= 0, decExponent > -3 {
            result += "0." + String(repeating: "0", count: -decExponent) + String(text)
        } else {
            result += String(text[0]) + "." + (text.count > 1 ? String(text[1...]) : "0") + "E" + String(decExponent - 1)
        }
        return result
    }
}

/// The few `FDBigInteger` operations `dtoa` needs, on little-endian 32-bit words.
private struct BigUnsigned: Equatable, Comparable {
    private var words: [UInt32]

    /// `value × 5^pow5 × 2^pow2`.
    init(times value: UInt64, pow5: Int, pow2: Int) {
        words = [UInt32(truncatingIfNeeded: value), UInt32(truncatingIfNeeded: value >> 32)]
        for _ in 0 ..< pow5 { multiply(by: 5) }
        shiftLeft(pow2)
        trim()
    }

    private mutating func trim() {
        while words.count > 1, words.last == 0 { words.removeLast() }
    }

    mutating func multiply(by factor: UInt32) {
        var carry: UInt64 = 0
        for index in words.indices {
            let product = UInt64(words[index]) * UInt64(factor) + carry
            words[index] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        if carry != 0 { words.append(UInt32(carry)) }
    }

    private mutating func shiftLeft(_ bits: Int) {
        guard bits > 0 else { return }
        let wordShift = bits / 32
        let bitShift = bits % 32
        if bitShift != 0 {
            var carry: UInt32 = 0
            for index in words.indices {
                let word = words[index]
                words[index] = word << UInt32(bitShift) | carry
                carry = word >> UInt32(32 - bitShift)
            }
            if carry != 0 { words.append(carry) }
        }
        words.insert(contentsOf: repeatElement(0, count: wordShift), at: 0)
    }

    func adding(_ other: BigUnsigned) -> BigUnsigned {
        var sum = self
        var carry: UInt64 = 0
        for index in 0 ..< max(words.count, other.words.count) {
            let total = UInt64(index < words.count ? words[index] : 0) + UInt64(index < other.words.count ? other.words[index] : 0) + carry
            if index < sum.words.count { sum.words[index] = UInt32(truncatingIfNeeded: total) } else { sum.words.append(UInt32(truncatingIfNeeded: total)) }
            carry = total >> 32
        }
        if carry != 0 { sum.words.append(UInt32(carry)) }
        return sum
    }

    private mutating func subtract(_ other: BigUnsigned) {
        var borrow: Int64 = 0
        for index in words.indices {
            var difference = Int64(words[index]) - Int64(index < other.words.count ? other.words[index] : 0) - borrow
            borrow = difference < 0 ? 1 : 0
            if difference < 0 { difference += 1 << 32 }
            words[index] = UInt32(difference)
        }
        trim()
    }

    /// `quoRemIteration`: returns ⌊self / divisor⌋ (below 10 in `dtoa`) and leaves 10 × the remainder.
    mutating func quotientThenTimesTenRemainder(dividingBy divisor: BigUnsigned) -> Int {
        var quotient = 0
        while !(self < divisor) {
            subtract(divisor)
            quotient += 1
        }
        multiply(by: 10)
        trim()
        return quotient
    }

    static func < (left: BigUnsigned, right: BigUnsigned) -> Bool {
        if left.words.count != right.words.count { return left.words.count < right.words.count }
        for index in stride(from: left.words.count - 1, through: 0, by: -1) where left.words[index] != right.words[index] {
            return left.words[index] < right.words[index]
        }
        return false
    }
}

/// Java's `String.trim()`, which removes every leading and trailing UTF-16 unit up to U+0020 (controls
/// included, not only spaces).
enum JavaString {
    /// Whether `String.trim().isEmpty()` holds: every UTF-16 unit is ≤ U+0020.
    static func trimsToEmpty(_ text: String) -> Bool {
        text.utf16.allSatisfy { $0 <= 0x20 }
    }
}
