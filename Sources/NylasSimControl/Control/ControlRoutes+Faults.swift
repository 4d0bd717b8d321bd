import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

extension ControlRoutes {
    /// `/__sim/faults`: the fault engine's rules.
    package static func registerFaults(_ r: inout Router) {
        r.add("GET", "/__sim/faults", .control) { ctx in
            .json(["data": .array(ctx.core.withState { $0.faults.rules.map(\.json) })])
        }
        r.add("POST", "/__sim/faults", .control) { ctx in
            let body = try ctx.body()
            let rule = try FaultRule.parse(body, now: ctx.core.now)
            return .json(ctx.core.addFault(rule).json, status: 201)
        }
        r.add("DELETE", "/__sim/faults", .control) { ctx in
            ctx.core.withState { $0.faults.removeAll() }
            return .json(["data": []])
        }
        r.add("DELETE", "/__sim/faults/{id}", .control) { ctx in
            guard ctx.core.withState({ $0.faults.remove(ctx.param("id")) }) else {
                throw NylasError.notFound("No fault rule \(ctx.param("id"))")
            }
            return .json(["deleted": .string(ctx.param("id"))])
        }
    }
}

extension SimulatorCore {
    package func addFault(_ rule: FaultRule) -> FaultRule { withState { $0.faults.add(rule) } }
}

