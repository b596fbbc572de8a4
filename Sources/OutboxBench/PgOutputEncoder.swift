import PostgresWire

/// Writes pgoutput messages (protocol 1, outside any streamed block) into one buffer, big-endian as on the
/// wire (PostgresWire's `appendBigEndian`).
struct PgOutputEncoder {
    var buffer: [UInt8] = []
    var messageRanges: [Range<Int>] = []
    private var messageStart = 0

    /// The outbox table's columns: name, type OID, whether part of the replica identity (the primary key).
    static let outboxColumns: [(name: String, typeOID: UInt32, isKey: Bool)] = [
        ("id", 2950, true), // uuid
        ("aggregatetype", 25, false), // text
        ("aggregateid", 25, false), // text
        ("type", 25, false), // text
        ("payload", 3802, false), // jsonb
    ]

    mutating func begin(finalLSN: UInt64, timestamp: Int64, transactionID: UInt32) {
        startMessage("B")
        buffer.appendBigEndian(finalLSN)
        buffer.appendBigEndian(UInt64(bitPattern: timestamp))
        buffer.appendBigEndian(transactionID)
        endMessage()
    }

    mutating func commit(commitLSN: UInt64, endLSN: UInt64, timestamp: Int64) {
        startMessage("C")
        buffer.append(0) // flags
        buffer.appendBigEndian(commitLSN)
        buffer.appendBigEndian(endLSN)
        buffer.appendBigEndian(UInt64(bitPattern: timestamp))
        endMessage()
    }

    mutating func outboxRelation(relationID: UInt32) {
        startMessage("R")
        buffer.appendBigEndian(relationID)
        appendCString("public")
        appendCString("outbox")
        buffer.append(UInt8(ascii: "d")) // replica identity: default (the primary key)
        buffer.appendBigEndian(UInt16(Self.outboxColumns.count))
        for column in Self.outboxColumns {
            buffer.append(column.isKey ? 1 : 0)
            appendCString(column.name)
            buffer.appendBigEndian(column.typeOID)
            buffer.appendBigEndian(UInt32(bitPattern: -1)) // no type modifier
        }
        endMessage()
    }

    /// An Insert with a new tuple of text-format values, in the order of `outboxColumns`.
    mutating func outboxInsert(relationID: UInt32, id: String, aggregateID: String, payload: [UInt8]) {
        startMessage("I")
        buffer.appendBigEndian(relationID)
        buffer.append(UInt8(ascii: "N"))
        buffer.appendBigEndian(UInt16(Self.outboxColumns.count))
        appendTextColumn(Array(id.utf8))
        appendTextColumn(Array("order".utf8))
        appendTextColumn(Array(aggregateID.utf8))
        appendTextColumn(Array("created".utf8))
        appendTextColumn(payload)
        endMessage()
    }

    private mutating func startMessage(_ type: Unicode.Scalar) {
        messageStart = buffer.count
        buffer.append(UInt8(ascii: type))
    }

    private mutating func endMessage() {
        messageRanges.append(messageStart..<buffer.count)
    }

    private mutating func appendTextColumn(_ value: [UInt8]) {
        buffer.append(UInt8(ascii: "t"))
        buffer.appendBigEndian(UInt32(truncatingIfNeeded: value.count))
        buffer.append(contentsOf: value)
    }

    private mutating func appendCString(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(0)
    }
}
