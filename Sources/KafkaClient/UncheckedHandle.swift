/// A C handle that may cross threads because its owner serializes its lifetime (librdkafka objects are
/// themselves thread-safe; what must not race is their destruction, which the owner orders explicitly).
struct UncheckedHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
