import Clocks
import Glibc
import Synchronization
import Threads

/// A minimal HTTP/1.1 listener for `/metrics`, `/healthz` and `/readyz`, on a thread of its own (never the
/// cooperative pool). One request per connection, answered and closed: what Prometheus and Kubernetes
/// probes need, without an HTTP framework's build time.
final class OperationsEndpoint: Sendable {
    struct Response: Sendable {
        var status: Int
        var contentType = "text/plain; charset=utf-8"
        var body: [UInt8]
    }

    let address: String
    private let listener: Int32
    private let stopped = Atomic(false)

    /// Binds `address` (`host:port`, `:port` or `[v6]:port`) and starts answering with `respond(path)`.
    init(address: String, respond: @escaping @Sendable (_ path: String) -> Response) throws {
        self.address = address
        listener = try Self.listen(on: address)
        let listener = self.listener
        let started = DedicatedThread.detach(name: "cdc-http") { [self] in
            while !self.stopped.load(ordering: .relaxed) {
                var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 200) > 0 else { continue }
                let client = accept(listener, nil, nil)
                guard client >= 0 else {
                    // Out of descriptors (EMFILE) leaves the listener readable: do not spin on it.
                    usleep(50_000)
                    continue
                }
                Self.answer(client, respond)
                close(client)
            }
            close(listener)
        }
        guard started else {
            close(listener)
            throw UsageError("--metrics-address: no thread could be started to answer on \(address)")
        }
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private static func answer(_ client: Int32, _ respond: (String) -> Response) {
        // A slow or silent client must not hold the listener (and so the probes) for long: the whole request
        // head must come within a second; the answer gets a second to go out.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let deadline = ContinuousClock.now + .seconds(1)
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while request.count < 8192, !request.containsHeadEnd {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { break }
            var ready = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, Int32(max(1, remaining.milliseconds))) > 0 else { break }
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            request += buffer[..<count]
        }
        let requestLine = request.split(separator: 10, maxSplits: 1).first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        let words = requestLine.split(separator: " ")
        let response: Response
        if words.count >= 2, words[0] == "GET" || words[0] == "HEAD" {
            // The path without a query string.
            let path = String(words[1].prefix { $0 != "?" })
            response = respond(path)
        } else {
            response = Response(status: 405, body: Array("only GET\n".utf8))
        }
        let reason = [200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][response.status] ?? "Status"
        let includeBody = words.first != "HEAD"
        var bytes = Array("""
            HTTP/1.1 \(response.status) \(reason)\r
            Content-Type: \(response.contentType)\r
            Content-Length: \(response.body.count)\r
            Connection: close\r
            \r

            """.utf8)
        if includeBody { bytes += response.body }
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }

    private static func listen(on address: String) throws -> Int32 {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw UsageError("--metrics-address must be host:port (e.g. 0.0.0.0:9464 or :9464), not '\(address)'")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &found)
        guard status == 0, let first = found else {
            throw UsageError("--metrics-address: cannot resolve '\(host)': \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(found) }
        // Each address the name resolves to, in order (a host without IPv6 skips `::`).
        var reason = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else {
                reason = String(cString: strerror(errno))
                continue
            }
            var yes: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
            if bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, Glibc.listen(fd, 16) == 0 {
                return fd
            }
            reason = String(cString: strerror(errno))
            close(fd)
        }
        throw UsageError("--metrics-address: cannot listen on \(address): \(reason)")
    }
}

extension Array where Element == UInt8 {
    /// The blank line that ends an HTTP request head has arrived.
    fileprivate var containsHeadEnd: Bool {
        guard count >= 4 else { return false }
        return indices.dropLast(3).contains { self[$0] == 13 && self[$0 + 1] == 10 && self[$0 + 2] == 13 && self[$0 + 3] == 10 }
    }
}
