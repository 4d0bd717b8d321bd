import Foundation
import NylasSimCore

extension RequestContext {
    /// The v2 application of an `/a/{client_id}/...` call: HTTP Basic with the client secret as
    /// user name (or the raw secret), and the path's client ID must be that application's.
    package func requireV2Application(_ store: RegionStore) throws -> ApplicationRecord {
        guard let header = request.header("authorization"), !header.isEmpty else {
            throw NylasError.unauthorized("Could not verify access credential.")
        }
        var secret = header
        if header.lowercased().hasPrefix("basic ") {
            let encoded = String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)
            guard let data = Data(base64Encoded: encoded), let decoded = String(data: data, encoding: .utf8) else {
                throw NylasError.unauthorized("Could not verify access credential.")
            }
            secret = decoded.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        } else if header.lowercased().hasPrefix("bearer ") {
            secret = String(header.dropFirst(7))
        }
        guard let app = try store.application(clientSecret: secret, apiVersion: 2), app.clientID == param("client_id") else {
            throw NylasError.unauthorized("Could not verify access credential.")
        }
        notes.set(application: app.id)
        return app
    }
}
