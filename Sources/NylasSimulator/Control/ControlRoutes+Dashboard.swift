import Foundation

extension ControlRoutes {
    /// `/__sim/ui`: the web dashboard (see `Dashboard`). Like every control route it needs the
    /// control token when one is set; these GET routes also take it as `?token=`.
    static func registerDashboard(_ r: inout Router) {
        r.add("GET", "/__sim/ui", .control) { ctx in
            try Dashboard.page(core: ctx.core, query: ctx.query)
        }
        r.add("GET", "/__sim/ui/live", .control) { ctx in
            try Dashboard.live(core: ctx.core, query: ctx.query)
        }
        r.add("GET", "/__sim/ui/secret", .control) { ctx in
            guard let ref = ctx.query["ref"], !ref.isEmpty else { throw NylasError.missingField("ref") }
            return .json(["ref": .string(ref), "value": .string(try Dashboard.secret(core: ctx.core, ref: ref))],
                         headers: ["Cache-Control": "no-store"])
        }
    }
}
