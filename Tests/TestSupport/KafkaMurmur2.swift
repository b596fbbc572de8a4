/// Kafka's murmur2 (the Java client's `Utils.murmur2`), written independently of librdkafka.
public func kafkaMurmur2(_ data: [UInt8]) -> UInt32 {
    let seed: UInt32 = 0x9747_b28c
    let m: UInt32 = 0x5bd1_e995
    let r: UInt32 = 24
    let length = data.count
    var h = seed ^ UInt32(truncatingIfNeeded: length)
    let blocks = length / 4
    for block in 0 ..< blocks {
        let i = block * 4
        var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
        k &*= m
        k ^= k >> r
        k &*= m
        h &*= m
        h ^= k
    }
    let tail = length & ~3
    switch length % 4 {
    case 3:
        h ^= UInt32(data[tail + 2]) << 16
        fallthrough
    case 2:
        h ^= UInt32(data[tail + 1]) << 8
        fallthrough
    case 1:
        h ^= UInt32(data[tail])
        h &*= m
    default:
        break
    }
    h ^= h >> 13
    h &*= m
    h ^= h >> 15
    return h
}
