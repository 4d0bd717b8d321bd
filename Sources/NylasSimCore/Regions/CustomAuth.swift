import Foundation

/// Custom-auth helpers.
package enum CustomAuth {
    /// A refresh token of the simulated providers may name its mailbox (`sim:<email>`); any other
    /// string stands for a mailbox derived from the token itself.
    package static func emailFromRefreshToken(_ token: String, provider: String) -> String {
        if token.hasPrefix("sim:"), token.contains("@") { return String(token.dropFirst(4)).lowercased() }
        let digest = Digest.hex(Digest.sha256(Array(token.utf8)).prefix(5))
        return "user\(digest)@\(ProviderDetection.defaultDomain(provider))"
    }
}
