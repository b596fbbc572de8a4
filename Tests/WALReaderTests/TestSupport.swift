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
