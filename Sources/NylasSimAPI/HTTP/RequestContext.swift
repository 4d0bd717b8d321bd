import Foundation
import NylasSimCore

/// A request being answered: the request, its region, its path parameters and the ways to
/// read and change the simulator's state.
package struct RequestContext: Sendable {
    package let core: Engine
    package let request: SimRequest
    package let region: Region
    package let params: [String: String]
    package let surface: APISurface
    package let requestID: String
    package let notes: RequestNotes

    package var query: QueryParameters { request.query }

    package func param(_ name: String) -> String { params[name] ?? "" }

    package func body(allowForm: Bool = false, allowEmpty: Bool = false) throws(NylasError) -> BodyFields {
        // The control API is the simulator's own: it takes JSON whatever the Content-Type says,
        // so `curl -d '{…}'` (sent as a form) works without a header.
        if surface == .control, !allowForm {
            return try BodyFields(request.withContentType("application/json"), allowEmpty: allowEmpty)
        }
        return try BodyFields(request, allowForm: allowForm, allowEmpty: allowEmpty)
    }

    /// Reads state under the lock, with this region's store.
    package func read<T: Sendable>(_ body: (EngineState, RegionStore) throws -> T) throws -> T {
        try core.withState { s in try body(s, s.store(region)) }
    }

    /// Changes state atomically, with this region's store.
    package func write<T: Sendable>(_ body: (EngineState, RegionStore) throws -> T) throws -> T {
        try core.transaction { s in try body(s, s.store(region)) }
    }

    // MARK: Responses

    /// `{request_id, data}` (v3).
    package func data(_ value: JSON, status: Int = 200) -> SimResponse {
        .json(["request_id": .string(requestID), "data": value], status: status)
    }

    /// A v3 answer whose members but `request_id` (`data`, `next_cursor`, …) `render` gives, kept
    /// rendered in the region's store under `key` (`RegionStore.keptMail`) while the mail it shows is
    /// unchanged; nil when `render` gives nil. The bytes are those `SimResponse.json` gives for the
    /// whole object: `request_id` sorts after every other member and is added last.
    package func keptAnswer(_ store: RegionStore, key: String, render: () throws -> JSON?) throws -> SimResponse? {
        guard let kept = try store.keptMail(key: key, render: { try render().map(Self.keptBytes) }) else { return nil }
        return answer(kept: kept)
    }

    /// An answer that shows one message row (`row`), kept as `RegionStore.keptMessage` keeps it:
    /// while that row is unchanged.
    package func keptMessageAnswer(_ store: RegionStore, key: String, render: () throws -> (JSON, row: Int64)?) throws -> SimResponse? {
        guard let kept = try store.keptMessage(key: key, render: {
            try render().map { (Self.keptBytes($0.0), $0.row) }
        }) else { return nil }
        return answer(kept: kept)
    }

    /// A cursor page whose items are already serialized (`render` gives them and the next cursor),
    /// kept as `keptAnswer` keeps a page: the bytes `page(_:nextCursor:)` serializes to.
    package func keptPage(_ store: RegionStore, key: String,
                          render: () throws -> (items: [[UInt8]], nextCursor: String?)) throws -> SimResponse {
        let kept = try store.keptMail(key: key, render: {
            let (items, next) = try render()
            var bytes: [UInt8] = []
            bytes.reserveCapacity(items.reduce(32) { $0 + $1.count + 1 })
            bytes.append(contentsOf: #"{"data":["#.utf8)
            for (i, item) in items.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes.append(contentsOf: item)
            }
            bytes.append(UInt8(ascii: "]"))
            if let next {
                bytes.append(contentsOf: #","next_cursor":"#.utf8)
                JSON.string(next).write(into: &bytes)
            }
            return bytes
        })
        return answer(kept: kept ?? [])
    }

    /// An answer that shows one thread (its messages' rows `rows`), kept as
    /// `RegionStore.keptThread` keeps it.
    package func keptThreadAnswer(_ store: RegionStore, key: String, grantID: String, threadID: String,
                                  render: () throws -> (JSON, rows: [Int64])?) throws -> SimResponse? {
        guard let kept = try store.keptThread(key: key, grantID: grantID, threadID: threadID, render: {
            try render().map { (Self.keptBytes($0.0), $0.rows) }
        }) else { return nil }
        return answer(kept: kept)
    }

    /// An object's JSON without its closing brace, to which `answer(kept:)` adds `request_id`.
    private static func keptBytes(_ value: JSON) -> [UInt8] {
        var bytes = value.bytes
        bytes.removeLast()  // the closing brace
        return bytes
    }

    private func answer(kept: [UInt8]) -> SimResponse {
        var body: [UInt8] = []
        body.reserveCapacity(kept.count + requestID.utf8.count + 20)
        body.append(contentsOf: kept)
        body.append(contentsOf: kept.count > 1 ? #","request_id":"#.utf8 : #""request_id":"#.utf8)
        body.append(contentsOf: JSON.string(requestID).bytes)
        body.append(UInt8(ascii: "}"))
        return SimResponse(status: 200, headers: ["Content-Type": "application/json; charset=utf-8"], body: body)
    }

    /// A page that is always there (a list), kept as `keptAnswer` keeps it.
    package func keptAnswer(_ store: RegionStore, key: String, render: () throws -> JSON) throws -> SimResponse {
        try keptAnswer(store, key: key, render: { () throws -> JSON? in try render() })!
    }

    /// `{data: [...], next_cursor}`: a v3 cursor page without its `request_id`.
    package static func page(_ items: [JSON], nextCursor: String?) -> JSON {
        var o: JSON = ["data": .array(items)]
        if let nextCursor { o["next_cursor"] = .string(nextCursor) }
        return o
    }

    /// `{request_id, data: [...], next_cursor}` (v3 cursor lists).
    package func list(_ items: [JSON], nextCursor: String?) -> SimResponse {
        var o = Self.page(items, nextCursor: nextCursor)
        o["request_id"] = .string(requestID)
        return .json(o)
    }

    /// `{request_id, data: [...], limit, offset}` (v3 offset lists).
    package func list(_ items: [JSON], limit: Int, offset: Int) -> SimResponse {
        .json(["request_id": .string(requestID), "data": .array(items), "limit": .int(limit), "offset": .int(offset)])
    }

    /// `{request_id}` (v3 deletes).
    package func done(status: Int = 200) -> SimResponse {
        .json(["request_id": .string(requestID)], status: status)
    }
}
