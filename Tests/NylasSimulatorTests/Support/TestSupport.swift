import Foundation
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

/// A fresh simulator for one test, with a client that talks to it over real sockets.
struct SimHarness {
    let sim: Simulator
    let client = HTTPClient()

    static func start(seed: String? = "test", configure: (inout SimulatorOptions) -> Void = { _ in }) async throws -> SimHarness {
        var options = SimulatorOptions(seed: seed)
        configure(&options)
        return SimHarness(sim: try await Simulator.start(options))
    }

    func stop() async { await sim.shutdown() }

    func url(_ region: Region, _ path: String) -> String { sim.baseURL(region).absoluteString + path }

    var apiKey: String { sim.region(.us).v3.apiKey }
    func apiKey(_ region: Region) -> String { sim.region(region).v3.apiKey }

    /// A request with an optional bearer token and JSON body.
    @discardableResult
    func call(_ method: String, _ path: String, region: Region = .us, token: String? = nil, json: JSON? = nil,
              headers: [String: String] = [:]) async throws -> HTTPClient.Response {
        var h = headers
        if let token { h["Authorization"] = "Bearer \(token)" }
        return try await client.json(method, url(region, path), json, headers: h)
    }

    /// A request with a raw body.
    func raw(_ method: String, _ path: String, region: Region = .us, token: String? = nil, body: [UInt8],
             headers: [String: String] = [:]) async throws -> HTTPClient.Response {
        var h = headers
        if let token { h["Authorization"] = "Bearer \(token)" }
        return try await client.send(method, url(region, path), headers: h, body: body)
    }

    /// `POST /__sim/clock {"advance": ...}`.
    func advance(_ duration: String) async throws {
        let r = try await call("POST", "/__sim/clock", json: ["advance": .string(duration)])
        precondition(r.status == 200, r.text)
    }
}

extension HTTPClient.Response {
    /// `data` of a v3 envelope.
    var data: JSON? { json?["data"] }
    var errorType: String? { json?["error"]?["type"]?.stringValue }
}

/// Runs `body` with a fresh harness and always stops it.
func withSimulator<T>(seed: String? = "test", configure: (inout SimulatorOptions) -> Void = { _ in },
                      _ body: (SimHarness) async throws -> T) async throws -> T {
    let h = try await SimHarness.start(seed: seed, configure: configure)
    do {
        let result = try await body(h)
        await h.stop()
        return result
    } catch {
        await h.stop()
        throw error
    }
}

/// A multipart/form-data body of `parts` (a part with a filename is a file).
func multipartBody(_ parts: [(name: String, filename: String?, type: String?, body: [UInt8])], boundary: String) -> [UInt8] {
    var out: [UInt8] = []
    for p in parts {
        var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(p.name)\""
        if let f = p.filename { head += "; filename=\"\(f)\"" }
        head += "\r\n"
        if let t = p.type { head += "Content-Type: \(t)\r\n" }
        head += "\r\n"
        out += Array(head.utf8) + p.body + Array("\r\n".utf8)
    }
    out += Array("--\(boundary)--\r\n".utf8)
    return out
}
