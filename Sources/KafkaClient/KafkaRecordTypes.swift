import CLibRdKafka

/// One Kafka record header. Kafka headers are ordered, names may repeat, and a value may be null.
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    /// `nil` is a null header value, distinct from an empty one.
    public var value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    public init(name: String, string: String) {
        self.init(name: name, value: Array(string.utf8))
    }
}

/// What `KafkaProducer.produce` did with a message.
public enum ProduceResult: Sendable, Hashable {
    /// librdkafka accepted the message; exactly one `DeliveryReport` with its correlation will follow.
    case enqueued
    /// The producer queue is at `queue.buffering.max.messages` or `queue.buffering.max.kbytes`: nothing was
    /// enqueued. Wait (`KafkaProducer.waitForQueueSpace`) and produce the same message again.
    case queueFull
    /// The message was rejected and no delivery report will follow.
    case failed(KafkaError)
}

/// The outcome of one enqueued message, delivered exactly once on the producer's poll thread.
public struct DeliveryReport: Sendable {
    /// The nonzero number given to `produce`.
    public let correlation: UInt64
    public let topic: String
    /// The partition the partitioner chose (may be -1 if the message failed before partitioning).
    public let partition: Int32
    /// The offset the broker assigned, or a negative value when unknown (failures, or acks=0).
    public let offset: Int64
    /// `nil` when the broker acknowledged the message.
    public let error: KafkaError?
    /// The message's key and value sizes together, in bytes (headers not counted).
    public let byteCount: Int
    /// Microseconds from `produce` to this report reaching the delivery handler, as librdkafka measures it
    /// (queueing, batching, the broker's round trip and the poll thread's wake-up); -1 when unknown.
    public let microsecondsSinceProduce: Int64
    /// The value of the message's (last) `id` header, for naming the event in an error. Only extracted
    /// when `error` is set: copying it on every success would cost an allocation per message on the hot path.
    public let idHeader: [UInt8]?
    /// The undelivered message's key, value and headers, copied only when `error` is set, so that it can be
    /// sent elsewhere (a dead-letter topic).
    public let undelivered: KafkaMessageContent?

    public var isDelivered: Bool { error == nil }

    /// `idHeader` decoded as UTF-8, when it is valid UTF-8.
    public var idHeaderString: String? {
        idHeader.flatMap { String(validating: $0, as: UTF8.self) }
    }
}

/// A message's key, value and headers.
public struct KafkaMessageContent: Sendable, Equatable {
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]

    public init(key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader]) {
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// Copies a message's key, value and headers out of librdkafka's buffers (the header list stays owned
    /// by the message).
    init(copying message: UnsafePointer<rd_kafka_message_t>) {
        let fields = message.pointee
        key = fields.key.map { Array(UnsafeRawBufferPointer(start: $0, count: fields.key_len)) }
        value = fields.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: fields.len)) }
        headers = []
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return }
        var index = 0
        var name: UnsafePointer<CChar>?
        var headerValue: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(list, index, &name, &headerValue, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            headers.append(KafkaHeader(
                name: name.map { String(cString: $0) } ?? "",
                value: headerValue.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            ))
            index += 1
        }
    }
}

/// How a consumed record's timestamp was set.
public enum KafkaTimestampType: Sendable, Hashable {
    case notAvailable
    /// Set by the producer when it created the record.
    case createTime
    /// Set by the broker when it appended the record.
    case logAppendTime
}

/// A record read from Kafka, with key, value and header values copied out of librdkafka's buffers.
public struct KafkaRecord: Sendable, Hashable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    /// `nil` is a null key, distinct from an empty key.
    public let key: [UInt8]?
    /// `nil` is a null value (a tombstone), distinct from an empty value.
    public let value: [UInt8]?
    /// In record order, duplicates and null values preserved.
    public let headers: [KafkaHeader]
    /// Milliseconds since the Unix epoch, or -1 when not available.
    public let timestamp: Int64
    public let timestampType: KafkaTimestampType

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader],
        timestamp: Int64, timestampType: KafkaTimestampType
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
        self.timestampType = timestampType
    }

    /// The value of the last header called `name`, if any (`.some(nil)` for a null value).
    public func header(_ name: String) -> [UInt8]?? {
        headers.last { $0.name == name }.map(\.value)
    }
}
