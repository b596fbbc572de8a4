import CLibPQ
import Clocks
import Glibc
public import PostgresLSN

/// The CopyBoth phase of a replication connection: reads CopyData messages without blocking inside
/// libpq (non-blocking `PQgetCopyData`, waiting on the socket with poll) and writes standby status
/// updates. Lives on the thread that reads the stream.
public final class ReplicationStream {
    private let connection: PostgresConnection
    private let wakeup: Wakeup

    /// The outcome of one wait for the next message.
    public enum ReadResult {
        case message([UInt8])
        /// Nothing arrived before the deadline.
        case timedOut
        /// Another thread called `Wakeup.signal()`.
        case woken
    }

    /// Sends `START_REPLICATION SLOT … LOGICAL start (options…)` and enters CopyBoth mode.
    public static func start(
        on connection: PostgresConnection,
        slot: String,
        from start: LSN,
        pluginOptions: [(name: String, value: String)],
        wakeup: Wakeup
    ) throws(PostgresError) -> ReplicationStream {
        var command = "START_REPLICATION SLOT \(try connection.identifier(slot)) LOGICAL \(start)"
        if !pluginOptions.isEmpty {
            var rendered: [String] = []
            for option in pluginOptions {
                rendered.append("\(try connection.identifier(option.name)) \(try connection.literal(option.value))")
            }
            command += " (" + rendered.joined(separator: ", ") + ")"
        }
        let raw = try connection.requireConnection()
        let result = PQexec(raw, command)
        guard let result else { throw connection.lastError(raw, kind: .connectionFailed) }
        guard PQresultStatus(result) == PGRES_COPY_BOTH else {
            defer { PQclear(result) }
            throw PostgresError(result: result, connection: raw)
        }
        PQclear(result)
        return ReplicationStream(connection: connection, wakeup: wakeup)
    }

    private init(connection: PostgresConnection, wakeup: Wakeup) {
        self.connection = connection
        self.wakeup = wakeup
    }

    /// Returns the next CopyData message, or why none came: `timeout` passed, or a wake-up.
    public func read(timeout: Duration) throws(PostgresError) -> ReadResult {
        let raw = try connection.requireConnection()
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(raw, &buffer, 1)
            if length > 0, let buffer {
                defer { PQfreemem(buffer) }
                let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(length))
                return .message(Array(bytes))
            }
            if length == -1 {
                // The server ended the copy: read the final result, which carries its reason.
                var reason = PostgresError(kind: .protocolViolation, message: "the server ended the replication stream")
                while let result = PQgetResult(raw) {
                    if PQresultStatus(result) == PGRES_FATAL_ERROR {
                        reason = PostgresError(result: result, connection: raw)
                    }
                    PQclear(result)
                }
                throw reason
            }
            if length < -1 {
                throw connection.lastError(raw, kind: .connectionFailed)
            }
            // Nothing buffered: wait for the socket or a wake-up, then let libpq read what came.
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { return .timedOut }
            var fds = [
                pollfd(fd: PQsocket(raw), events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeup.fileDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            let milliseconds = Int32(clamping: min(remaining.milliseconds, Int64(Int32.max) - 1) + 1)
            let ready = poll(&fds, 2, milliseconds)
            if ready < 0 && errno != EINTR {
                throw PostgresError(kind: .connectionFailed, message: "poll on the replication socket failed: errno \(errno)")
            }
            if fds[1].revents != 0 {
                wakeup.drain()
                return .woken
            }
            if fds[0].revents != 0, PQconsumeInput(raw) == 0 {
                throw connection.lastError(raw, kind: .connectionFailed)
            }
        }
    }

    /// Sends a standby status update and waits until it is on the wire.
    public func send(_ status: StandbyStatusUpdate) throws(PostgresError) {
        let raw = try connection.requireConnection()
        let bytes = status.bytes
        let queued = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(raw, $0.baseAddress, Int32($0.count)) }
        }
        guard queued == 1, PQflush(raw) == 0 else {
            throw connection.lastError(raw, kind: .connectionFailed)
        }
    }

    /// Ends the copy politely (CopyDone) after the last status update, then closes the connection.
    public func finish() {
        if let raw = try? connection.requireConnection() {
            if PQputCopyEnd(raw, nil) == 1 {
                _ = PQflush(raw)
            }
        }
        connection.close()
    }
}
