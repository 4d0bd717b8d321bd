import Foundation

/// A destination URL as Nylas accepts it: absolute http(s) with a host.
package enum WebhookURL {
    package static func validated(_ url: String, field: String) throws(NylasError) -> String {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = c.host, !host.isEmpty else {
            throw NylasError.invalidValue(field, "'\(url)' is not an http(s) URL")
        }
        return url
    }
}
