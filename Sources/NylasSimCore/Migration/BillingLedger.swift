import Foundation

/// The billing ledger: every period an account was connected to an application, so that a
/// test can see what a month costs. An account connected to two applications (the old and the
/// new region during a move) counts in both until the old grant is deleted (or its credentials
/// expire): revoking its tokens (`POST /v3/connect/revoke`) cuts the application's access but
/// leaves the grant, which stays billable (seed 000: billed twice "until the old one is
/// deactivated"). A v2 account and the v3 grant of the application linked to it count once, as
/// Nylas de-duplicates them. Each ended period says why it ended.
extension EngineState {
    /// A grant or account starts being billable (no-op when it already is).
    package func billingConnect(region: Region, grant: GrantRecord) throws {
        let store = store(region)
        if try store.hasOpenConnection(grantID: grant.id) { return }
        try store.openConnection(grant, now: now.seconds)
    }

    /// A grant or account stops being billable: `reason` is `deleted`, `expired`, `revoked` (v2's
    /// last token), `downgraded` or `cancelled`.
    package func billingDisconnect(region: Region, grantID: String, reason: String) throws {
        try store(region).closeConnection(grantID: grantID, now: now.seconds, reason: reason)
    }

    /// The ledger: per month, per application, the billable accounts; and which mailboxes are billed twice.
    package func billingLedger() throws -> JSON {
        struct Row { let region: Region; let app: String; let version: Int; let email: String; let from: Int; let to: Int?; let endedBy: String? }
        var rows: [Row] = []
        var links: [String: String] = [:]   // v2 application → linked v3 application
        for region in Region.allCases {
            let s = store(region)
            for app in try s.applications() where app.apiVersion == 3 {
                if let v2 = app.v2ApplicationID { links[v2] = app.id }
            }
            for c in try s.connections() {
                rows.append(Row(region: region, app: c.applicationID, version: c.apiVersion, email: c.email, from: c.connectedAt,
                                to: c.disconnectedAt, endedBy: c.endedBy))
            }
        }
        let nowSeconds = now.seconds
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        func monthStart(_ t: Int) -> Date {
            cal.date(from: cal.dateComponents([.year, .month], from: Date(timeIntervalSince1970: TimeInterval(t))))!
        }
        var months: [Date] = []
        if let first = rows.map(\.from).min() {
            var m = monthStart(first)
            let last = monthStart(nowSeconds)
            while m <= last {
                months.append(m)
                m = cal.date(byAdding: .month, value: 1, to: m)!
            }
        }
        let f = DateFormatter()
        f.calendar = cal
        f.timeZone = cal.timeZone
        f.dateFormat = "yyyy-MM"
        func billingKey(_ r: Row) -> String { r.version == 2 ? (links[r.app] ?? r.app) : r.app }
        func summarize(_ active: [Row]) -> (apps: [JSON], doubled: [String]) {
            var byApp: [String: (Row, Set<String>)] = [:]
            for r in active { byApp["\(r.region.rawValue)|\(r.app)", default: (r, [])].1.insert(r.email) }
            let apps = byApp.keys.sorted().map { key -> JSON in
                let (r, emails) = byApp[key]!
                return ["region": .string(r.region.rawValue), "application_id": .string(r.app), "api_version": .int(r.version),
                        "billable_accounts": .int(emails.count), "accounts": .strings(emails.sorted())]
            }
            var appsPerEmail: [String: Set<String>] = [:]
            for r in active { appsPerEmail[r.email, default: []].insert("\(r.region.rawValue)|\(billingKey(r))") }
            return (apps, appsPerEmail.filter { $0.value.count > 1 }.keys.sorted())
        }
        var monthJSON: [JSON] = []
        for m in months {
            let start = Int(m.timeIntervalSince1970)
            let end = Int(cal.date(byAdding: .month, value: 1, to: m)!.timeIntervalSince1970)
            let active = rows.filter { $0.from < end && ($0.to ?? Int.max) >= start && $0.from <= nowSeconds }
            let (apps, doubled) = summarize(active)
            monthJSON.append(["month": .string(f.string(from: m)), "applications": .array(apps), "double_billed": .strings(doubled)])
        }
        let (currentApps, currentDoubled) = summarize(rows.filter { $0.to == nil })
        let ended: [JSON] = rows.filter { $0.to != nil }.map { r in
            ["region": .string(r.region.rawValue), "application_id": .string(r.app), "api_version": .int(r.version),
             "email": .string(r.email), "from": .int(r.from), "to": .int(r.to!), "ended_by": .optional(r.endedBy)]
        }
        return ["months": .array(monthJSON),
                "current": ["applications": .array(currentApps), "double_billed": .strings(currentDoubled)],
                "ended": .array(ended),
                // Accounts cloned by the migration tools: a clone counts once with its v2 account
                // (de-duplicated as above); a placeholder (warning) bills nothing until re-authenticated.
                "migrated_accounts": .array(try MigrationTools.migratedAccounts(self))]
    }
}

