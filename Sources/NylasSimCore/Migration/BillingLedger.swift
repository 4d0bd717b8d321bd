import Foundation

/// The billing ledger: every period an account was connected to an application, so that a
/// test can see what a month costs. An account connected to two applications (the old and the
/// new region during a move) counts in both until it is revoked or deleted; a v2 account and
/// the v3 grant of the application linked to it count once, as Nylas de-duplicates them.
extension EngineState {
    /// A grant or account starts being billable (no-op when it already is).
    package func billingConnect(region: Region, grant: GrantRecord) throws {
        let store = store(region)
        if try store.hasOpenConnection(grantID: grant.id) { return }
        try store.openConnection(grant, now: now.seconds)
    }

    /// A grant or account stops being billable (deleted, revoked, downgraded).
    package func billingDisconnect(region: Region, grantID: String) throws {
        try store(region).closeConnection(grantID: grantID, now: now.seconds)
    }

    /// The ledger: per month, per application, the billable accounts; and which mailboxes are billed twice.
    package func billingLedger() throws -> JSON {
        struct Row { let region: Region; let app: String; let version: Int; let email: String; let from: Int; let to: Int? }
        var rows: [Row] = []
        var links: [String: String] = [:]   // v2 application → linked v3 application
        for region in Region.allCases {
            let s = store(region)
            for app in try s.applications() where app.apiVersion == 3 {
                if let v2 = app.v2ApplicationID { links[v2] = app.id }
            }
            for c in try s.connections() {
                rows.append(Row(region: region, app: c.applicationID, version: c.apiVersion, email: c.email, from: c.connectedAt,
                                to: c.disconnectedAt))
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
        return ["months": .array(monthJSON),
                "current": ["applications": .array(currentApps), "double_billed": .strings(currentDoubled)]]
    }
}

