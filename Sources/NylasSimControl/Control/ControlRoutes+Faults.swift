import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

extension ControlRoutes {
    /// `/__sim/faults`: the fault engine's rules.
    package static func registerFaults(_ r: inout Router) {
        r.add("GET", "/__sim/faults", .control, listFaults)
        r.add("POST", "/__sim/faults", .control, postFaults)
        r.add("DELETE", "/__sim/faults", .control, deleteFaults)
        r.add("DELETE", "/__sim/faults/{id}", .control, deleteFault)
    }

    /// `GET "/__sim/faults"`
    @Sendable static func listFaults(_ ctx: RequestContext) async throws -> SimResponse {
        .json(["data": .array(ctx.core.withState { $0.faults.rules.map(\.json) })])
    }

    /// `POST "/__sim/faults"`
    @Sendable static func postFaults(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let rule = try FaultRule.parse(body, now: ctx.core.now)
        return .json(ctx.core.addFault(rule).json, status: 201)
    }

    /// `DELETE "/__sim/faults"`
    @Sendable static func deleteFaults(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.core.withState { $0.faults.removeAll() }
        return .json(["data": []])
    }

    /// `DELETE "/__sim/faults/{id}"`
    @Sendable static func deleteFault(_ ctx: RequestContext) async throws -> SimResponse {
        guard ctx.core.withState({ $0.faults.remove(ctx.param("id")) }) else {
            throw NylasError.notFound("No fault rule \(ctx.param("id"))")
        }
        return .json(["deleted": .string(ctx.param("id"))])
    }
}

extension Engine {
    package func addFault(_ rule: FaultRule) -> FaultRule { withState { $0.faults.add(rule) } }
}

