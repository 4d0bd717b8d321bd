import Foundation

/// Connects the provider world to the regions: copies each mailbox's changes into every grant
/// connected to it, under that grant's IDs, and raises the `message.*`/`folder.*` events.
///
/// Push providers (Google, Microsoft) sync the moment the world changes (`source` realtime).
/// The others are polled: each grant syncs every `imapSyncInterval` from its creation, so a
/// change waits for the grant's next tick (`source` incremental). A grant's first sync copies
/// what the mailbox already holds (`source` historic).
package enum SyncEngine {
    /// Called when a grant is created or re-authenticated.
    package static func grantConnected(_ s: EngineState, region: Region, grant: GrantRecord, isNew: Bool) throws {
        try CalendarSync.grantConnected(s, region: region, grant: grant, isNew: isNew)
        let provider = ProviderKind(grant.provider)
        guard provider.hasMail else { return }
        let store = s.store(region)
        if try store.syncCursor(grantID: grant.id) == nil {
            try syncFolders(s, region: region, grant: grant, emit: false)
            try store.setSyncCursor(grantID: grant.id, cursor: 0, time: s.now)
            try sync(s, region: region, grant: grant, kind: s.notifiesHistory(grant) ? .realtime : .historic)
            if !provider.isPush {
                if grant.apiVersion == 3 {
                    s.emit(SimEvent(region: region, applicationID: grant.applicationID, grantID: grant.id,
                                    type: "grant.imap_sync_completed",
                                    object: ["code": 25012, "grant_id": .string(grant.id), "provider": .string(grant.provider),
                                             "email": .string(grant.email), "integration_id": .string(grant.applicationID)],
                                    source: "/nylas/system", time: s.now))
                }
                scheduleTick(s, region: region, grantID: grant.id, at: s.now + s.settings.imapSyncInterval)
            }
        } else {
            // Re-authentication: the grant sees what happened while it was invalid, silently (no
            // replay: clients backfill with GET), unless `notifyHistoricalSync`.
            let live: SyncKind = provider.isPush ? .realtime : .incremental
            try sync(s, region: region, grant: grant, kind: s.notifiesHistory(grant) ? live : .historic)
        }
    }

    /// After the world changed for `mailbox`: push grants sync at once.
    package static func mailboxChanged(_ s: EngineState, mailbox: String, sent: SentMessage? = nil) throws {
        for region in Region.allCases {
            for grant in try s.store(region).grants(email: mailbox) where grant.status == .valid {
                if ProviderKind(grant.provider).isPush, !s.providerUnavailable(grant.provider, mailbox: mailbox) {
                    try sync(s, region: region, grant: grant, kind: .realtime, sent: sent)
                }
            }
        }
    }

    /// A message the sender's grant just sent: the world's copy as inserted and the grant's
    /// record as `record` built it (IDs minted). The sender's own sync saves that record instead
    /// of reading the message back and building it again; `applied` says that it did.
    package final class SentMessage {
        package let region: Region
        package let grantID: String
        package let message: WorldMessage
        package let record: MessageRecord
        package var applied = false

        package init(region: Region, grantID: String, message: WorldMessage, record: MessageRecord) {
            self.region = region
            self.grantID = grantID
            self.message = message
            self.record = record
        }

        package func matches(_ region: Region, _ grantID: String, worldID: Int64) -> Bool {
            region == self.region && grantID == self.grantID && worldID == message.id
        }
    }

    /// Schedules the grant's next poll. The grants polled at the same instant share one job
    /// (per region), which runs their ticks in the order their own jobs would have run.
    package static func scheduleTick(_ s: EngineState, region: Region, grantID: String, at time: VirtualTime) {
        s.scheduleBatched(at: time, key: "imap sync \(region.rawValue)", labelPrefix: "imap sync ", item: grantID) { core, jobID in
            runTicks(core, region: region, jobID: jobID)
        }
    }

    /// How many ticks run under one hold of the lock (requests wait no longer than that).
    package static let ticksPerLock = 256

    /// Runs the ticks of one batch, in order. A tick that has something to copy runs in its own
    /// transaction, as it always did; a tick with nothing new (the usual case) only schedules the
    /// next one: its sync would write nothing but `sync_state.last_sync_at`, which nothing reads.
    package static func runTicks(_ core: Engine, region: Region, jobID: Int) {
        var grantIDs = core.withState { $0.jobs.takeBatch(jobID) }[...]
        while !grantIDs.isEmpty {
            let chunk = grantIDs.prefix(ticksPerLock)
            grantIDs = grantIDs.dropFirst(chunk.count)
            core.withStateThenKick { s in
                for grantID in chunk { tick(s, region: region, grantID: grantID) }
            }
        }
    }

    /// One grant's tick (the body of what was a job per grant).
    package static func tick(_ s: EngineState, region: Region, grantID: String) {
        let store = s.store(region)
        guard let poll = try? store.pollState(grantID: grantID) else { return }
        let active = poll.status == "valid" && !s.providerUnavailable(poll.provider, mailbox: poll.email)
        if active, (try? hasChanges(s, poll)) ?? true {
            try? s.transaction {
                guard let grant = try store.grant(id: grantID) else { return }
                if grant.status == .valid, !s.providerUnavailable(grant.provider, mailbox: grant.email) {
                    try sync(s, region: region, grant: grant, kind: .incremental)
                }
                scheduleTick(s, region: region, grantID: grantID, at: s.now + s.settings.imapSyncInterval)
            }
        } else {
            scheduleTick(s, region: region, grantID: grantID, at: s.now + s.settings.imapSyncInterval)
        }
    }

    /// Whether `sync` would find anything to do: a change in the world's log after the grant's
    /// mail cursor or its calendar cursor (see `sync` and `CalendarSync.sync`), or no calendar
    /// cursor yet (its first calendar sync).
    package static func hasChanges(_ s: EngineState, _ poll: RegionStore.PollState) throws -> Bool {
        guard let calendarCursor = poll.calendarCursor else { return true }
        let mailCursor = poll.mailCursor ?? 0
        let lower = poll.email.lowercased()
        let lastLower = try s.world.lastChange(mailbox: lower)
        let last = lower == poll.email ? lastLower : try s.world.lastChange(mailbox: poll.email)
        return last > mailCursor || lastLower > calendarCursor
    }

    /// Applies the mailbox's changes since the grant's cursor.
    package static func sync(_ s: EngineState, region: Region, grant: GrantRecord, kind: SyncKind, sent: SentMessage? = nil) throws {
        try CalendarSync.sync(s, region: region, grant: grant, kind: kind)
        let store = s.store(region)
        var cursor = try store.syncCursor(grantID: grant.id)?.cursor ?? 0
        let changes = try s.world.changes(mailbox: grant.email, after: cursor)
        guard !changes.isEmpty else {
            try store.setSyncCursor(grantID: grant.id, cursor: cursor, time: s.now)
            return
        }
        var sent = sent
        if changes.contains(where: { $0.kind == "folder" }) || cursor == 0 {
            try syncFolders(s, region: region, grant: grant, emit: cursor != 0 && kind != .historic)
            sent = nil  // the handed record was built before these folders: build it again
        }
        var seen = Set<Int64>()
        // A message not yet visible (a send still on its way) holds the cursor before it; the
        // changes after it are applied now all the same (seed 004: IMAP is synced every 10
        // minutes), and applied again, as no-ops, when the cursor passes them at a later sync.
        var held = false
        for change in changes {
            if change.kind == "message" {
                let known = sent.map { $0.matches(region, grant.id, worldID: change.object) } ?? false
                guard let m = known ? sent!.message : try s.world.message(id: change.object) else {
                    if !held { cursor = change.seq }
                    continue
                }
                if !m.deleted, m.availableAt > s.now { held = true; continue }
                if seen.insert(m.id).inserted {
                    if known, let sent {
                        // Just inserted into the world: this grant has no copy yet.
                        try store.save(sent.record)
                        emit(s, region, grant, "message.created", sent.record.json(), ProviderKind(grant.provider).emailSource(kind))
                        sent.applied = true
                    } else {
                        try apply(s, region: region, grant: grant, message: m, kind: kind)
                    }
                }
            }
            if !held { cursor = change.seq }
        }
        try store.setSyncCursor(grantID: grant.id, cursor: cursor, time: s.now)
    }

    /// Brings one message of the grant's view up to the world's state.
    package static func apply(_ s: EngineState, region: Region, grant: GrantRecord, message m: WorldMessage, kind: SyncKind) throws {
        let store = s.store(region)
        let provider = ProviderKind(grant.provider)
        let source = provider.emailSource(kind)
        // A historic sync (authentication, the catch-up after re-authentication) notifies nothing.
        let notify = kind != .historic
        let existing = try store.message(grantID: grant.id, worldID: m.id)
        if m.deleted {
            guard let e = existing else { return }
            try store.deleteMessage(grantID: grant.id, id: e.id)
            if notify { emit(s, region, grant, "message.deleted", ["id": .string(e.id), "grant_id": .string(grant.id), "object": "message"], source) }
            return
        }
        var folders: [String] = []
        for key in m.folders {
            if let f = try store.folder(grantID: grant.id, worldKey: key) { folders.append(f.id) }
        }
        if var e = existing {
            guard e.unread != m.unread || e.starred != m.starred || e.folders != folders else { return }
            e.unread = m.unread
            e.starred = m.starred
            e.folders = folders
            e.updatedAt = s.now.seconds
            try store.save(e)
            if notify { emit(s, region, grant, "message.updated", e.json(), source) }
            return
        }
        // Inbound rules of the grant's workspace act on new mail before it is synced.
        var arrived = m
        if notify, !m.folders.contains(ProviderKind.sent), !m.folders.contains(ProviderKind.drafts) {
            if try InboundRules.apply(s, region: region, grant: grant, message: m) == .blocked { return }
            arrived = try s.world.message(id: m.id) ?? m
        }
        let record = try self.record(s, region: region, grant: grant, message: arrived)
        try store.save(record)
        if notify {
            emit(s, region, grant, "message.created", record.json(), source)
            if !m.folders.contains(ProviderKind.sent) {
                try Tracking.arrived(s, region: region, grant: grant, reply: record, inReplyTo: m.inReplyTo)
            }
        }
    }

    /// The grant's view of a world message, its IDs minted on first sight.
    package static func record(_ s: EngineState, region: Region, grant: GrantRecord, message m: WorldMessage) throws -> MessageRecord {
        let store = s.store(region)
        let provider = ProviderKind(grant.provider)
        var folders: [String] = []
        for key in m.folders {
            if let f = try store.folder(grantID: grant.id, worldKey: key) { folders.append(f.id) }
        }
        let id = try store.mintID(grant: grant, kind: "message", worldKey: String(m.id), hint: m.messageIDHeader)
        let threadID = try store.mintID(grant: grant, kind: "thread", worldKey: m.threadKey,
                                        hint: provider.name == "google" ? id : m.threadKey)
        var attachments: [JSON] = []
        for a in m.attachments {
            let hint = "v0:\(Data(a.filename.utf8).base64EncodedString()):\(Data(a.contentType.utf8).base64EncodedString()):\(a.size)"
            let aid = try store.mintID(grant: grant, kind: "attachment", worldKey: String(a.id), hint: hint)
            var o: JSON = ["id": .string(aid), "grant_id": .string(grant.id), "filename": .string(a.filename),
                           "content_type": .string(a.contentType), "size": .int(a.size), "is_inline": .bool(a.isInline),
                           "wid": .int(Int(a.id))]
            if let cid = a.contentID { o["content_id"] = .string(cid) }
            // An invitation's event, by its UID (not rendered; v2 lists the event in `events`).
            if a.contentType.lowercased().hasPrefix("text/calendar"), let bytes = try s.world.attachmentContent(a.id),
               let uid = ICS.uid(String(decoding: bytes, as: UTF8.self)) {
                o["ical_uid"] = .string(uid)
            }
            if provider.name != "microsoft", provider.name != "ews" {
                o["content_disposition"] = .string("\(a.isInline ? "inline" : "attachment"); filename=\"\(a.filename)\"")
            }
            attachments.append(o)
        }
        return MessageRecord(grantID: grant.id, id: id, threadID: threadID, world: m, folders: folders,
                             attachments: attachments, now: s.now.seconds)
    }

    /// Mirrors the mailbox's folders into the grant's view.
    package static func syncFolders(_ s: EngineState, region: Region, grant: GrantRecord, emit doEmit: Bool) throws {
        let store = s.store(region)
        let world = try s.world.folders(mailbox: grant.email)
        let existing = try store.folders(grantID: grant.id)
        let source = "/\(grant.provider)/folders/\(doEmit ? "realtime" : "historic")"
        for f in world {
            let hint: String? = grant.kind == .google && f.system ? f.key : (ProviderKind(grant.provider).isIMAPFamily ? f.name : nil)
            let id = try store.mintID(grant: grant, kind: "folder", worldKey: f.key, hint: hint)
            let parentID = try f.parent.flatMap { try store.objectID(grantID: grant.id, kind: "folder", worldKey: $0) }
            let record = FolderRecord(grantID: grant.id, id: id, worldKey: f.key, name: f.name, systemFolder: f.system,
                                      attributes: f.attributes, parentID: parentID, colors: f.colors)
            if let old = existing.first(where: { $0.id == id }) {
                if old.name != f.name || old.parentID != parentID || old.colors != f.colors {
                    try store.save(record)
                    if doEmit { emit(s, region, grant, "folder.updated", folderEvent(record), source) }
                }
            } else {
                try store.save(record)
                if doEmit { emit(s, region, grant, "folder.created", folderEvent(record), source) }
            }
        }
        for old in existing where !world.contains(where: { $0.key == old.worldKey }) {
            try store.deleteFolder(grantID: grant.id, id: old.id)
            if doEmit { emit(s, region, grant, "folder.deleted", folderEvent(old), source) }
        }
    }

    package static func folderEvent(_ f: FolderRecord) -> JSON {
        ["id": .string(f.id), "grant_id": .string(f.grantID), "name": .string(f.name), "object": "folder",
         "system_folder": .bool(f.systemFolder)]
    }

    package static func emit(_ s: EngineState, _ region: Region, _ grant: GrantRecord, _ type: String, _ object: JSON, _ source: String) {
        s.emit(SimEvent(region: region, applicationID: grant.applicationID, grantID: grant.id, type: type, object: object,
                        source: source, time: s.now, apiVersion: grant.apiVersion))
    }
}

