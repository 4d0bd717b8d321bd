import Foundation

/// The kinds of platform object kept in `platform_objects`: one table, one record type, one set of
/// store calls for every application- or grant-level resource that is a JSON object with an ID.
package enum PlatformKind: String, Sendable, CaseIterable {
    case template, workflow, signature, list, listItem = "list_item", rule, policy, ruleEvaluation = "rule_evaluation"
    case domain, workspace, apiKey = "api_key", pubsubChannel = "pubsub_channel", snsChannel = "sns_channel"
    case migrationJob = "migration_job", migratedAccount = "migrated_account"
    /// A v2 event's `notifications` (email, webhook, sms reminders): kept by Nylas's v2 engine, not by the provider.
    case v2EventNotifications = "v2_event_notifications"
}

/// One platform object: its API object in `data`, plus simulator-only keys that start with `_`.
package struct PlatformObject: Sendable, Equatable {
    package var kind: PlatformKind
    package var id: String
    package var applicationID: String
    /// Set for grant-level objects (signatures, grant templates and workflows, rule evaluations).
    package var grantID: String?
    /// The owning object (a list item's list).
    package var parentID: String?
    package var data: JSON
    package var createdAt: Int
    package var updatedAt: Int

    package init(kind: PlatformKind, id: String, applicationID: String, grantID: String? = nil, parentID: String? = nil,
                 data: JSON, now: Int) {
        self.kind = kind
        self.id = id
        self.applicationID = applicationID
        self.grantID = grantID
        self.parentID = parentID
        self.data = data
        self.createdAt = now
        self.updatedAt = now
    }

    init(row: SQLRow) {
        kind = PlatformKind(rawValue: row.string("kind")) ?? .template
        id = row.string("id")
        applicationID = row.string("application_id")
        grantID = row.optionalString("grant_id")
        parentID = row.optionalString("parent_id")
        data = row.json("data")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    /// The API object: `data` without the simulator's `_` keys.
    package var json: JSON {
        guard case .object(let o) = data else { return data }
        return .object(o.filter { !$0.key.hasPrefix("_") })
    }

    package subscript(key: String) -> JSON? {
        get { data[key] }
        set { data[key] = newValue }
    }
}

extension RegionStore {
    package func platformObject(_ kind: PlatformKind, id: String) throws -> PlatformObject? {
        try db.first("SELECT * FROM platform_objects WHERE kind = ? AND id = ?", kind.rawValue, id).map(PlatformObject.init)
    }

    /// An application's objects of one kind, oldest first: the application-level ones when
    /// `grantID` is nil and `anyGrant` is false, one grant's when `grantID` is set, all with `anyGrant`.
    /// An application's rules (looked up once per change to the platform objects: every send asks).
    package func rules(applicationID: String) throws -> [PlatformObject] {
        try cachedLookup(\.rules, applicationID) { try platformObjects(.rule, applicationID: applicationID) } ?? []
    }

    package func platformObjects(_ kind: PlatformKind, applicationID: String?, grantID: String? = nil,
                                 anyGrant: Bool = false, parentID: String? = nil) throws -> [PlatformObject] {
        var clauses = ["kind = ?"]
        var binds: [any SQLBindable] = [kind.rawValue]
        if let applicationID { clauses.append("application_id = ?"); binds.append(applicationID) }
        if let grantID { clauses.append("grant_id = ?"); binds.append(grantID) } else if !anyGrant { clauses.append("grant_id IS NULL") }
        if let parentID { clauses.append("parent_id = ?"); binds.append(parentID) }
        return try db.query("SELECT * FROM platform_objects WHERE \(clauses.joined(separator: " AND ")) ORDER BY created_at, rowid",
                            binds).map(PlatformObject.init)
    }

    package func save(_ o: PlatformObject) throws {
        try db.run("""
            INSERT INTO platform_objects(kind, id, application_id, grant_id, parent_id, data, created_at, updated_at)
            VALUES(?,?,?,?,?,?,?,?)
            ON CONFLICT(kind, id) DO UPDATE SET application_id = excluded.application_id, grant_id = excluded.grant_id,
                parent_id = excluded.parent_id, data = excluded.data, updated_at = excluded.updated_at
            """, o.kind.rawValue, o.id, o.applicationID, o.grantID, o.parentID, o.data, o.createdAt, o.updatedAt)
    }

    @discardableResult
    package func deletePlatformObject(_ kind: PlatformKind, id: String) throws -> Bool {
        try db.run("DELETE FROM platform_objects WHERE parent_id = ? AND kind = ?", id, PlatformKind.listItem.rawValue)
        return try db.run("DELETE FROM platform_objects WHERE kind = ? AND id = ?", kind.rawValue, id) > 0
    }

    /// Every object of a kind in this region (jobs restored after a restart, channels that deliver).
    package func allPlatformObjects(_ kind: PlatformKind) throws -> [PlatformObject] {
        try db.query("SELECT * FROM platform_objects WHERE kind = ? ORDER BY created_at, rowid", kind.rawValue).map(PlatformObject.init)
    }
}
