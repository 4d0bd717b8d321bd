import Foundation

/// The `id_token` of a token exchange: a JWT signed with HS256 by the application's client secret.
package enum IDToken {
    package static func make(grant: GrantRecord, app: ApplicationRecord, issuedAt: Int, lifetime: Int) -> String {
        let header: JSON = ["alg": "HS256", "typ": "JWT"]
        let claims: JSON = ["iss": "https://nylas.com", "aud": .string(app.id), "sub": .string(grant.id),
                            "email": .string(grant.email), "iat": .int(issuedAt), "exp": .int(issuedAt + lifetime)]
        let signingInput = Base64URL.encode(header.bytes) + "." + Base64URL.encode(claims.bytes)
        return signingInput + "." + signature(signingInput, key: app.clientSecret)
    }

    package static func signature(_ input: String, key: String) -> String {
        Base64URL.encode(Digest.hmacSHA256(key: Array(key.utf8), Array(input.utf8)))
    }

    package static func claims(_ token: String) -> JSON? {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let bytes = Base64URL.decode(String(parts[1])) else { return nil }
        return try? JSON.parse(bytes)
    }

    package static func verify(_ token: String, app: ApplicationRecord) -> Bool {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return false }
        return signature("\(parts[0]).\(parts[1])", key: app.clientSecret) == String(parts[2])
    }
}
