import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimControl
import NylasSimulatorTesting

/// The one route table of every simulator: the v3 and v2 API and the control API. Handlers reach
/// their simulator through the request context, so the table is built once per process.
package enum SimulatorRoutes {
    package static let shared = build()

    /// Builds the table; two routes that would answer the same requests stop the process here.
    package static func build() -> Router {
        var router = Router()
        APIRoutes.register(&router)
        ControlRoutes.registerAll(&router)
        let conflicts = router.conflicts
        precondition(conflicts.isEmpty, "routes that answer the same requests: \(conflicts)")
        return router
    }
}
