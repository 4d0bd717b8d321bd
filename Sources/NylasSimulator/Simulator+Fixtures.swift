import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimControl
import NylasSimulatorTesting
import NylasSimFixtures

extension Simulator {
    /// Loads a mailbox fixture (such as `fixtures/mailbox.json`) into the provider world in one
    /// transaction and returns how many messages it added. `mailbox` loads it as another owner
    /// address (the fixture's owner is replaced in every participant list); `provider` overrides
    /// the fixture's provider. Grants connected to the mailbox see the mail as push grants do (at
    /// once) or at their next IMAP sync. Messages whose `Message-ID` the mailbox holds already are
    /// skipped, so loading twice adds nothing. Throws a `NylasError` (400) on a bad fixture.
    ///
    /// ```swift
    /// let count = try sim.loadFixture(path: "fixtures/mailbox.json", mailbox: "me@gmail.com")
    /// let grant = try sim.createGrant(email: "me@gmail.com", provider: "google")
    /// ```
    @discardableResult
    public func loadFixture(path: String, mailbox: String? = nil, provider: String? = nil) throws -> Int {
        try core.loadFixture(nil, path: path, mailbox: mailbox, provider: provider).loaded
    }

    /// Loads a fixture given as a JSON object (the same format as the file).
    @discardableResult
    public func loadFixture(_ fixture: JSON, mailbox: String? = nil, provider: String? = nil) throws -> Int {
        try core.loadFixture(fixture, path: nil, mailbox: mailbox, provider: provider).loaded
    }
}

extension Simulator {
    /// Loads a calendar fixture (such as `fixtures/calendar.json`: calendars, one-off and recurring
    /// events, contacts) into the provider world in one transaction; `mailbox` loads it as another
    /// owner address. Throws a `NylasError` (400) on a bad fixture.
    ///
    /// ```swift
    /// try sim.loadCalendarFixture(path: "fixtures/calendar.json", mailbox: "me@gmail.com")
    /// let grant = try sim.createGrant(email: "me@gmail.com", provider: "google")
    /// ```
    @discardableResult
    public func loadCalendarFixture(path: String, mailbox: String? = nil) throws -> JSON {
        try core.loadCalendarFixture(nil, path: path, mailbox: mailbox).json
    }

    /// Loads a calendar fixture given as a JSON object (the same format as the file).
    @discardableResult
    public func loadCalendarFixture(_ fixture: JSON, mailbox: String? = nil) throws -> JSON {
        try core.loadCalendarFixture(fixture, path: nil, mailbox: mailbox).json
    }
}

extension Simulator {
    /// Loads a fixture shipped with the library (`.mailbox`, `.calendar`), from any package:
    /// a mailbox fixture answers `{"mailbox", "messages": <added>}`, a calendar fixture the counts
    /// of `loadCalendarFixture`. `mailbox` loads it as another owner address.
    ///
    /// ```swift
    /// try sim.loadFixture(.mailbox, mailbox: "me@gmail.com")
    /// try sim.loadFixture(.calendar, mailbox: "me@gmail.com")
    /// ```
    @discardableResult
    public func loadFixture(_ fixture: BundledFixture, mailbox: String? = nil) throws -> JSON {
        let json = try JSON.parse(Array(try fixture.data()))
        switch fixture {
        case .mailbox:
            let added = try loadFixture(json, mailbox: mailbox)
            return ["mailbox": .optional(mailbox ?? json["mailbox"]?.stringValue), "messages": .int(added)]
        case .calendar:
            return try loadCalendarFixture(json, mailbox: mailbox)
        }
    }
}
