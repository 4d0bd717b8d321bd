import Foundation
import Synchronization
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

extension ControlRoutes {
    /// `/__sim/webhooks/...`: the delivery journal, destinations of both versions, notification e-mails.
    package static func registerWebhooks(_ r: inout Router) {
        r.add("GET", "/__sim/webhooks/deliveries", .control, listDeliveries)
        r.add("GET", "/__sim/webhooks", .control, listWebhooks)
        r.add("GET", "/__sim/webhooks/emails", .control, listEmails)
    }

    /// `GET "/__sim/webhooks/deliveries"`
    @Sendable static func listDeliveries(_ ctx: RequestContext) async throws -> SimResponse {
        let q = ctx.query
        let region = try q["region"].map { name throws(NylasError) -> Region in
            guard let r = Region(rawValue: name) else { throw NylasError.invalidValue("region", "expected us or eu") }
            return r
        }
        let after = try q.int("after") ?? 0
        let bodies = try q.bool("bodies") ?? true
        let items = try ctx.core.deliveries(region: region, webhookID: q["webhook_id"], after: after)
            .filter { d in q["type"].map { d.type == $0 || d.type.hasPrefix($0 + ".") } ?? true }
        return .json(["data": .array(items.map { $0.json(includeBody: bodies) })])
    }

    /// `GET "/__sim/webhooks"`
    @Sendable static func listWebhooks(_ ctx: RequestContext) async throws -> SimResponse {
        let items = try ctx.core.withState { s in
            try Region.allCases.flatMap { region in
                try s.store(region).allWebhooks().map { h -> JSON in
                    var o = h.json()
                    o["region"] = .string(region.rawValue)
                    o["api_version"] = .int(h.apiVersion)
                    o["application_id"] = .string(h.applicationID)
                    return o
                }
            }
        }
        return .json(["data": .array(items)])
    }

    /// `GET "/__sim/webhooks/emails"`
    @Sendable static func listEmails(_ ctx: RequestContext) async throws -> SimResponse {
        let items = try ctx.core.withState { s in try Region.allCases.flatMap { try s.store($0).notificationEmails() } }
        return .json(["data": .array(items)])
    }
}

extension Engine {
    /// The delivery journal, in time order.
    package func deliveries(region: Region? = nil, webhookID: String? = nil, after: Int = 0) throws -> [WebhookDelivery] {
        try withState { s in
            try Region.allCases.filter { region == nil || $0 == region }
                .flatMap { try s.store($0).deliveries(webhookID: webhookID, afterSequence: after) }
                .sorted { ($0.time, $0.region, $0.sequence) < ($1.time, $1.region, $1.sequence) }
        }
    }

    /// Waits (wall time) for a delivery matching `predicate`, including ones already recorded
    /// after sequence `after` in the region(s) asked for.
    package func waitForDelivery(region: Region?, after: Int, timeout: Duration,
                         where predicate: @escaping @Sendable (WebhookDelivery) -> Bool) async -> WebhookDelivery? {
        let box = WaiterBox()
        return await withTaskGroup(of: WebhookDelivery?.self) { group in
            group.addTask {
                await withCheckedContinuation { (c: CheckedContinuation<WebhookDelivery?, Never>) in
                    self.withState { s in
                        for r in Region.allCases where region == nil || r == region {
                            if let found = try? s.store(r).deliveries(afterSequence: after).first(where: predicate) {
                                c.resume(returning: found)
                                return
                            }
                        }
                        box.set(s.deliveryWaiters.add(region: region, predicate: predicate, continuation: c))
                    }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            if let id = box.id { self.withState { $0.deliveryWaiters.cancel(id) } }
            group.cancelAll()
            return first
        }
    }
}

private final class WaiterBox: Sendable {
    private let value = Mutex<Int?>(nil)
    package func set(_ id: Int) { value.withLock { $0 = id } }
    package var id: Int? { value.withLock { $0 } }
}
