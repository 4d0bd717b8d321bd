import Foundation
import NylasSimCore
import Synchronization

/// Nylas's own rate limits (reference v3 §2.5, v2 §4.4), counted on the virtual clock in the
/// request pipeline's one turn of the lock, before the handler runs. Provider limits (Google,
/// Microsoft) are counted after these, per mailbox.
enum RateLimits {
    /// The 429 for the request, or nil when it is within every limit that applies to it.
    static func check(_ s: EngineState, _ limits: NylasRateLimits, _ request: SimRequest, surface: APISurface,
                      parts: [String], pattern: String, grant: GrantRecord?,
                      applicationID: () -> String?) -> NylasError? {
        switch surface {
        case .v3: return v3(s, limits, request, parts: parts, grant: grant, applicationID: applicationID)
        case .v2: return v2(s, limits, request, parts: parts, pattern: pattern)
        default: return nil
        }
    }

    /// v3: 200 a second per grant on its data calls (10 for multipart sends), 50 a second per
    /// application on the admin groups, 20 a minute on provider detection. No `X-RateLimit-*` and no
    /// `Retry-After` headers (reference §2.4: `Retry-After` comes only from a throttling provider).
    private static func v3(_ s: EngineState, _ limits: NylasRateLimits, _ request: SimRequest, parts: [String],
                           grant: GrantRecord?, applicationID: () -> String?) -> NylasError? {
        guard parts.count >= 2, parts[0] == "v3" else { return nil }
        let key: String
        let limit: ProviderRateLimit
        switch parts[1] {
        case "grants" where parts.count > 3:
            guard let grant else { return nil }
            if request.method == "POST", parts.last == "send",
               request.header("content-type")?.lowercased().hasPrefix("multipart/") == true {
                key = "v3|send|\(grant.id)"
                limit = limits.multipartSend
            } else {
                key = "v3|grant|\(grant.id)"
                limit = limits.grant
            }
        case "providers" where parts.count == 3 && parts[2] == "detect":
            guard let app = applicationID() else { return nil }
            key = "v3|detect|\(app)"
            limit = limits.detect
        case "applications", "connect", "connectors", "grants", "webhooks":
            guard let app = applicationID() else { return nil }
            key = "v3|app|\(app)"
            limit = limits.application
        default:
            return nil
        }
        guard s.consume(key, limit, in: &s.nylasUsage) != nil else { return nil }
        return .nylasRateLimited()
    }

    /// v2: 50 a second per access token and endpoint, 500 a second per application and endpoint on
    /// `/a/{client_id}/…`, 10 an hour on `ip_addresses`. The 429 says the limit and the seconds until
    /// it resets (`X-RateLimit-Limit`, `X-RateLimit-Reset`).
    private static func v2(_ s: EngineState, _ limits: NylasRateLimits, _ request: SimRequest, parts: [String],
                           pattern: String) -> NylasError? {
        let endpoint = "\(request.method) \(pattern)"
        let key: String
        let limit: ProviderRateLimit
        if parts.count >= 2, parts[0] == "a" {
            let app = parts[1]
            if parts.count == 3, parts[2] == "ip_addresses" {
                key = "v2|ip|\(app)"
                limit = limits.v2IPAddresses
            } else {
                key = "v2|app|\(app)|\(endpoint)"
                limit = limits.v2Application
            }
        } else {
            guard let token = request.header("authorization"), !token.isEmpty else { return nil }
            key = "v2|account|\(token)|\(endpoint)"
            limit = limits.v2Account
        }
        guard let left = s.consume(key, limit, in: &s.nylasUsage) else { return nil }
        return .nylasRateLimited(headers: ["X-RateLimit-Limit": String(limit.requests), "X-RateLimit-Reset": String(seconds(left))])
    }

    /// Whole seconds until a window ends, at least 1.
    static func seconds(_ left: Duration) -> Int { max(1, Int((left.milliseconds + 999) / 1000)) }
}

/// v2's concurrency limits per access token (reference v2 §4.4): requests of one token on
/// `/delta/streaming`, `/delta/longpoll`, `/messages`, `/threads` and `/contacts` under way at once.
/// Counted in wall time (a request is under way until its answer is built), outside the state lock.
final class ConcurrencyLimits: Sendable {
    private let running = Mutex<[String: Int]>([:])

    /// The key and limit that `request` counts against, if any.
    static func group(_ request: SimRequest, parts: [String], limits: NylasRateLimits) -> (key: String, limit: Int)? {
        guard let first = parts.first, let token = request.header("authorization"), !token.isEmpty else { return nil }
        let name = first == "delta" && parts.count >= 2 ? "delta/\(parts[1])" : first
        guard let limit = limits.v2Concurrency[name] else { return nil }
        return ("\(token)|\(name)", limit)
    }

    /// Takes a place for `key`; false when `limit` requests already hold one.
    func enter(_ key: String, limit: Int) -> Bool {
        running.withLock { counts in
            let n = counts[key] ?? 0
            guard n < limit else { return false }
            counts[key] = n + 1
            return true
        }
    }

    /// A place held for as long as this object lives (a streamed answer's closure keeps it).
    final class Place: Sendable {
        let limits: ConcurrencyLimits
        let key: String
        init(_ limits: ConcurrencyLimits, _ key: String) {
            self.limits = limits
            self.key = key
        }
        deinit { limits.leave(key) }
    }

    func leave(_ key: String) {
        running.withLock { counts in
            let n = (counts[key] ?? 1) - 1
            counts[key] = n > 0 ? n : nil
        }
    }
}
