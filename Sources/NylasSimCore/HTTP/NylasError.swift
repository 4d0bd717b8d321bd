import Foundation

/// The one error type of the simulator. Every failure a client can cause is a `NylasError`,
/// rendered as the exact body of the API surface that failed:
/// - v3: `{"request_id": "...", "error": {"type": "...", "message": "..."}}`
/// - v3 OAuth endpoints: `{"error", "error_description", "error_uri", "error_code"}`
/// - v2: `{"message": "...", "type": "..."}`
public struct NylasError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    /// The v3 `error.type`.
    public var type: String
    /// The human-readable message.
    public var message: String
    /// An optional `error.provider_error` object (v3).
    public var providerError: JSON?
    /// The OAuth `error` code; when set, v3 renders the OAuth envelope.
    public var oauthError: String?
    /// The v2 `type`, when it differs from the default for the status.
    public var v2Type: String?
    /// Extra response headers (`Retry-After`).
    public var headers: [String: String]

    public init(status: Int, type: String, message: String, providerError: JSON? = nil,
                oauthError: String? = nil, v2Type: String? = nil, headers: [String: String] = [:]) {
        self.status = status
        self.type = type
        self.message = message
        self.providerError = providerError
        self.oauthError = oauthError
        self.v2Type = v2Type
        self.headers = headers
    }

    public var description: String { "\(status) \(type): \(message)" }
}

// MARK: - The vocabulary

extension NylasError {
    package static let invalidJSON = NylasError(status: 400, type: "invalid_request_error",
                                        message: "Invalid JSON payload format: the request body is not valid JSON")

    package static func invalidRequest(_ message: String) -> NylasError {
        NylasError(status: 400, type: "invalid_request_error", message: message)
    }

    package static func missingField(_ name: String) -> NylasError {
        invalidRequest("Missing required field: \(name)")
    }

    package static func wrongType(_ name: String, expected: String, got: JSON) -> NylasError {
        invalidRequest("Invalid type for field \(name): expected \(expected), got \(got.typeName)")
    }

    package static func invalidValue(_ name: String, _ detail: String) -> NylasError {
        invalidRequest("Invalid value for \(name): \(detail)")
    }

    package static func unauthorized(_ message: String = "Unauthorized") -> NylasError {
        NylasError(status: 401, type: "unauthorized", message: message,
                   v2Type: "invalid_request_error")
    }

    package static func forbidden(_ message: String) -> NylasError {
        NylasError(status: 403, type: "forbidden", message: message)
    }

    package static func notFound(_ message: String = "requested object not found") -> NylasError {
        NylasError(status: 404, type: "not_found_error", message: message)
    }

    package static let grantNotFound = NylasError(status: 404, type: "grant.not_found", message: "Grant not found.")

    package static func conflict(_ message: String) -> NylasError {
        NylasError(status: 409, type: "conflict", message: message)
    }

    package static func routeNotFound(_ method: String, _ path: String) -> NylasError {
        NylasError(status: 404, type: "not_found_error", message: "Route not found: \(method) \(path)")
    }

    package static func methodNotAllowed(_ method: String, _ path: String) -> NylasError {
        NylasError(status: 405, type: "invalid_request_error", message: "Method \(method) is not allowed on \(path)")
    }

    package static func payloadTooLarge(limit: Int) -> NylasError {
        NylasError(status: 413, type: "invalid_request_error",
                   message: "Request body too large: the limit is \(limit) bytes")
    }

    package static func unsupportedMediaType(_ message: String) -> NylasError {
        NylasError(status: 415, type: "invalid_request_error", message: message)
    }

    /// Over one of Nylas's own limits: no `Retry-After` (reference v3 §2.4: only a throttling
    /// provider sends it); v2 passes its `X-RateLimit-*` headers.
    package static func nylasRateLimited(_ message: String = "Too many requests, please try again shortly.",
                                         headers: [String: String] = [:]) -> NylasError {
        NylasError(status: 429, type: "rate_limit_error", message: message, v2Type: "api_error", headers: headers)
    }

    package static func rateLimited(retryAfter: Int) -> NylasError {
        NylasError(status: 429, type: "rate_limit_error", message: "Too many requests, please try again shortly.",
                   v2Type: "api_error", headers: ["Retry-After": String(retryAfter)])
    }

    package static func providerError(_ message: String = "Provider request timed out.") -> NylasError {
        NylasError(status: 504, type: "provider_error", message: message, v2Type: "provider_error")
    }

    package static func `internal`(_ message: String) -> NylasError {
        NylasError(status: 500, type: "api.internal_error", message: message, v2Type: "api_error")
    }

    /// An error of the OAuth endpoints (`/v3/connect/token`, `/revoke`, `/tokeninfo`).
    package static func oauth(_ error: String, _ description: String, status: Int = 400) -> NylasError {
        NylasError(status: status, type: error, message: description, oauthError: error, v2Type: "invalid_request_error")
    }

    /// The v2 type for this error: explicit, or derived from the status as v2 does.
    package var resolvedV2Type: String {
        if let v2Type { return v2Type }
        switch status {
        case 402, 429, 500...: return "api_error"
        default: return "invalid_request_error"
        }
    }
}

// MARK: - Rendering

extension NylasError {
    /// The body of this error on `surface`.
    package func body(surface: APISurface, requestID: String) -> JSON {
        switch surface {
        case .v2:
            return ["message": .string(message), "type": .string(resolvedV2Type)]
        case .v3, .control:
            if let oauthError {
                return ["error": .string(oauthError), "error_description": .string(message),
                        "error_uri": .string("https://developer.nylas.com/docs/api/errors/\(status)-response/"),
                        "error_code": .int(status)]
            }
            var error: JSON = ["type": .string(type), "message": .string(message)]
            if let providerError { error["provider_error"] = providerError }
            return ["request_id": .string(requestID), "error": error]
        }
    }
}
