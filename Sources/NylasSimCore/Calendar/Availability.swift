import Foundation

/// Busy time as a provider reports it: from the stored events of a mailbox's calendars, with
/// recurring series expanded on their own wall clock and exceptions applied.
package enum BusyTime {
    /// Every occurrence of the live events of `calendars` overlapping `[from, to)`, with the content
    /// that applies to it (an edited occurrence's own). Cancelled occurrences are left out.
    package static func occurrences(_ world: ProviderWorld, mailbox: String, calendars: [Int64], from: Int, to: Int,
                                    excluding: Set<Int64> = []) throws -> [(when: EventWhen, content: EventContent)] {
        var out: [(when: EventWhen, content: EventContent)] = []
        for calendar in calendars {
            let events = try world.events(mailbox: mailbox, calendar: calendar)
            let exceptions = Dictionary(grouping: events.filter { $0.master != nil }, by: { $0.master! })
            for e in events where e.master == nil && !excluding.contains(e.id) {
                guard let recurrence = e.content.recurrence, recurrence.rule != nil else {
                    if e.content.status != "cancelled", e.content.when.overlaps(from, to) { out.append((e.content.when, e.content)) }
                    continue
                }
                let edited = Set((exceptions[e.id] ?? []).compactMap(\.originalStart))
                for occ in recurrence.occurrences(of: e.content.when, from: from, to: to) where !edited.contains(occ.originalStart) {
                    if e.content.status != "cancelled" { out.append((occ.when, e.content)) }
                }
                for x in exceptions[e.id] ?? [] where x.content.status != "cancelled" && x.content.when.overlaps(from, to) {
                    out.append((x.content.when, x.content))
                }
            }
        }
        return out
    }

    /// Busy intervals of `mailbox` in `[from, to)`, merged and clipped to the window. An event
    /// marked free, declined by the owner, or tentative (when tentative is not busy) is free time.
    package static func intervals(_ world: ProviderWorld, mailbox: String, calendars: [Int64], from: Int, to: Int,
                          tentativeAsBusy: Bool, widen: (before: Int, after: Int) = (0, 0), excluding: Set<Int64> = []) throws -> [(Int, Int)] {
        var spans: [(Int, Int)] = []
        for (when, content) in try occurrences(world, mailbox: mailbox, calendars: calendars, from: from - widen.after, to: to + widen.before,
                                               excluding: excluding) {
            guard content.busy else { continue }
            let own = content.status(of: mailbox)
            if own == "no" { continue }
            if !tentativeAsBusy, own == "maybe" || content.status == "tentative" { continue }
            let start = when.startUnix - widen.before, end = max(when.endUnix, when.startUnix) + widen.after
            guard end > start || when.startUnix == when.endUnix else { continue }
            spans.append((max(start, from), min(max(end, start), to)))
        }
        return merge(spans.filter { $0.1 > $0.0 })
    }

    package static func merge(_ spans: [(Int, Int)]) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for span in spans.sorted(by: { $0 < $1 }) {
            if let last = out.last, span.0 <= last.1 {
                out[out.count - 1].1 = max(last.1, span.1)
            } else {
                out.append(span)
            }
        }
        return out
    }
}

