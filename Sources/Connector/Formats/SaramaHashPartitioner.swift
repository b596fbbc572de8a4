/// The partition sarama's hash partitioner (Go's Kafka client, kafka-outbox-relay's) gives a key: the 32-bit
/// FNV-1a hash of its bytes, read as a signed number, remainder by the partition count with the sign of the
/// hash (Go's `%`), negated when negative. Not Java's murmur2, and not librdkafka's `fnv1a`, which takes the
/// hash unsigned: the two disagree whenever the hash's top bit is set.
public enum SaramaHashPartitioner {
    /// The FNV-1a hash of `key`, as sarama reads it (`int32(hasher.Sum32())`).
    public static func hash(_ key: some Sequence<UInt8>) -> Int32 {
        var hash: UInt32 = 2_166_136_261
        for byte in key {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return Int32(bitPattern: hash)
    }

    /// The partition of a key whose hash is `hash`, among `partitions` (at least 1).
    public static func partition(hash: Int32, partitions: Int32) -> Int32 {
        guard partitions > 0 else { return 0 }
        // Swift's `%` truncates towards zero as Go's does; the magnitude is below `partitions`, so negating
        // cannot overflow.
        let remainder = hash % partitions
        return remainder < 0 ? -remainder : remainder
    }
}
