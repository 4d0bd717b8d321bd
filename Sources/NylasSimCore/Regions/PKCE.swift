import Foundation

/// PKCE verification (RFC 7636, and the form the official SDKs send, reference §4.5).
package enum PKCE {
    package static func verify(verifier: String, challenge: String, method: String) -> Bool {
        let given = challenge.trimmingCharacters(in: CharacterSet(charactersIn: "="))
        if method.lowercased() == "plain" { return verifier == challenge }
        let digest = Digest.sha256(Array(verifier.utf8))
        let rfc = Base64URL.encode(digest)
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        let sdk = Data(hex.utf8).base64EncodedString().trimmingCharacters(in: CharacterSet(charactersIn: "="))
        let sdkURL = Base64URL.encode(Array(hex.utf8))
        return given == rfc || given == sdk || given == sdkURL
    }
}
