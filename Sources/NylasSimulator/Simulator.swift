import Foundation
import Logging
#if TLS
import NIOSSL
#endif
@_exported import NylasSimCore
@_exported import NylasSimAPI
@_exported import NylasSimControl
@_exported import NylasSimulatorTesting
@_exported import NylasSimFixtures

/// A running NylasSimulator: both regions (US and EU) with their own databases and
/// listeners, one virtual clock, one provider world.
///
/// ```swift
/// let sim = try await Simulator.start(SimulatorOptions(seed: "test"))
/// defer { Task { await sim.shutdown() } }
/// let us = sim.region(.us)
/// var request = URLRequest(url: us.baseURL.appendingPathComponent("v3/grants"))
/// request.setValue("Bearer \(us.v3.apiKey)", forHTTPHeaderField: "Authorization")
/// await sim.advance(by: .seconds(3600))
/// ```
public final class Simulator: Sendable {
    package let core: Engine
    private let listeners: [Region: RegionListener]
    #if TLS
    /// The local CA when serving HTTPS.
    public let certificateAuthority: LocalCertificateAuthority?

    private init(core: Engine, listeners: [Region: RegionListener], ca: LocalCertificateAuthority?) {
        self.core = core
        self.listeners = listeners
        self.certificateAuthority = ca
    }
    #else
    private init(core: Engine, listeners: [Region: RegionListener], ca: Never?) {
        self.core = core
        self.listeners = listeners
    }
    #endif