extension EngineState {
    /// Whether what `grant` finds at authentication (and after re-authentication) is notified:
    /// v3 never does (seed 002: "authentication and re-authentication … do not produce historical
    /// webhooks"); v2 accounts did; `notifyHistoricalSync` turns it on for v3 too.
    package func notifiesHistory(_ grant: GrantRecord) -> Bool {
        settings.notifyHistoricalSync || grant.apiVersion == 2
    }

    /// Whether a provider (or one mailbox) is in a scripted outage right now.
    package func providerUnavailable(_ provider: String, mailbox: String) -> Bool {
        outages.contains { o in
            (o.provider == nil || o.provider == provider) && (o.mailbox == nil || o.mailbox == mailbox)
                && o.start <= now && now < o.end
        }
    }
}

/// A scripted provider outage: data calls answer 504 and syncs fail until it ends.
package struct ProviderOutage: Sendable {
    package init(provider: String? = nil, mailbox: String? = nil, start: VirtualTime, end: VirtualTime) {
        self.provider = provider
        self.mailbox = mailbox
        self.start = start
        self.end = end
    }

    package var provider: String?
    package var mailbox: String?
    package var start: VirtualTime
    package var end: VirtualTime
}

extension SyncEngine {
    package static func emit(_ s: EngineState, region: Region, grant: GrantRecord, type: String, object: JSON, source: String) {
        emit(s, region, grant, type, object, source)
    }
}

