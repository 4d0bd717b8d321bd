import Foundation
#if canImport(Glibc)
import Glibc
private let sysSend = Glibc.send
private let sysClose = Glibc.close
#elseif canImport(Darwin)
import Darwin
private let sysSend = Darwin.send
private let sysClose = Darwin.close
#endif
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

/// Malformed HTTP over raw POSIX sockets: bytes no HTTP client library would send. Each case must
/// be answered with a 4xx or a closed connection (never a 5xx, never a hang), and afterwards the
/// server must keep serving (a normal request succeeds).
@Suite("Hostile input over raw sockets", .serialized)
struct HostileInputTests {
    /// Small limits so each case is quick: 64 KiB bodies, a one-second body timeout.
    static let maxBody = 64 * 1024
    static func options(_ o: inout SimulatorOptions) {
        o.settings.maxBodyBytes = maxBody
        o.settings.bodyTimeout = .seconds(1)
    }

    enum Outcome: Equatable, CustomStringConvertible {
        case response(status: Int, text: String)
        case closed
        case timedOut

        var status: Int? { if case .response(let s, _) = self { return s } else { return nil } }
        var description: String {
            switch self {
            case .response(let s, let t): "HTTP \(s): \(t.prefix(300))"
            case .closed: "connection closed"
            case .timedOut: "no answer (timed out)"
            }
        }
        /// A 4xx or a closed connection.
        var isRefusal: Bool {
            switch self {
            case .closed: true
            case .response(let s, _): (400..<500).contains(s)
            case .timedOut: false
            }
        }
    }

    /// One blocking TCP connection to 127.0.0.1. Its calls block, so they run on a thread of their
    /// own (`RawSocket.run`), never on the cooperative pool that the in-process server also uses.
    final class RawSocket: @unchecked Sendable {
        let fd: Int32

        init(port: Int, receiveTimeout: Double) throws {
            #if canImport(Glibc)
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
            fd = socket(AF_INET, SOCK_STREAM, 0)
            #endif
            guard fd >= 0 else { throw SocketError("socket() failed: \(errno)") }
            var tv = timeval()
            tv.tv_sec = .init(Int(receiveTimeout))
            tv.tv_usec = .init(Int((receiveTimeout - Double(Int(receiveTimeout))) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var sendTimeout = timeval()
            sendTimeout.tv_sec = 5
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else {
                _ = sysClose(fd)
                throw SocketError("connect() failed: \(errno)")
            }
        }

        /// Writes all of `bytes`; false when the server closed or reset the connection meanwhile.
        @discardableResult
        func send(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { sysSend(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }

        func send(_ text: String) -> Bool { send(Array(text.utf8)) }

        func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

        /// Reads one response (head and Content-Length body), or notes the close or the silence.
        func readResponse() -> Outcome {
            var data: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    data.append(contentsOf: buffer[0..<n])
                    if let r = Self.complete(data) { return r }
                    continue
                }
                if n == 0 || errno == ECONNRESET || errno == EPIPE {
                    return data.isEmpty ? .closed : (Self.parse(data) ?? .closed)
                }
                if errno == EAGAIN || errno == EWOULDBLOCK { return data.isEmpty ? .timedOut : (Self.parse(data) ?? .timedOut) }
                return .closed
            }
        }

        private static func parse(_ data: [UInt8]) -> Outcome? {
            let text = String(decoding: data, as: UTF8.self)
            let firstLine = text.split(separator: "\r\n", maxSplits: 1).first ?? ""
            let parts = firstLine.split(separator: " ")
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else { return nil }
            return .response(status: status, text: text)
        }

        private static func complete(_ data: [UInt8]) -> Outcome? {
            guard let end = data.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
            let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).lowercased()
            var length = 0
            for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
            }
            guard data.count - end.upperBound >= length else { return nil }
            return parse(data)
        }

        /// Reads everything until the server closes (or falls silent for the receive timeout).
        func readToClose() -> (text: String, closed: Bool) {
            var data: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { data.append(contentsOf: buffer[0..<n]); continue }
                let closed = n == 0 || errno == ECONNRESET
                return (String(decoding: data, as: UTF8.self), closed)
            }
        }