/// `POST /v3/calendars/availability` (reference §4.13): the slots of `duration_minutes` when the
/// participants are free, inside their open hours, with buffers around their meetings.
package struct AvailabilityRequest: Sendable {
    package init(start: Int, end: Int, duration: Int, interval: Int, roundTo: Int, participants: [Participant], method: String, bufferBefore: Int, bufferAfter: Int, defaultOpenHours: [OpenHours], roundRobinGroupID: String? = nil, tentativeAsBusy: Bool) {
        self.start = start
        self.end = end
        self.duration = duration
        self.interval = interval
        self.roundTo = roundTo
        self.participants = participants
        self.method = method
        self.bufferBefore = bufferBefore
        self.bufferAfter = bufferAfter
        self.defaultOpenHours = defaultOpenHours
        self.roundRobinGroupID = roundRobinGroupID
        self.tentativeAsBusy = tentativeAsBusy
    }

    package struct OpenHours: Sendable {
        package var days: [Int]
        package var zone: TimeZone
        package var start: (Int, Int)
        package var end: (Int, Int)
        package var exdates: [CivilDate]
    }

    package struct SpecificTime: Sendable {
        package var date: CivilDate
        package var start: (Int, Int)
        package var end: (Int, Int)
        package var zone: TimeZone?
    }

    package struct Participant: Sendable {
        package init(email: String, grantID: String? = nil, calendarIDs: [String], openHours: [OpenHours]? = nil, specific: [SpecificTime], onlySpecific: Bool) {
            self.email = email
            self.grantID = grantID
            self.calendarIDs = calendarIDs
            self.openHours = openHours
            self.specific = specific
            self.onlySpecific = onlySpecific
        }

        package var email: String
        package var grantID: String?
        package var calendarIDs: [String]
        package var openHours: [OpenHours]?
        package var specific: [SpecificTime]
        package var onlySpecific: Bool
    }

    package var start: Int
    package var end: Int
    package var duration: Int
    package var interval: Int
    package var roundTo: Int
    package var participants: [Participant]
    package var method: String
    package var bufferBefore: Int
    package var bufferAfter: Int
    package var defaultOpenHours: [OpenHours]
    package var roundRobinGroupID: String?
    package var tentativeAsBusy: Bool

    package static func minutes(_ body: BodyFields, _ key: String, required: Bool = false, range: ClosedRange<Int>) throws(NylasError) -> Int? {
        guard let n = try body.int(key) else {
            if required { throw NylasError.missingField(key) }
            return nil
        }
        guard range.contains(n), n % 5 == 0 else {
            throw NylasError.invalidValue(key, "must be a multiple of 5 between \(range.lowerBound) and \(range.upperBound), got \(n)")
        }
        return n
    }

    /// `H:MM` or `HH:MM`.
    package static func clock(_ s: String, field: String) throws(NylasError) -> (Int, Int) {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
              (0...24).contains(h), (0...59).contains(m), h < 24 || m == 0 else {
            throw NylasError.invalidValue(field, "'\(s)' is not a time of day such as 9:00 or 17:30")
        }
        return (h, m)
    }

    package static func openHours(_ items: [JSON]?, field: String) throws(NylasError) -> [OpenHours]? {
        guard let items else { return nil }
        var out: [OpenHours] = []
        for (i, item) in items.enumerated() {
            let name = "\(field)[\(i)]"
            guard case .object(let o) = item else { throw NylasError.wrongType(name, expected: "object", got: item) }
            let f = BodyFields(o)
            guard let daysJSON = try f.array("days") else { throw NylasError.missingField("\(name).days") }
            var days: [Int] = []
            for d in daysJSON {
                guard let n = d.intValue, (0...6).contains(n) else { throw NylasError.invalidValue("\(name).days", "days are 0 (Sunday) to 6 (Saturday)") }
                days.append(n)
            }
            let zoneName = try f.string("timezone") ?? "UTC"
            let zone = TimeZoneName.zone(zoneName)
            guard let zone else { throw NylasError.invalidValue("\(name).timezone", "'\(zoneName)' is not an IANA time zone") }
            let start = try clock(try f.requiredString("start"), field: "\(name).start")
            let end = try clock(try f.requiredString("end"), field: "\(name).end")
            guard end.0 * 60 + end.1 > start.0 * 60 + start.1 else { throw NylasError.invalidValue("\(name).end", "must be after start") }
            var exdates: [CivilDate] = []
            for x in try f.stringArray("exdates") ?? [] {
                guard let d = CivilDate(x) else { throw NylasError.invalidValue("\(name).exdates", "'\(x)' is not a YYYY-MM-DD date") }
                exdates.append(d)
            }
            out.append(OpenHours(days: days, zone: zone, start: start, end: end, exdates: exdates))
        }
        return out
    }

    package static func parse(_ body: BodyFields) throws(NylasError) -> AvailabilityRequest {
        guard let start = try body.int("start_time") else { throw NylasError.missingField("start_time") }
        guard let end = try body.int("end_time") else { throw NylasError.missingField("end_time") }
        guard end > start else { throw NylasError.invalidValue("end_time", "must be after start_time") }
        guard start % 300 == 0, end % 300 == 0 else {
            throw NylasError.invalidValue(start % 300 == 0 ? "end_time" : "start_time", "must be a multiple of 5 minutes")
        }
        guard end - start <= 90 * 86400 else { throw NylasError.invalidValue("end_time", "the window may span at most 90 days") }
        let duration = try minutes(body, "duration_minutes", required: true, range: 5...1440)!
        let interval = try minutes(body, "interval_minutes", range: 5...1440) ?? duration
        var roundTo = try minutes(body, "round_to", range: 5...60) ?? 15
        if !body.has("round_to"), try body.bool("round_to_30_minutes") == true { roundTo = 30 }
        guard let items = try body.array("participants"), !items.isEmpty else { throw NylasError.missingField("participants") }
        var participants: [Participant] = []
        for (i, item) in items.enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("participants[\(i)]", expected: "object", got: item) }
            let f = BodyFields(o)
            let email = try f.string("email", required: true)!
            guard EmailAddress.isValid(email) else { throw NylasError.invalidValue("participants[\(i)].email", "'\(email)' is not an email address") }
            if participants.contains(where: { $0.email.lowercased() == email.lowercased() }) {
                throw NylasError.invalidValue("participants[\(i)].email", "\(email) is listed twice")
            }
            var specific: [SpecificTime] = []
            for (j, sItem) in (try f.array("specific_time_availability") ?? []).enumerated() {
                let name = "participants[\(i)].specific_time_availability[\(j)]"
                guard case .object(let so) = sItem else { throw NylasError.wrongType(name, expected: "object", got: sItem) }
                let sf = BodyFields(so)
                let dateText = try sf.requiredString("date")
                guard let date = CivilDate(dateText) else { throw NylasError.invalidValue("\(name).date", "'\(dateText)' is not a YYYY-MM-DD date") }
                var zone: TimeZone?
                if let z = try sf.string("timezone") {
                    guard let tz = TimeZoneName.zone(z) else { throw NylasError.invalidValue("\(name).timezone", "'\(z)' is not an IANA time zone") }
                    zone = tz
                }
                let s = try clock(try sf.requiredString("start"), field: "\(name).start")
                let e = try clock(try sf.requiredString("end"), field: "\(name).end")
                guard e.0 * 60 + e.1 > s.0 * 60 + s.1 else { throw NylasError.invalidValue("\(name).end", "must be after start") }
                specific.append(SpecificTime(date: date, start: s, end: e, zone: zone))
            }
            participants.append(Participant(
                email: email, grantID: try f.string("grant_id"), calendarIDs: try f.stringArray("calendar_ids") ?? [],
                openHours: try openHours(try f.array("open_hours"), field: "participants[\(i)].open_hours"),
                specific: specific, onlySpecific: try f.bool("only_specific_time_availability") ?? false))
        }
        let rules = try body.nested("availability_rules") ?? BodyFields([:])
        let method = try rules.string("availability_method") ?? "collective"
        guard ["collective", "max-fairness", "max-availability"].contains(method) else {
            throw NylasError.invalidValue("availability_rules.availability_method", "expected collective, max-fairness or max-availability")
        }
        let buffer = try rules.nested("buffer") ?? BodyFields([:])
        let before = try minutes(buffer, "before", range: 0...120) ?? 0
        let after = try minutes(buffer, "after", range: 0...120) ?? 0
        return AvailabilityRequest(
            start: start, end: end, duration: duration * 60, interval: interval * 60, roundTo: roundTo * 60, participants: participants,
            method: method, bufferBefore: before * 60, bufferAfter: after * 60,
            defaultOpenHours: try openHours(try rules.array("default_open_hours"), field: "availability_rules.default_open_hours") ?? [],
            roundRobinGroupID: try rules.string("round_robin_group_id"), tentativeAsBusy: try rules.bool("tentative_as_busy") ?? true)
    }

    /// The intervals a participant is open in `[start, end)` (the whole window when they set no hours).
    package func openIntervals(_ p: Participant) -> [(Int, Int)] {
        let hours = p.openHours ?? (defaultOpenHours.isEmpty ? nil : defaultOpenHours)
        var spans: [(Int, Int)] = []
        var overridden = Set<Int>()
        for sp in p.specific {
            let zone = sp.zone ?? hours?.first?.zone ?? TimeZoneName.utc
            spans.append((WallClock.instant(sp.date, hour: sp.start.0, minute: sp.start.1, second: 0, in: zone),
                          WallClock.instant(sp.date, hour: sp.end.0, minute: sp.end.1, second: 0, in: zone)))
            overridden.insert(sp.date.dayNumber)
        }
        if !p.onlySpecific {
            if let hours {
                for h in hours {
                    let first = CivilDate(unix: start, in: h.zone).adding(days: -1)
                    let last = CivilDate(unix: end, in: h.zone).adding(days: 1)
                    for n in first.dayNumber...last.dayNumber {
                        let d = CivilDate(dayNumber: n)
                        guard h.days.contains(d.weekday), !h.exdates.contains(d), !overridden.contains(n) else { continue }
                        let endClock = h.end.0 == 24 ? (d.adding(days: 1), 0, 0) : (d, h.end.0, h.end.1)
                        spans.append((WallClock.instant(d, hour: h.start.0, minute: h.start.1, second: 0, in: h.zone),
                                      WallClock.instant(endClock.0, hour: endClock.1, minute: endClock.2, second: 0, in: h.zone)))
                    }
                }
            } else {
                spans.append((start, end))
            }
        }
        return BusyTime.merge(spans.map { (max($0.0, start), min($0.1, end)) }.filter { $0.1 > $0.0 })
    }

    /// The slots: every `interval` from `start` rounded up to `round_to`, `duration` long, inside
    /// the window, when every participant (collective) or at least one (round-robin) is open and
    /// not busy. `busy` holds each participant's busy intervals (buffers included), by email.
    package func slots(busy: [String: [(Int, Int)]], order: [String]) -> [JSON] {
        let open = Dictionary(uniqueKeysWithValues: participants.map { ($0.email, openIntervals($0)) })
        func free(_ email: String, _ a: Int, _ b: Int) -> Bool {
            guard open[email]?.contains(where: { $0.0 <= a && b <= $0.1 }) == true else { return false }
            return !(busy[email] ?? []).contains { $0.0 < b && $0.1 > a }
        }
        var out: [JSON] = []
        var t = (start + roundTo - 1) / roundTo * roundTo
        while t + duration <= end, out.count < 10_000 {
            let available = participants.map(\.email).filter { free($0, t, t + duration) }
            let ok = method == "collective" ? available.count == participants.count : !available.isEmpty
            if ok {
                let emails = method == "collective" ? available : order.filter { available.contains($0) }
                out.append(["emails": .strings(emails), "start_time": .int(t), "end_time": .int(t + duration)])
            }
            t += interval
        }
        return out
    }
}