    /// Starts a fresh, isolated simulator with a listener per region.
    public static func start(_ options: SimulatorOptions = SimulatorOptions()) async throws -> Simulator {
        if let dir = options.dataDirectory {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        var opts = options
        if let seed = opts.config.seed, opts.seed == nil { opts.seed = seed }
        let pipeline = RequestPipeline(router: SimulatorRoutes.shared)
        let core = try Engine(options: opts) { core, request, region, failure in
            await pipeline.answer(core, request, region: region, failure: failure)
        }
        try core.withState { s in try APIRoutes.attach(to: s) }
        let hosts = HostAllowList(extra: opts.allowedHosts)
        #if TLS
        var ca: LocalCertificateAuthority?
        var tls: ServerTLS?
        if let dir = opts.tlsDirectory {
            let authority = try LocalCertificateAuthority.ensure(directory: dir)
            tls = try authority.serverConfiguration()
            ca = authority
        }
        #else
        let ca: Never? = nil
        let tls: ServerTLS? = nil
        if opts.tlsDirectory != nil {
            throw SimulatorOptions.Invalid("HTTPS needs the package's TLS trait: this build has it disabled")
        }
        #endif
        // Both regions' listeners start at once (each waits for its server to come up); the first
        // region's error, in region order, is the one thrown.
        var listeners: [Region: RegionListener] = [:]
        var failures: [Region: any Error] = [:]
        await withTaskGroup(of: (Region, Result<RegionListener, any Error>).self) { group in
            for region in Region.allCases {
                group.addTask { [tls, opts, hosts] in
                    do {
                        return (region, .success(try await RegionListener.start(
                            core: core, region: region, host: opts.host, port: opts.ports[region] ?? 0, tls: tls, hosts: hosts,
                            headTimeout: opts.settings.headTimeout, maxBodyBytes: opts.settings.maxBodyBytes,
                            bodyTimeout: opts.settings.bodyTimeout)))
                    } catch {
                        return (region, .failure(error))
                    }
                }
            }
            for await (region, result) in group {
                switch result {
                case .success(let l): listeners[region] = l
                case .failure(let e): failures[region] = e
                }
            }
        }
        if let error = Region.allCases.lazy.compactMap({ failures[$0] }).first {
            for l in listeners.values { await l.stop() }
            core.stopDriver()
            throw error
        }
        core.baseURLs.withLock { urls in
            for (r, l) in listeners { urls[r] = l.baseURL }
        }
        core.withState { s in
            for (r, l) in listeners { s.baseURLs[r] = l.baseURL }
        }
        let sim = Simulator(core: core, listeners: listeners, ca: ca)
                return sim
    }

    /// Stops the listeners and the clock driver.
    public func shutdown() async {
        core.isRunning.withLock { $0 = false }
        core.stopDriver()
        for region in Region.allCases {
            await listeners[region]?.stop()
        }
    }

    // MARK: Regions and credentials

    /// The base URL of a region's listener (v3 under `/v3`, v2 at the root).
    public func baseURL(_ region: Region) -> URL { URL(string: listeners[region]!.baseURL)! }

    /// A region's listener address and seeded credentials.
    public func region(_ region: Region) -> RegionInfo {
        let apps = (try? core.withState { s in try s.store(region).applications() }) ?? []
        let v3 = apps.filter { $0.apiVersion == 3 }.map {
            V3Credentials(applicationID: $0.id, clientID: $0.clientID, clientSecret: $0.clientSecret, apiKey: $0.apiKey ?? "")
        }
        let v2 = apps.filter { $0.apiVersion == 2 }.map { V2Credentials(clientID: $0.clientID, clientSecret: $0.clientSecret) }
        return RegionInfo(region: region, baseURL: baseURL(region), v3Applications: v3, v2Applications: v2)
    }

    // MARK: Clock

    /// The current virtual time.
    public var now: VirtualTime { core.now }

    /// Advances the virtual clock, running every job that falls due in time order; returns when all are done.
    public func advance(by duration: Duration) async { await core.advance(by: duration) }

    /// Advances the virtual clock to `time`.
    public func advance(to time: VirtualTime) async { await core.advance(to: time) }

    /// Switches between manual and running clock modes.
    public func setClock(mode: ClockState.Mode, rate: Double? = nil) { core.setClockMode(mode, rate: rate) }

    /// Runs the jobs already due without moving the clock.
    public func settle() async { await core.runDueJobs() }

    // MARK: Requests

    /// Sends a request straight to the simulator without a socket.
    public func send(_ request: SimRequest, region: Region = .us) async -> SimResponse {
        await core.handle(request, region: region)
    }

    /// The request journal of both regions.
    public func requests(_ filter: JournalFilter = JournalFilter()) throws -> [JournalEntry] {
        try core.journal(filter)
    }

    /// Empties both regions and the provider world and re-seeds the applications.
    public func reset() throws { try core.withState { try $0.reset() } }

    // MARK: Grants

    /// Creates a grant for `email` in one call (no OAuth dance) and returns it with tokens.
    public func createGrant(_ region: Region = .us, email: String, provider: String? = nil,
                            applicationID: String? = nil, scope: [String]? = nil) throws -> GrantInfo {
        let o = try core.createGrantDirectly(region: region, applicationID: applicationID, email: email,
                                             provider: provider, scope: scope, name: nil)
        return GrantInfo(id: o["id"]?.stringValue ?? "", email: o["email"]?.stringValue ?? "",
                         provider: o["provider"]?.stringValue ?? "", accessToken: o["access_token"]?.stringValue ?? "",
                         refreshToken: o["refresh_token"]?.stringValue)
    }

    /// Expires the provider credentials behind a grant (`grant_status: invalid`, `grant.expired`).
    public func expireCredentials(_ region: Region = .us, grantID: String) throws {
        try core.expireCredentials(region: region, grantID: grantID)
    }

    // MARK: Webhooks

    /// Every webhook delivery attempt so far, in time order.
    public func webhookDeliveries(_ region: Region? = nil, webhookID: String? = nil) throws -> [WebhookDelivery] {
        try core.deliveries(region: region, webhookID: webhookID)
    }

    /// Waits (up to `timeout` of wall time) for a delivery attempt matching `predicate`; deliveries
    /// already recorded count. Returns nil on timeout. No polling: the dispatcher wakes the waiter.
    ///
    /// ```swift
    /// let d = await sim.nextDelivery { $0.type == "grant.created" }
    /// ```
    public func nextDelivery(_ region: Region? = nil, after sequence: Int = 0, timeout: Duration = .seconds(5),
                             where predicate: @escaping @Sendable (WebhookDelivery) -> Bool) async -> WebhookDelivery? {
        await core.waitForDelivery(region: region, after: sequence, timeout: timeout, where: predicate)
    }

    /// Advances the virtual clock job by job, up to `limit`, until a delivery matching `predicate`
    /// is recorded; returns it, or nil if none happened within that virtual time.
    public func advanceUntilDelivery(within limit: Duration, _ region: Region? = nil,
                                     where predicate: @escaping @Sendable (WebhookDelivery) -> Bool) async -> WebhookDelivery? {
        let end = now + limit
        while true {
            await core.runDueJobs()
            if let found = try? core.deliveries(region: region).first(where: predicate) { return found }
            let next = core.withState { $0.jobs.nextDue }
            guard let next, next <= end else {
                await core.advance(to: end)
                return try? core.deliveries(region: region).first(where: predicate)
            }
            await core.advance(to: max(next, now))
        }
    }

    /// The simulator state as `GET /__sim/state` returns it.
    public func stateJSON() throws -> JSON { try core.stateJSON() }
}

/// A region's address and credentials.
public struct RegionInfo: Sendable {
    public let region: Region
    public let baseURL: URL
    public let v3Applications: [V3Credentials]
    public let v2Applications: [V2Credentials]