        func close() { _ = sysClose(fd) }

        /// Runs blocking socket work on a thread of its own.
        static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
            try await withCheckedThrowingContinuation { continuation in
                let thread = Thread {
                    do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
        }
    }

    struct SocketError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// A request head with an API key, as raw text.
    static func head(_ method: String, _ path: String, key: String, _ extra: [String] = []) -> String {
        ([ "\(method) \(path) HTTP/1.1", "Host: 127.0.0.1", "Authorization: Bearer \(key)"] + extra)
            .joined(separator: "\r\n") + "\r\n\r\n"
    }

    /// Sends `bytes` on a fresh connection, optionally half-closes, and reads what comes back.
    static func exchange(port: Int, _ bytes: [UInt8], halfClose: Bool = false, receiveTimeout: Double = 4) async throws -> Outcome {
        let outcome = try await RawSocket.run {
            let s = try RawSocket(port: port, receiveTimeout: receiveTimeout)
            defer { s.close() }
            guard s.send(bytes) else { return s.readResponse() }
            if halfClose { s.shutdownWrite() }
            return s.readResponse()
        }
        let first = outcome.description.split(separator: "\r\n").first ?? ""
        print("hostile: \(bytes.count) bytes\(halfClose ? ", half-closed" : "") -> \(first)")
        return outcome
    }

    /// The server still answers a normal request.
    static func stillServing(_ h: SimHarness, _ label: String) async throws {
        let r = try await h.call("GET", "/v3/applications", token: h.apiKey)
        #expect(r.status == 200, "after \(label): \(r.status) \(r.text.prefix(200))")
        let json = try await h.call("POST", "/v3/applications/redirect-uris", token: h.apiKey,
                                    json: ["url": .string("http://localhost:3000/after-\(UUID().uuidString)"), "platform": "web"])
        #expect(json.status == 200 || json.status == 201, "after \(label): \(json.status) \(json.text.prefix(200))")
    }

    static func port(_ h: SimHarness) -> Int { h.sim.baseURL(.us).port! }

