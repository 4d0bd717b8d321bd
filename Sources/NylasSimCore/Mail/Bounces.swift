import Foundation

/// Bounces. A message sent to an address of the reserved `.invalid` top-level domain (RFC 2606:
/// it can never exist) bounces: a minute later, on the virtual clock, the provider's delivery
/// status notification arrives in the sender's inbox (a `message.created` like any mail) and v3
/// grants get `message.bounce_detected` (source `/nylas/send`) with the reference's payload
/// (`bounce_reason`, `bounce_date`, `bounced_addresses`, `type`, `code`, `origin`).
package enum Bounces {
    /// How long after the send the bounce arrives.
    package static let delay: Duration = .seconds(60)

    package static func isUndeliverable(_ email: String) -> Bool { email.lowercased().hasSuffix(".invalid") }

    /// Called after a send: schedules the bounce of its undeliverable recipients, if any.
    package static func afterSend(_ s: EngineState, region: Region, grant: GrantRecord, record: MessageRecord, _ out: OutgoingMessage) {
        let bounced = (out.to + out.cc + out.bcc).map(\.email).filter(isUndeliverable)
        guard !bounced.isEmpty else { return }
        let sentAt = s.now
        s.schedule(at: s.now + delay, "bounce of \(record.id)") { core in
            try? core.transaction { s in
                try bounce(s, region: region, grantID: grant.id, record: record, out, bounced: bounced, sentAt: sentAt)
            }
        }
    }

    private static func bounce(_ s: EngineState, region: Region, grantID: String, record: MessageRecord, _ out: OutgoingMessage,
                               bounced: [String], sentAt: VirtualTime) throws {
        guard let grant = try s.store(region).grant(id: grantID) else { return }
        let reason = "The email account that you tried to reach does not exist: \(bounced.joined(separator: ", "))"
        var notice = NewMessage(from: [Participant(name: "Mail Delivery Subsystem", email: "mailer-daemon@\(ProviderDetection.defaultDomain(grant.provider))")],
                                to: [Participant(name: grant.name ?? "", email: grant.email)],
                                subject: "Delivery Status Notification (Failure)",
                                body: "<p>Address not found</p><p>\(HTML.escape(reason))</p><p>550 5.1.1</p>", date: s.now.seconds)
        notice.folders = [ProviderKind.inbox]
        notice.inReplyTo = record.messageIDHeader
        _ = try s.world.insert(notice, mailbox: grant.email, time: s.now)
        try SyncEngine.mailboxChanged(s, mailbox: grant.email)
        guard grant.apiVersion == 3 else { return }
        let object: JSON = [
            "bounce_reason": .string(reason), "bounce_date": .string(DateText.rfc5322(unixSeconds: s.now.seconds)), "bounced_addresses": .strings(bounced),
            "type": "mailbox_unavailable", "code": "550", "grant_id": .string(grant.id),
            "origin": ["to": .strings(out.to.map(\.email)), "from": .string(record.from.first?.email ?? grant.email),
                       "cc": .strings(out.cc.map(\.email)), "bcc": .strings(out.bcc.map(\.email)), "subject": .string(out.subject),
                       "mime_id": .string(record.messageIDHeader), "id": .string(record.id), "original_send_at": .int(sentAt.seconds)],
        ]
        s.emit(SimEvent(region: region, applicationID: grant.applicationID, grantID: grant.id, type: "message.bounce_detected",
                        object: object, source: "/nylas/send", time: s.now))
    }
}
