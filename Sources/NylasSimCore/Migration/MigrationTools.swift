import Foundation

/// The v2 → v3 migration tools (`/v3/migration-tools/…`): importing a linked v2 application's
/// settings, cloning a v2 account into a v3 grant over the same mailbox without re-authentication,
/// and the snapshot and batch-clone jobs that do it for every account on the virtual clock.
///
/// A v2 account whose credentials no longer work cannot be cloned as a working grant: by default it
/// becomes a placeholder grant (`grant_status: invalid`, counted as a warning) that the user
/// re-authenticates later; with placeholders turned off it fails. Each account's last outcome is a
/// `migrated_account` object (what `mode: only_new | only_failed` filters on, and what the billing
/// ledger and the migration report show).
package enum MigrationTools {
    /// How long the simulated jobs take on the virtual clock.
    package static let snapshotDuration = 30
    package static let clonePerAccount = 2

    /// v2 webhook triggers and their v3 names; a trigger missing here has no v3 equivalent.
    package static let triggerRenames: [String: String] = [
        "account.connected": "grant.created", "account.invalid": "grant.expired",
        "message.created": "message.created", "message.updated": "message.updated", "message.opened": "message.opened",
        "message.link_clicked": "message.link_clicked", "message.bounced": "message.bounce_detected",
        "thread.replied": "thread.replied",
        "contact.created": "contact.updated", "contact.updated": "contact.updated", "contact.deleted": "contact.deleted",
        "calendar.created": "calendar.created", "calendar.updated": "calendar.updated", "calendar.deleted": "calendar.deleted",
        "event.created": "event.created", "event.updated": "event.updated", "event.deleted": "event.deleted",
        "job.successful": "message.send_success", "job.failed": "message.send_failed",
    ]

    /// The linked v2 application of `app`, or the error the real API gives before linking.
    static func linkedV2(_ store: RegionStore, _ app: ApplicationRecord) throws -> ApplicationRecord {
        guard let id = app.v2ApplicationID, let v2 = try store.application(id: id), v2.apiVersion == 2 else {
            throw NylasError.invalidRequest("This application is not linked to a v2 application: link it first with POST /v3/migration-tools/link-v2v3-apps")
        }
        return v2
    }

    // MARK: Import

    /// Copies the linked v2 application's settings: redirect URIs, icon and website, an
    /// integration (connector) per provider its accounts use, and its webhooks as v3 destinations
    /// with the triggers renamed. Running it again adds only what is missing.
    package static func importV2App(_ s: EngineState, region: Region, app: ApplicationRecord) throws -> String {
        let store = s.store(region)
        let v2 = try linkedV2(store, app)
        let now = s.now.seconds
        let existingURIs = Set(try store.redirectURIs(applicationID: app.id).map(\.url))
        for uri in try store.redirectURIs(applicationID: v2.id) where !existingURIs.contains(uri.url) {
            try store.insertRedirectURI(applicationID: app.id, url: uri.url, platform: "web", settings: nil, now: now)
        }
        var updated = app
        var settings = updated.settings.objectValue ?? [:]
        var branding = settings["branding"]?.objectValue ?? [:]
        if branding["name"] == nil { branding["name"] = .string(v2.name) }
        for key in ["icon_url", "website_url"] where branding[key] == nil {
            if let value = v2.settings[key] { branding[key] = value }
        }
        settings["branding"] = .object(branding)
        updated.settings = .object(settings)
        updated.updatedAt = now
        try store.save(updated)
        // Integrations: one connector per provider of the v2 accounts (Microsoft needs a new Azure app).
        let accounts = try store.grants(.init(applicationID: v2.id)).filter { $0.apiVersion == 2 }
        var skipped: [String] = []
        for provider in Set(accounts.map(\.provider)).sorted() where try store.connector(applicationID: app.id, provider: provider) == nil {
            if provider == "microsoft" { skipped.append(provider); continue }
            try store.insertConnector(applicationID: app.id, provider: provider, settings: [:],
                                      scope: ProviderDetection.defaultScopes(provider), now: now)
        }
        let existingHooks = Set(try store.webhooks(applicationID: app.id, apiVersion: 3).map(\.url))
        for hook in try store.webhooks(applicationID: v2.id, apiVersion: 2) where !existingHooks.contains(hook.url) {
            var seen = Set<String>()
            let triggers = hook.triggerTypes.compactMap { triggerRenames[$0] }.filter { seen.insert($0).inserted }
            guard !triggers.isEmpty else { continue }
            var v3 = WebhookRecord(id: store.ids.base62("webhook", length: 26), applicationID: app.id, apiVersion: 3,
                                   description: "Imported from v2 application \(v2.clientID)", triggerTypes: triggers, url: hook.url,
                                   secret: store.ids.base62("webhook-secret", length: 40), emails: [], compressed: false, now: now)
            v3.status = hook.status
            try store.save(v3)
        }
        var message = "V2 Application imported successfully to v3 Application: app settings, Connectors, redirect URIs, etc."
        if !skipped.isEmpty {
            message += " Microsoft integrations are not imported: create a new Azure auth app and a Microsoft connector."
        }
        return message
    }

    // MARK: Clone

    /// Placeholder grants allowed for this provider (`clone_exchange` for Microsoft, the other flag for the rest).
    package struct PlaceholderPolicy: Sendable {
        package var allowInvalidGrantCreation = true
        package var cloneExchange = true
        package init(allowInvalidGrantCreation: Bool = true, cloneExchange: Bool = true) {
            self.allowInvalidGrantCreation = allowInvalidGrantCreation
            self.cloneExchange = cloneExchange
        }
        func allows(_ provider: String) -> Bool {
            provider == "microsoft" || provider == "ews" ? cloneExchange : allowInvalidGrantCreation
        }
    }

    /// The outcome of cloning one account.
    package enum Outcome: String, Sendable { case success, warning, failed }

    /// `POST /v3/migration-tools/grants/{account_id}/clone`: the v3 grant of the v2 account.
    package static func cloneAccount(_ s: EngineState, region: Region, app: ApplicationRecord, accountID: String,
                                     policy: PlaceholderPolicy, jobID: String? = nil) throws -> GrantRecord {
        let store = s.store(region)
        let v2 = try linkedV2(store, app)
        guard let account = try store.grant(id: accountID), account.apiVersion == 2, account.applicationID == v2.id else {
            throw NylasError.notFound("v2 account not found: \(accountID)")
        }
        let result = try clone(s, region: region, app: app, account: account, policy: policy, jobID: jobID)
        switch result {
        case .success(let grant): return grant
        case .failure(let error): throw error
        }
    }

    private static func clone(_ s: EngineState, region: Region, app: ApplicationRecord, account: GrantRecord,
                              policy: PlaceholderPolicy, jobID: String?) throws -> Result<GrantRecord, NylasError> {
        let store = s.store(region)
        func outcome(_ o: Outcome, grant: GrantRecord?, error: String?) throws {
            var record = try store.platformObject(.migratedAccount, id: account.id)
                ?? PlatformObject(kind: .migratedAccount, id: account.id, applicationID: app.id, data: [:], now: s.now.seconds)
            record.data = ["v2_account_id": .string(account.id), "email": .string(account.email), "provider": .string(account.provider),
                           "status": .string(o.rawValue), "grant_id": .optional(grant?.id), "error": .optional(error),
                           "job_id": .optional(jobID), "migrated_at": .int(s.now.seconds)]
            record.updatedAt = s.now.seconds
            try store.save(record)
        }
        if account.billingState == "cancelled" || account.billingState == "deleted" {
            let message = "v2 account \(account.id) is \(account.billingState!): only active accounts are migrated"
            try outcome(.failed, grant: nil, error: message)
            return .failure(NylasError.invalidRequest(message))
        }
        guard let connector = try store.connector(applicationID: app.id, provider: account.provider) else {
            let message = "No \(account.provider) connector in this application: create it (or import the v2 application) first"
            try outcome(.failed, grant: nil, error: message)
            return .failure(NylasError.invalidRequest(message))
        }
        let credentialsWork = try account.status == .valid && (s.world.mailbox(account.email)?.credentialsValid ?? true)
        if !credentialsWork {
            guard policy.allows(account.provider) else {
                let message = "v2 account \(account.id) has credentials that no longer work and placeholder grants are turned off"
                try outcome(.failed, grant: nil, error: message)
                return .failure(NylasError.invalidRequest(message))
            }
            let grant = try s.placeholderGrant(region: region, application: app, account: account, scope: connector.scope)
            try outcome(.warning, grant: grant, error: "Created as a placeholder grant: the user must re-authenticate")
            return .success(grant)
        }
        var (grant, _) = try s.connectGrant(region: region, application: app, provider: account.provider, email: account.email,
                                            name: account.name, scope: connector.scope)
        if grant.accountID != account.id {
            grant.accountID = account.id
            try store.save(grant)
        }
        try outcome(.success, grant: grant, error: nil)
        return .success(grant)
    }

    // MARK: Batch clone

    /// The options of `POST /v3/migration-tools/snapshot-batch-clone`.
    package struct BatchOptions: Sendable {
        package var limit = 1000
        package var offset = 0
        package var providers: [String] = []
        package var mode = "all"
        package var policy = PlaceholderPolicy()
        package init() {}
    }

    /// Starts a snapshot job and the batch clone job that runs when it completes.
    package static func startBatchClone(_ s: EngineState, region: Region, app: ApplicationRecord,
                                        options: BatchOptions) throws -> (snapshot: PlatformObject, clone: PlatformObject) {
        let store = s.store(region)
        _ = try linkedV2(store, app)
        let now = s.now.seconds
        func job(_ type: String, status: String, linked: String?) -> PlatformObject {
            let id = store.ids.uuid("migration-job")
            var data: JSON = ["job_id": .string(id), "type": .string(type), "public_application_id": .string(app.id),
                              "status": .string(status), "count_all": 0, "count_success": 0, "count_failed": 0, "count_warning": 0,
                              "created_at": .int(now), "updated_at": .int(now)]
            if let linked { data["linked_job_id"] = .string(linked) }
            return PlatformObject(kind: .migrationJob, id: id, applicationID: app.id, data: data, now: now)
        }
        var snapshot = job("snapshot", status: "running", linked: nil)
        var clone = job("migration", status: "pending", linked: snapshot.id)
        snapshot["linked_job_id"] = .string(clone.id)
        clone["_options"] = ["limit": .int(options.limit), "offset": .int(options.offset), "providers": .strings(options.providers),
                             "mode": .string(options.mode), "allow_invalid_grant_creation": .bool(options.policy.allowInvalidGrantCreation),
                             "clone_exchange": .bool(options.policy.cloneExchange)]
        try store.save(snapshot)
        try store.save(clone)
        planSnapshot(s, region: region, snapshotID: snapshot.id, at: now + snapshotDuration)
        return (snapshot, clone)
    }

    /// The snapshot completes: it counts the v2 accounts; the clone job starts.
    static func planSnapshot(_ s: EngineState, region: Region, snapshotID: String, at time: Int) {
        s.schedule(at: VirtualTime(seconds: max(time, s.now.seconds)), "migration snapshot \(snapshotID)") { core in
            try? core.transaction { s in
                let store = s.store(region)
                guard var snapshot = try store.platformObject(.migrationJob, id: snapshotID), snapshot["status"]?.stringValue == "running",
                      let app = try store.application(id: snapshot.applicationID) else { return }
                let accounts = app.v2ApplicationID.map { v2 in try? store.grants(.init(applicationID: v2)) }??.filter { $0.apiVersion == 2 } ?? []
                snapshot.data["count_all"] = .int(accounts.count)
                snapshot.data["count_success"] = .int(accounts.count)
                finish(&snapshot, status: "completed", now: s.now.seconds)
                try store.save(snapshot)
                guard let cloneID = snapshot["linked_job_id"]?.stringValue,
                      var clone = try store.platformObject(.migrationJob, id: cloneID), clone["status"]?.stringValue == "pending" else { return }
                let targets = try batchTargets(s, region: region, app: app, options: clone["_options"] ?? [:])
                clone.data["status"] = "running"
                clone.data["count_all"] = .int(targets.count)
                clone.data["_targets"] = .strings(targets)
                clone.data["updated_at"] = .int(s.now.seconds)
                clone.updatedAt = s.now.seconds
                try store.save(clone)
                planClone(s, region: region, jobID: clone.id, at: s.now.seconds + clonePerAccount * max(1, targets.count))
            }
        }
    }

    /// The accounts a batch clone takes, oldest first, after its filters.
    static func batchTargets(_ s: EngineState, region: Region, app: ApplicationRecord, options: JSON) throws -> [String] {
        let store = s.store(region)
        guard let v2 = app.v2ApplicationID else { return [] }
        let providers = Set(options["providers"]?.arrayValue?.compactMap(\.stringValue).compactMap(v3Provider) ?? [])
        let mode = options["mode"]?.stringValue ?? "all"
        var accounts = try store.grants(.init(applicationID: v2)).filter { $0.apiVersion == 2 }
        accounts.sort { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        if !providers.isEmpty { accounts = accounts.filter { providers.contains($0.provider) } }
        accounts = try accounts.filter { account in
            let last = try store.platformObject(.migratedAccount, id: account.id)?["status"]?.stringValue
            switch mode {
            case "only_new": return last == nil
            case "only_failed": return last == "failed"
            default: return true
            }
        }
        let offset = options["offset"]?.intValue ?? 0, limit = options["limit"]?.intValue ?? 1000
        return accounts.dropFirst(offset).prefix(limit).map(\.id)
    }

    /// The batch v2 provider names (`graph` is Microsoft Graph) as v3 providers.
    package static func v3Provider(_ name: String) -> String? {
        switch name {
        case "google", "imap", "icloud", "ews", "virtual-calendar": name
        case "microsoft", "graph": "microsoft"
        default: nil
        }
    }

    /// The clone job finishes: every target account cloned (or failed), the counts and the status.
    static func planClone(_ s: EngineState, region: Region, jobID: String, at time: Int) {
        s.schedule(at: VirtualTime(seconds: max(time, s.now.seconds)), "migration clone \(jobID)") { core in
            try? core.transaction { s in
                let store = s.store(region)
                guard var job = try store.platformObject(.migrationJob, id: jobID), job["status"]?.stringValue == "running",
                      let app = try store.application(id: job.applicationID) else { return }
                let options = job["_options"] ?? [:]
                let policy = PlaceholderPolicy(allowInvalidGrantCreation: options["allow_invalid_grant_creation"]?.boolValue ?? true,
                                               cloneExchange: options["clone_exchange"]?.boolValue ?? true)
                var counts: [Outcome: Int] = [:]
                for id in job["_targets"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    guard let account = try store.grant(id: id), account.apiVersion == 2 else { counts[.failed, default: 0] += 1; continue }
                    switch try clone(s, region: region, app: app, account: account, policy: policy, jobID: jobID) {
                    case .success(let grant): counts[grant.status == .valid ? .success : .warning, default: 0] += 1
                    case .failure: counts[.failed, default: 0] += 1
                    }
                }
                let (ok, warn, failed) = (counts[.success] ?? 0, counts[.warning] ?? 0, counts[.failed] ?? 0)
                job.data["count_success"] = .int(ok)
                job.data["count_warning"] = .int(warn)
                job.data["count_failed"] = .int(failed)
                let status = failed == 0 && warn == 0 ? "completed" : ok + warn == 0 ? "failed" : "partial"
                finish(&job, status: status, now: s.now.seconds)
                try store.save(job)
            }
        }
    }

    private static func finish(_ job: inout PlatformObject, status: String, now: Int) {
        job.data["status"] = .string(status)
        job.data["updated_at"] = .int(now)
        job.data["_completed_at"] = .int(now)
        job.updatedAt = now
    }

    /// `GET /v3/migration-tools/jobs`: an application's jobs, filtered and ordered.
    package static func jobs(_ store: RegionStore, applicationID: String, statuses: Set<String>, types: Set<String>,
                             sortByCompletion: Bool) throws -> [PlatformObject] {
        var jobs = try store.platformObjects(.migrationJob, applicationID: applicationID).filter { job in
            (statuses.isEmpty || statuses.contains(job["status"]?.stringValue ?? "")) &&
                (types.isEmpty || types.contains(job["type"]?.stringValue ?? ""))
        }
        if sortByCompletion {
            func rank(_ j: PlatformObject) -> Int { ["pending": 0, "running": 1][j["status"]?.stringValue ?? ""] ?? 2 }
            jobs.sort { a, b in
                if rank(a) != rank(b) { return rank(a) < rank(b) }
                return (a["_completed_at"]?.intValue ?? 0) > (b["_completed_at"]?.intValue ?? 0)
            }
        }
        return jobs
    }

    /// Re-plans unfinished jobs (a `--data-dir` server restarted).
    package static func restore(_ s: EngineState) throws {
        for region in Region.allCases {
            for job in try s.store(region).allPlatformObjects(.migrationJob) {
                switch (job["type"]?.stringValue, job["status"]?.stringValue) {
                case ("snapshot", "running"): planSnapshot(s, region: region, snapshotID: job.id, at: job.createdAt + snapshotDuration)
                case ("migration", "running"):
                    let count = job["_targets"]?.arrayValue?.count ?? 0
                    planClone(s, region: region, jobID: job.id, at: job.updatedAt + clonePerAccount * max(1, count))
                default: break
                }
            }
        }
    }

    /// Every account's last migration outcome, for the billing ledger and the migration report.
    package static func migratedAccounts(_ s: EngineState) throws -> [JSON] {
        var out: [JSON] = []
        for region in Region.allCases {
            for record in try s.store(region).allPlatformObjects(.migratedAccount) {
                var o = record.json
                o["region"] = .string(region.rawValue)
                o["application_id"] = .string(record.applicationID)
                out.append(o)
            }
        }
        return out
    }
}

extension EngineState {
    /// A grant for a v2 account that cannot be cloned as a working one: `grant_status: invalid`,
    /// fake credentials, nothing synced or billed until the user re-authenticates it (which turns it
    /// into a working grant under the same ID, through `connectGrant`).
    package func placeholderGrant(region: Region, application app: ApplicationRecord, account: GrantRecord,
                                  scope: [String]) throws -> GrantRecord {
        let store = self.store(region)
        if var existing = try store.grant(applicationID: app.id, email: account.email) {
            if existing.accountID != account.id {
                existing.accountID = account.id
                try store.save(existing)
            }
            return existing
        }
        var grant = GrantRecord(id: store.ids.uuid("grant"), applicationID: app.id, provider: account.provider, email: account.email,
                                name: account.name, scope: scope, settings: [:], state: nil,
                                providerUserID: store.ids.hex("provider-user-id", length: 21), createdAt: now.seconds)
        grant.accountID = account.id
        grant.status = .invalid
        try store.save(grant)
        return grant
    }
}
