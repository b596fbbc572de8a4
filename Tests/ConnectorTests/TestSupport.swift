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

/// UTF-8 bytes of a string, as the slices the decoder hands out.
func utf8(_ text: String) -> ArraySlice<UInt8> {
    Array(text.utf8)[...]
}
