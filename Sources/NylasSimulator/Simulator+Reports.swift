import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimControl
import NylasSimulatorTesting

extension Simulator {
    /// The v2 → v3 migration report of the requests made so far.
    public func migrationReport() throws -> JSON {
        var filter = JournalFilter()
        filter.surface = .v2
        filter.limit = 1_000_000
        return MigrationReport.build(try requests(filter).map { (method: $0.method, path: $0.path, query: $0.query, body: $0.requestBody) })
    }
}

extension Simulator {
    /// The billing ledger (`GET /__sim/billing`).
    public func billing() throws -> JSON { try core.withState { try $0.billingLedger() } }
}

extension Simulator {
    /// Adds a fault rule; returns it with its ID.
    ///
    /// ```swift
    /// var rule = FaultRule()
    /// rule.path = "/v3/grants/*/messages"
    /// rule.status = 429
    /// rule.retryAfter = 30
    /// rule.count = 3
    /// sim.addFault(rule)
    /// ```
    @discardableResult
    public func addFault(_ rule: FaultRule) -> FaultRule { core.addFault(rule) }

    /// Removes a fault rule by ID.
    @discardableResult
    public func removeFault(_ id: String) -> Bool { core.withState { $0.faults.remove(id) } }

    /// The active rules with their hit counts.
    public var faults: [FaultRule] { core.withState { $0.faults.rules } }
}
