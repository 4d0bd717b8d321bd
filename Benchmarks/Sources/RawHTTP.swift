import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client over one keep-alive loopback connection: the load
/// generator of `send --loopback` and the probe of `serve-start`. Only what those need:
/// `Content-Length` bodies, no chunked encoding, no TLS.
final class RawHTTPConnection {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private(set) var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(port: Int, host: String = "127.0.0.1") throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            Glibc.close(fd)
            fd = -1
            throw Failure(description: "connect: \(e)")
        }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    static func requestBytes(method: String, path: String, port: Int, headers: [String: String] = [:], body: [UInt8] = [],
                             keepAlive: Bool = true) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(body.count)\r\n"
        if !keepAlive { head += "Connection: close\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    /// Writes a whole request and reads one response.
    func roundTrip(_ request: [UInt8]) throws -> (status: Int, body: [UInt8]) {
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { raw in send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: \(errno)") }
            sent += n
        }
        return try readResponse()
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure(description: n == 0 ? "connection closed" : "recv: \(errno)") }
        buffer.append(contentsOf: chunk[0..<n])
    }

    private func headerEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    private func readResponse() throws -> (status: Int, body: [UInt8]) {
        var end = headerEnd()
        while end == nil {
            try fill()
            end = headerEnd()
        }
        let head = String(decoding: buffer[0..<end!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let status = lines.first.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } } ?? 0
        var length = 0
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        while buffer.count < end! + length { try fill() }
        let body = Array(buffer[end!..<(end! + length)])
        buffer.removeFirst(end! + length)
        return (status, body)
    }
}

/// Runs `connections` keep-alive clients on threads, each sending `request()` until `total`
/// requests were sent; returns the wall time and every latency in microseconds.
func loadTest(port: Int, connections: Int, total: Int, request: @escaping @Sendable (Int) -> [UInt8],
              expect: Int) throws -> (wall: Duration, latenciesUs: [Double], failures: Int) {
    final class Shared: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var latencies: [Double] = []
        var failures = 0
        var error: String?
    }
    let shared = Shared()
    let group = DispatchGroup()
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<connections {
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            do {
                let conn = try RawHTTPConnection(port: port)
                var local: [Double] = []
                var bad = 0
                while true {
                    shared.lock.lock()
                    let i = shared.next
                    shared.next += 1
                    shared.lock.unlock()
                    if i >= total { break }
                    let bytes = request(i)
                    let t0 = clock.now
                    let (status, _) = try conn.roundTrip(bytes)
                    local.append((clock.now - t0).us)
                    if status != expect { bad += 1 }
                }
                conn.close()
                shared.lock.lock()
                shared.latencies += local
                shared.failures += bad
                shared.lock.unlock()
            } catch {
                shared.lock.lock()
                shared.error = "\(error)"
                shared.lock.unlock()
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
    let wall = clock.now - start
    if let e = shared.error { throw RawHTTPConnection.Failure(description: e) }
    return (wall, shared.latencies, shared.failures)
}

/// Runs blocking work on its own thread so that it does not hold one of the (two) threads of
/// Swift's cooperative pool, which the simulator's handlers need.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            do { c.resume(returning: try work()) } catch { c.resume(throwing: error) }
        }
        thread.start()
    }
}
