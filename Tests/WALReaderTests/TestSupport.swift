/// SplitMix64 (Steele, Lea, Flood 2014; Vigna's reference constants): a tiny, seedable PRNG so that
/// the randomized tests are reproducible. No Foundation randomness anywhere in these tests.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The eight big-endian bytes of `value`, written out independently of the code under test.
func bigEndian(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8((value >> (56 - 8 * UInt64($0))) & 0xFF) }
}

func bigEndian(_ value: Int64) -> [UInt8] {
    bigEndian(UInt64(bitPattern: value))
}

/// Reads a big-endian UInt64 at `offset` of `bytes`, for checking encoders.
func readBigEndian(_ bytes: [UInt8], at offset: Int) -> UInt64 {
    bytes[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) }
}

let kindW = UInt8(ascii: "w")
let kindK = UInt8(ascii: "k")