    /// The first (seeded) v3 application.
    public var v3: V3Credentials { v3Applications[0] }
    /// The first (seeded) v2 application.
    public var v2: V2Credentials { v2Applications[0] }
}

public struct V3Credentials: Sendable, Equatable {
    public let applicationID: String
    public let clientID: String
    public let clientSecret: String
    public let apiKey: String
}

public struct V2Credentials: Sendable, Equatable {
    public let clientID: String
    public let clientSecret: String
}

/// A grant created for a test, with its tokens.
public struct GrantInfo: Sendable, Equatable {
    public let id: String
    public let email: String
    public let provider: String
    public let accessToken: String
    public let refreshToken: String?
}

// MARK: - The provider world

extension Simulator {
    /// Mail arrives in `mailbox`, as from the outside world. Push grants see it at once; IMAP
    /// grants at their next 10-minute sync.
    @discardableResult
    public func deliverMail(to mailbox: String, from: String, subject: String, body: String = "",
                            folder: String = "INBOX", inReplyTo: String? = nil) throws -> JSON {
        var m = NewMessage(from: [Participant(name: "", email: from)], to: [Participant(name: "", email: mailbox)],
                           subject: subject, body: body, date: now.seconds)
        m.folders = [folder]
        m.inReplyTo = inReplyTo
        return try core.deliverMail(to: mailbox, m)
    }

    /// The user changes a message in their own mail client (`message` is the world ID or the `Message-ID` header).
    @discardableResult
    public func changeMail(in mailbox: String, message: String, unread: Bool? = nil, starred: Bool? = nil,
                           folders: [String]? = nil, delete: Bool = false) throws -> JSON {
        try core.changeMail(mailbox: mailbox, message: message, unread: unread, starred: starred, folders: folders, delete: delete)
    }

    /// The user's password changed: every grant on the mailbox becomes invalid (`grant.expired`).
    @discardableResult
    public func changePassword(of mailbox: String) throws -> [String] {
        try core.invalidateCredentials(mailbox: mailbox)
    }