/// The one availability engine: `POST /v3/calendars/availability` and Scheduler's
/// `GET /v3/scheduling/availability` and bookings ask it. Every participant needs a valid v3
/// grant of `applicationID`; their busy time comes from their calendars in the provider world.
package enum AvailabilityEngine {
    package struct Result {
        package var slots: [JSON]
        /// The participants in the order a round-robin would assign them (every method).
        package var order: [String]
        /// Each participant's grant, by email.
        package var grants: [String: GrantRecord]
    }

    package static func compute(_ s: EngineState, _ store: RegionStore, applicationID: String, _ request: AvailabilityRequest,
                                excluding: Set<Int64> = []) throws -> Result {
        var busy: [String: [(Int, Int)]] = [:]
        var fairness: [String: (count: Int, last: Int)] = [:]
        var grants: [String: GrantRecord] = [:]
        for (i, p) in request.participants.enumerated() {
            let grant: GrantRecord?
            if let id = p.grantID {
                grant = try store.grant(id: id)
                if let grant, grant.email.lowercased() != p.email.lowercased() {
                    throw NylasError.invalidValue("participants[\(i)].grant_id", "grant \(id) belongs to \(grant.email), not \(p.email)")
                }
            } else {
                grant = try store.grant(applicationID: applicationID, email: p.email)
            }
            guard let grant, grant.applicationID == applicationID, grant.apiVersion == 3 else {
                throw NylasError.invalidValue("participants[\(i)].email", "\(p.email) has no grant in this application: every participant needs one")
            }
            guard grant.status == .valid else {
                throw NylasError(status: 400, type: "grant.invalid", message: "The grant of \(p.email) needs re-authentication")
            }
            if s.providerUnavailable(grant.provider, mailbox: grant.email) { throw NylasError.providerError() }
            grants[p.email] = grant
            var worldCalendars: [Int64] = []
            if p.calendarIDs.isEmpty {
                if let primary = try s.world.primaryCalendar(mailbox: grant.email) { worldCalendars = [primary.id] }
            } else {
                for ref in p.calendarIDs {
                    worldCalendars.append(try CalendarAccess.calendar(store, grant, ref, field: "participants[\(i)].calendar_ids").worldID)
                }
            }
            busy[p.email] = try BusyTime.intervals(s.world, mailbox: grant.email.lowercased(), calendars: worldCalendars,
                                                   from: request.start, to: request.end, tentativeAsBusy: request.tentativeAsBusy,
                                                   widen: (request.bufferBefore, request.bufferAfter), excluding: excluding)
            if let group = request.roundRobinGroupID {
                let bookings = try store.roundRobinBookings(grantID: grant.id, group: group)
                fairness[p.email] = (bookings.count, bookings.latestStart)
            }
        }
        let emails = request.participants.map(\.email)
        var order = emails
        switch request.method {
        case "max-fairness":
            order = emails.enumerated().sorted { a, b in
                let fa = fairness[a.element] ?? (0, 0), fb = fairness[b.element] ?? (0, 0)
                return (fa.count, fa.last, a.offset) < (fb.count, fb.last, b.offset)
            }.map(\.element)
        case "max-availability":
            let all = request.slots(busy: busy, order: emails)
            let counts = Dictionary(uniqueKeysWithValues: emails.map { e in
                (e, all.filter { $0["emails"]?.arrayValue?.contains(.string(e)) == true }.count)
            })
            order = emails.enumerated().sorted { (-(counts[$0.element] ?? 0), $0.offset) < (-(counts[$1.element] ?? 0), $1.offset) }.map(\.element)
        default: break
        }
        return Result(slots: request.slots(busy: busy, order: order), order: order, grants: grants)
    }
}
