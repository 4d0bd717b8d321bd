import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

extension ControlRoutes {
    /// `/__sim/ui`: the web dashboard (see `Dashboard`). Like every control route it needs the
    /// control token when one is set; these GET routes also take it as `?token=`.
    package static func registerDashboard(_ r: inout Router) {
        r.add("GET", "/__sim/ui", .control, getUi)
        r.add("GET", "/__sim/ui/live", .control, getLive)
        r.add("GET", "/__sim/ui/request", .control, getRequest)
        r.add("GET", "/__sim/ui/delivery", .control, getDelivery)
        r.add("GET", "/__sim/ui/secret", .control, getSecret)
    }

    /// `GET "/__sim/ui"`
    @Sendable static func getUi(_ ctx: RequestContext) async throws -> SimResponse {
        try Dashboard.page(core: ctx.core, query: ctx.query)
    }

    /// `GET "/__sim/ui/live"`
    @Sendable static func getLive(_ ctx: RequestContext) async throws -> SimResponse {
        try Dashboard.live(core: ctx.core, query: ctx.query)
    }

    /// `GET "/__sim/ui/request"`
    @Sendable static func getRequest(_ ctx: RequestContext) async throws -> SimResponse {
        let (region, seq, reveal) = try ControlRoutes.dashboardEntry(ctx.query)
        return .json(try DashboardModel.requestBodies(core: ctx.core, region: region, seq: seq, reveal: reveal),
                     headers: ["Cache-Control": "no-store"])
    }

    /// `GET "/__sim/ui/delivery"`
    @Sendable static func getDelivery(_ ctx: RequestContext) async throws -> SimResponse {
        let (region, seq, reveal) = try ControlRoutes.dashboardEntry(ctx.query)
        return .json(try DashboardModel.deliveryBody(core: ctx.core, region: region, seq: seq, reveal: reveal),
                     headers: ["Cache-Control": "no-store"])
    }

    /// `GET "/__sim/ui/secret"`
    @Sendable static func getSecret(_ ctx: RequestContext) async throws -> SimResponse {
        guard let ref = ctx.query["ref"], !ref.isEmpty else { throw NylasError.missingField("ref") }
        return .json(["ref": .string(ref), "value": .string(try Dashboard.secret(core: ctx.core, ref: ref))],
                     headers: ["Cache-Control": "no-store"])
    }

    /// `region` and `seq` of a journal or delivery entry, and whether to show its secrets.
    package static func dashboardEntry(_ q: QueryParameters) throws(NylasError) -> (Region, Int, Bool) {
        guard let name = q["region"], let region = Region(rawValue: name) else { throw NylasError.invalidValue("region", "expected us or eu") }
        guard let seq = try q.int("seq", in: 1...Int.max) else { throw NylasError.missingField("seq") }
        return (region, seq, DashboardModel.Options(q).reveal)
    }
}