    /// A provider (or one mailbox) is unreachable for `duration` of virtual time.
    public func addOutage(provider: String? = nil, mailbox: String? = nil, duration: Duration) {
        _ = core.addOutage(provider: provider, mailbox: mailbox, duration: duration)
    }
}

// MARK: - Calendars, events and contacts changed from outside

extension Simulator {
    /// The fields of a provider-side change, as the control API takes them: a JSON object.
    private func fields(_ json: JSON) throws -> BodyFields {
        guard case .object(let o) = json else { throw NylasError.invalidRequest("expected a JSON object of fields") }
        return BodyFields(o)
    }

    /// The user adds a calendar in their own calendar app (`name`, `timezone`, `read_only`, …,
    /// as `POST /__sim/providers/mailboxes/{email}/calendars`).
    @discardableResult
    public func addCalendar(in mailbox: String, _ calendar: JSON) throws -> JSON {
        try core.addWorldCalendar(mailbox: mailbox, try fields(calendar))
    }

    /// The user creates an event (`calendar` — a world calendar key or `primary` —, `title`, `when`,
    /// `participants`, `recurrence`, …). Returns the world event, with its `ical_uid`.
    @discardableResult
    public func addEvent(in mailbox: String, _ event: JSON) throws -> JSON {
        try core.addWorldEvent(mailbox: mailbox, try fields(event))
    }

    /// The user edits an event (`event` is its `ical_uid` or world ID); `calendar` moves it, which
    /// grants see as one `event.updated`.
    @discardableResult
    public func changeEvent(in mailbox: String, event: String, _ changes: JSON) throws -> JSON {
        try core.changeWorldEvent(mailbox: mailbox, event: event, try fields(changes))
    }

    /// The user deletes an event.
    @discardableResult
    public func deleteEvent(in mailbox: String, event: String) throws -> JSON {
        try core.deleteWorldEvent(mailbox: mailbox, event: event)
    }

    /// A participant (by default the mailbox's owner) answers an invitation: yes, no, maybe or noreply.
    @discardableResult
    public func answerEvent(in mailbox: String, event: String, email: String? = nil, status: String) throws -> JSON {
        try core.answerWorldEvent(mailbox: mailbox, event: event, email: email, status: status)
    }

    /// The user adds a contact to their address book (fields in the v3 contact shape).
    @discardableResult
    public func addContact(in mailbox: String, _ contact: JSON) throws -> JSON {
        try core.addWorldContact(mailbox: mailbox, try fields(contact))
    }

    /// The user edits a contact (`contact` is its world ID).
    @discardableResult
    public func changeContact(in mailbox: String, contact: String, _ changes: JSON) throws -> JSON {
        try core.changeWorldContact(mailbox: mailbox, contact: contact, try fields(changes), delete: false)
    }

    /// The user deletes a contact.
    @discardableResult
    public func deleteContact(in mailbox: String, contact: String) throws -> JSON {
        try core.changeWorldContact(mailbox: mailbox, contact: contact, nil, delete: true)
    }
}

// MARK: - Room resources

extension Simulator {
    /// Adds a bookable room to the directory of its email domain (or replaces the room of that
    /// email): Google and Microsoft grants on the domain list it (`GET /v3/grants/{id}/resources`,
    /// v2 `GET /resources`).
    @discardableResult
    public func addRoomResource(email: String, name: String, capacity: Int? = nil, building: String? = nil,
                                floorName: String? = nil, floorNumber: Int? = nil, floorSection: String? = nil) throws -> JSON {
        var fields: [String: JSON] = ["email": .string(email), "name": .string(name)]
        if let capacity { fields["capacity"] = .int(capacity) }
        if let building { fields["building"] = .string(building) }
        if let floorName { fields["floor_name"] = .string(floorName) }
        if let floorNumber { fields["floor_number"] = .int(floorNumber) }
        if let floorSection { fields["floor_section"] = .string(floorSection) }
        let body = BodyFields(fields)
        return try core.transaction { s in
            let room = try RoomResource.parse(body, now: s.now.seconds)
            try s.world.saveRoomResource(room)
            return room.json
        }
    }
}