    @Test("A body shorter than its Content-Length, then a close")
    func truncatedBody() async throws {
        try await withSimulator(configure: Self.options) { h in
            let head = Self.head("POST", "/v3/connectors", key: h.apiKey, ["Content-Type: application/json", "Content-Length: 1000"])
            let partial = Array((head + #"{"provider": "zo"#).utf8)
            // Full close right after the partial body: nothing to read, the server must survive it.
            try await RawSocket.run {
                let s = try RawSocket(port: Self.port(h), receiveTimeout: 2)
                s.send(partial)
                s.close()
            }
            try await Self.stillServing(h, "truncated body, closed")
            // Half close: the server sees the end of the stream mid-body; it may answer, but not 5xx.
            let outcome = try await Self.exchange(port: Self.port(h), partial, halfClose: true)
            #expect(outcome.isRefusal, "truncated body, half-closed: \(outcome)")
            try await Self.stillServing(h, "truncated body, half-closed")
        }
    }

    @Test("Pipelined requests are answered in order, one buffer each; a broken one behind them gets 400, then the close")
    func pipelinedRequests() async throws {
        try await withSimulator(configure: Self.options) { h in
            let body = #"{"url": "http://localhost:3000/pipelined-\#(UUID().uuidString)", "platform": "web"}"#
            let requests = Self.head("GET", "/v3/applications", key: h.apiKey)
                + Self.head("GET", "/v3/grants/no-such-grant", key: h.apiKey)
                + Self.head("POST", "/v3/applications/redirect-uris", key: h.apiKey,
                            ["Content-Type: application/json", "Content-Length: \(body.utf8.count)"]) + body
                + Self.head("HEAD", "/v3/applications", key: h.apiKey)
                + "GET /v3/applications HTTP/1.1\r\nHost: 127.0.0.1\r\nBroken header line\r\n\r\n"
            let port = Self.port(h)
            let (text, closed) = try await RawSocket.run {
                let s = try RawSocket(port: port, receiveTimeout: 4)
                defer { s.close() }
                s.send(requests)  // one write: the server reads them all at once
                return s.readToClose()
            }
            // The answers one after another, each framed by its Content-Length.
            var answers: [(status: String, head: String, body: String)] = []
            var rest = Substring(text)
            while let blank = rest.range(of: "\r\n\r\n") {
                let head = String(rest[..<blank.lowerBound])
                let length = head.components(separatedBy: "\r\n")
                    .first { $0.lowercased().hasPrefix("content-length: ") }.flatMap { Int($0.dropFirst(16)) } ?? 0
                let bodyBytes = rest[blank.upperBound...].utf8.prefix(length)
                answers.append((String(head.split(separator: " ")[1]), head, String(decoding: bodyBytes, as: UTF8.self)))
                rest = Substring(String(decoding: rest[blank.upperBound...].utf8.dropFirst(length), as: UTF8.self))
            }
            #expect(rest.isEmpty, "bytes after the last answer: \(rest.prefix(200))")
            #expect(answers.map(\.status) == ["200", "404", "200", "200", "400"], "answers in order: \(answers.map(\.head))")
            #expect(answers.last?.head.hasPrefix("HTTP/1.1 400 Bad Request") == true)
            #expect(answers.dropLast().allSatisfy { $0.head.hasPrefix("HTTP/1.1 ") && !$0.head.lowercased().contains("connection: close") })
            #expect(answers.count > 2 && answers[1].body.contains("grant.not_found"), "the second answer is the unknown grant's")
            #expect(answers.count > 3 && answers[3].body.isEmpty, "HEAD: no body")
            #expect(closed, "the connection closes after the 400")
            #expect(text.contains("http://localhost:3000/pipelined"), "the pipelined POST's body was read")
            try await Self.stillServing(h, "pipelining")
        }
    }

    @Test("Expect: 100-continue gets 100 Continue before the body, then the answer")
    func expectContinue() async throws {
        try await withSimulator(configure: Self.options) { h in
            let body = #"{"provider": "imap"}"#
            let head = Self.head("POST", "/v3/connectors", key: h.apiKey,
                                 ["Content-Type: application/json", "Content-Length: \(body.utf8.count)", "Expect: 100-continue"])
            let port = Self.port(h)
            let (interim, final) = try await RawSocket.run {
                let s = try RawSocket(port: port, receiveTimeout: 2)
                defer { s.close() }
                s.send(head)
                let interim = s.readResponse()
                s.send(body)
                return (interim, s.readResponse())
            }
            #expect(interim.status == 100, "before the body: \(interim)")
            #expect((final.status ?? 0) >= 200, "after the body: \(final)")
            #expect(final.status != 408 && final.status.map { $0 < 500 } == true, "after the body: \(final)")
        }
    }

    @Test("A body over the limit: 413 (declared length and chunked)")
    func oversizedBody() async throws {
        try await withSimulator(configure: Self.options) { h in
            let declared = Self.head("POST", "/v3/connectors", key: h.apiKey,
                                     ["Content-Type: application/json", "Content-Length: \(Self.maxBody + 1)"])
            let outcome = try await Self.exchange(port: Self.port(h), Array(declared.utf8) + Array(repeating: 0x20, count: 1024))
            #expect(outcome.status == 413, "declared oversize: \(outcome)")
            try await Self.stillServing(h, "declared oversize")

            var chunked = Array(Self.head("POST", "/v3/connectors", key: h.apiKey,
                                          ["Content-Type: application/json", "Transfer-Encoding: chunked"]).utf8)
            let chunk = [UInt8](repeating: 0x20, count: 16 * 1024)
            for _ in 0..<6 { chunked += Array("4000\r\n".utf8) + chunk + Array("\r\n".utf8) }
            chunked += Array("0\r\n\r\n".utf8)
            let streamed = try await Self.exchange(port: Self.port(h), chunked)
            #expect(streamed.status == 413 || streamed == .closed, "chunked oversize: \(streamed)")
            try await Self.stillServing(h, "chunked oversize")
        }
    }

    @Test("Wrong and missing content types: 415 and 400")
    func contentTypes() async throws {
        try await withSimulator(configure: Self.options) { h in
            let xml = "<connector provider=\"zoom\"/>"
            let wrong = Self.head("POST", "/v3/connectors", key: h.apiKey, ["Content-Type: text/xml", "Content-Length: \(xml.utf8.count)"]) + xml
            let w = try await Self.exchange(port: Self.port(h), Array(wrong.utf8))
            #expect(w.status == 415, "wrong content type: \(w)")
            try await Self.stillServing(h, "wrong content type")

            let form = "provider=zoom"
            let missing = Self.head("POST", "/v3/connectors", key: h.apiKey, ["Content-Length: \(form.utf8.count)"]) + form
            let m = try await Self.exchange(port: Self.port(h), Array(missing.utf8))
            #expect(m.status == 400, "missing content type, not JSON: \(m)")
            try await Self.stillServing(h, "missing content type")

            let multipart = "--x\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\n{\"subject\":1\r\n--x--\r\n"
            let broken = Self.head("POST", "/v3/connectors", key: h.apiKey,
                                   ["Content-Type: multipart/form-data", "Content-Length: \(multipart.utf8.count)"]) + multipart
            let b = try await Self.exchange(port: Self.port(h), Array(broken.utf8))
            #expect(b.status.map { (400..<500).contains($0) } == true, "multipart without boundary: \(b)")
            try await Self.stillServing(h, "multipart without boundary")
        }
    }

    @Test("Invalid UTF-8 inside JSON strings: 400")
    func invalidUTF8() async throws {
        try await withSimulator(configure: Self.options) { h in
            let bodies: [[UInt8]] = [
                Array(#"{"url": "http://localhost/"#.utf8) + [0xFF, 0xFE] + Array(#"", "platform": "web"}"#.utf8),
                Array(#"{"url": "http://localhost/"#.utf8) + [0xC3] + Array(#"", "platform": "web"}"#.utf8),  // truncated sequence
                Array(#"{"url": "http://localhost/"#.utf8) + [0xED, 0xA0, 0x80] + Array(#"", "platform": "web"}"#.utf8),  // surrogate
                Array(#"{"url": "http://localhost/\ud800", "platform": "web"}"#.utf8),  // lone surrogate escape
            ]
            for (i, body) in bodies.enumerated() {
                let head = Self.head("POST", "/v3/applications/redirect-uris", key: h.apiKey,
                                     ["Content-Type: application/json", "Content-Length: \(body.count)"])
                let outcome = try await Self.exchange(port: Self.port(h), Array(head.utf8) + body)
                #expect(outcome.status == 400, "invalid UTF-8 #\(i): \(outcome)")
                try await Self.stillServing(h, "invalid UTF-8 #\(i)")
            }
        }
    }

    @Test("Deeply nested JSON: 400, no stack overflow")
    func deepNesting() async throws {
        try await withSimulator(configure: { o in
            Self.options(&o)
            o.settings.maxBodyBytes = 1024 * 1024
        }) { h in
            let bodies: [(String, [UInt8])] = [
                ("100k [", [UInt8](repeating: UInt8(ascii: "["), count: 100_000)),
                ("100k [ closed", [UInt8](repeating: UInt8(ascii: "["), count: 100_000) + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000)),
                ("50k {\"a\":", Array(String(repeating: #"{"a":"#, count: 50_000).utf8)),
                ("url nested", Array(#"{"url": "#.utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 100_000)),
            ]
            for (label, body) in bodies {
                let head = Self.head("POST", "/v3/applications/redirect-uris", key: h.apiKey,
                                     ["Content-Type: application/json", "Content-Length: \(body.count)"])
                let outcome = try await Self.exchange(port: Self.port(h), Array(head.utf8) + body)
                #expect(outcome.status == 400, "\(label): \(outcome)")
                try await Self.stillServing(h, label)
            }
        }
    }

    @Test("A 200 KB header: 4xx or closed")
    func hugeHeader() async throws {
        try await withSimulator(configure: Self.options) { h in
            let big = "X-Filler: " + String(repeating: "a", count: 200 * 1024)
            let outcome = try await Self.exchange(port: Self.port(h), Array(Self.head("GET", "/v3/applications", key: h.apiKey, [big]).utf8))
            #expect(outcome.isRefusal, "200 KB header: \(outcome)")
            try await Self.stillServing(h, "huge header")
            // Many headers, each small.
            let many = (0..<5000).map { "X-H\($0): v" }
            let manyOutcome = try await Self.exchange(port: Self.port(h), Array(Self.head("GET", "/v3/applications", key: h.apiKey, many).utf8))
            #expect(manyOutcome.isRefusal || manyOutcome.status == 200, "5000 headers: \(manyOutcome)")
            try await Self.stillServing(h, "many headers")
        }
    }

    @Test("A slow client whose body never finishes is cut off by the body timeout")
    func slowClient() async throws {
        try await withSimulator(configure: Self.options) { h in
            let head = Self.head("POST", "/v3/connectors", key: h.apiKey, ["Content-Type: application/json", "Content-Length: 100"])
            let started = ContinuousClock.now
            let outcome = try await Self.exchange(port: Self.port(h), Array((head + #"{"provider""#).utf8), receiveTimeout: 5)
            let waited = ContinuousClock.now - started
            #expect(outcome.status == 408 || outcome == .closed, "slow client: \(outcome)")
            #expect(waited < .seconds(2), "cut off after \(waited)")
            try await Self.stillServing(h, "slow client")
        }
    }

    @Test("Garbage request lines and broken framing: 4xx or closed")
    func garbage() async throws {
        try await withSimulator(configure: Self.options) { h in
            let key = h.apiKey
            let cases: [(String, [UInt8])] = [
                ("garbage line", Array("GARBAGE\r\n\r\n".utf8)),
                ("binary", (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }),
                ("bad content-length", Array(Self.head("POST", "/v3/connectors", key: key, ["Content-Length: banana"]).utf8)),
                ("two content-lengths", Array(Self.head("POST", "/v3/connectors", key: key, ["Content-Length: 2", "Content-Length: 3"]).utf8) + Array("{}".utf8)),
                ("bad chunk size", Array(Self.head("POST", "/v3/connectors", key: key, ["Transfer-Encoding: chunked"]).utf8) + Array("zz\r\n{}\r\n0\r\n\r\n".utf8)),
                ("HTTP/0.9", Array("GET /v3/applications\r\n\r\n".utf8)),
                ("percent garbage", Array(Self.head("GET", "/v3/grants/%ZZ%00%/messages", key: key).utf8)),
            ]
            for (label, bytes) in cases {
                let outcome = try await Self.exchange(port: Self.port(h), bytes, halfClose: true)
                #expect(outcome.isRefusal, "\(label): \(outcome)")
                try await Self.stillServing(h, label)
            }
        }
    }

    @Test("Transfer-Encoding other than chunked is refused, not read as chunked")
    func transferEncodings() async throws {
        try await withSimulator(configure: Self.options) { h in
            let body = "5\r\nhello\r\n0\r\n\r\n"
            for coding in ["gzip, chunked", "chunked, chunked", "identity"] {
                let head = Self.head("POST", "/v3/applications/redirect-uris", key: h.apiKey,
                                     ["Content-Type: application/json", "Transfer-Encoding: \(coding)"])
                let outcome = try await Self.exchange(port: Self.port(h), Array((head + body).utf8))
                #expect(outcome.status == 400 || outcome == .closed, "\(coding): \(outcome)")
                try await Self.stillServing(h, "Transfer-Encoding: \(coding)")
            }
        }
    }

    @Test("A head that never ends closes the connection after the head timeout")
    func slowHead() async throws {
        try await withSimulator(configure: { o in Self.options(&o); o.settings.headTimeout = .seconds(1) }) { h in
            let started = ContinuousClock.now
            let outcome = try await RawSocket.run {
                let s = try RawSocket(port: Self.port(h), receiveTimeout: 5)
                defer { s.close() }
                s.send("GET /v3/applications HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                return s.readResponse()
            }
            let waited = ContinuousClock.now - started
            #expect(outcome == .closed, "\(outcome)")
            #expect(waited < .seconds(4), "closed after \(waited)")
            try await Self.stillServing(h, "slow head")
        }
    }
}
