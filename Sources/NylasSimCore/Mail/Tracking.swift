import Foundation

/// Open and link tracking of sent messages (v3 `tracking_options`, v2 `tracking`): the sent HTML
/// body gets a 1×1 pixel and its links point at the simulator's tracking paths; a request to
/// one of them notifies `message.opened` or `message.link_clicked` (source `/com/nylas/tracking`)
/// and a link redirects to where it pointed; a reply arriving for it notifies `thread.replied`.
/// Each message has a token; its counts and recent opens and clicks are kept in the `tracking` table.
package enum Tracking {
    /// The path under a region's base URL of a tracked message's pixel and links.
    package static let pathPrefix = "/t"

    /// How a message is tracked, from its options (`opens`, `links`, `thread_replies`, `label`).
    package struct Options: Sendable {
        package var opens: Bool
        package var links: Bool
        package var threadReplies: Bool
        package var label: String?

        package init?(_ options: JSON?) {
            guard let o = options else { return nil }
            opens = o["opens"]?.boolValue ?? false
            links = o["links"]?.boolValue ?? false
            threadReplies = o["thread_replies"]?.boolValue ?? false
            label = o["label"]?.stringValue
            guard opens || links || threadReplies else { return nil }
        }
    }

    /// An HTML link to an http(s) URL: the tag up to `href=`, the quote, the URL.
    private nonisolated(unsafe) static let linkPattern = try? NSRegularExpression(
        pattern: #"(<a\s[^>]*?href\s*=\s*)(["'])(https?://[^"']+)\2"#, options: [.caseInsensitive])

    /// The body as sent: links rewritten and the pixel appended (an HTML body only), the links'
    /// targets in order, and the message's token.
    package static func instrument(_ s: EngineState, region: Region, body: String, options: Options)
        -> (body: String, links: [String], token: String) {
        let token = s.store(region).ids.base36("tracking", length: 24)
        let base = (s.baseURLs[region] ?? "http://127.0.0.1") + pathPrefix + "/" + token
        guard options.opens || options.links, body.range(of: "<[a-zA-Z]", options: .regularExpression) != nil else {
            return (body, [], token)
        }
        var out = body
        var links: [String] = []
        if options.links, let regex = linkPattern {
            let ns = body as NSString
            var rewritten = ""
            var last = 0
            for match in regex.matches(in: body, range: NSRange(location: 0, length: ns.length)) {
                let target = ns.substring(with: match.range(at: 3))
                rewritten += ns.substring(with: NSRange(location: last, length: match.range.location - last))
                rewritten += ns.substring(with: match.range(at: 1)) + ns.substring(with: match.range(at: 2))
                    + "\(base)/l/\(links.count)" + ns.substring(with: match.range(at: 2))
                links.append(target)
                last = match.range.location + match.range.length
            }
            rewritten += ns.substring(from: last)
            out = rewritten
        }
        if options.opens {
            out += "<img src=\"\(base)/o\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">"
        }
        return (out, links, token)
    }

    /// Records the tracked message once it has its ID.
    /// (`label` is v2's `payload`.)
    package static func save(_ store: RegionStore, token: String, grant: GrantRecord, message: MessageRecord, links: [String],
                             options: Options) throws {
        let data: JSON = ["links": .strings(links), "link_counts": .array(links.map { _ in .int(0) }), "opens": 0,
                          "label": .optional(options.label), "recent_opens": [], "recent_clicks": [],
                          "thread_replies": .bool(options.threadReplies), "replies": 0]
        try store.db.run("INSERT INTO tracking(token, grant_id, message_id, message_id_header, data) VALUES(?,?,?,?,?)",
                         token, grant.id, message.id, message.messageIDHeader, data)
    }

    /// A message that arrived in `grant`'s mailbox: when it answers a sent message tracked for
    /// thread replies, `thread.replied`.
    package static func arrived(_ s: EngineState, region: Region, grant: GrantRecord, reply: MessageRecord, inReplyTo: String?) throws {
        guard let inReplyTo else { return }
        let store = s.store(region)
        guard let row = try store.db.first("SELECT token, message_id, data FROM tracking WHERE grant_id = ? AND message_id_header = ?",
                                           grant.id, inReplyTo) else { return }
        var data = row.json("data")
        guard data["thread_replies"]?.boolValue == true else { return }
        let count = (data["replies"]?.intValue ?? 0) + 1
        data["replies"] = .int(count)
        try store.db.run("UPDATE tracking SET data = ? WHERE token = ?", data, row.string("token"))
        let root = row.string("message_id")
        let fromSelf = reply.from.contains { $0.email.lowercased() == grant.email.lowercased() }
        notify(s, region, grant, "thread.replied", about: reply.threadID, tracked: root, label: data["label"] ?? .null,
               v3: ["object": "thread", "message_id": .string(reply.id), "root_message_id": .string(root),
                    "reply_to_message_id": .string(root), "thread_id": .string(reply.threadID), "reply_data": ["count": .int(count)],
                    "from_self": .bool(fromSelf)],
               v2: ["thread_id": .string(reply.threadID), "reply_to_message_id": .string(root), "from_self": .bool(fromSelf)])
    }

    /// Raises a tracking notification in the shape of the grant's API version: v3 the reference's
    /// object (`v3` plus `grant_id`, `label`, `sender_app_id`, `timestamp`); v2 a delta naming
    /// `id`, its `metadata` being `v2` plus `message_id` (the tracked message), `payload`,
    /// `sender_app_id` and `timestamp` (reference v2 §7.1).
    private static func notify(_ s: EngineState, _ region: Region, _ grant: GrantRecord, _ type: String, about id: String,
                               tracked messageID: String, label: JSON, v3: JSON, v2: JSON) {
        let common: JSON = ["sender_app_id": .string(grant.applicationID), "timestamp": .int(s.now.seconds)]
        var object = common
        if grant.apiVersion == 2 {
            for (k, v) in v2.objectValue ?? [:] { object[k] = v }
            object["message_id"] = .string(messageID)
            object["payload"] = label
            object = ["id": .string(id), "metadata": object]
        } else {
            for (k, v) in v3.objectValue ?? [:] { object[k] = v }
            object["grant_id"] = .string(grant.id)
            object["label"] = label
        }
        s.emit(SimEvent(region: region, applicationID: grant.applicationID, grantID: grant.id, type: type, object: object,
                        source: "/com/nylas/tracking", time: s.now, apiVersion: grant.apiVersion == 2 ? 2 : 3))
    }

    /// A hit on a tracking path: notifies the open or click and returns the link's target (nil for
    /// the pixel). Unknown tokens and links are nil and notify nothing.
    package static func hit(_ s: EngineState, region: Region, token: String, link: Int?, ip: String, userAgent: String)
        throws -> (found: Bool, target: String?) {
        let store = s.store(region)
        guard let row = try store.db.first("SELECT grant_id, message_id, data FROM tracking WHERE token = ?", token),
              let grant = try store.grant(id: row.string("grant_id")) else { return (false, nil) }
        var data = row.json("data")
        let messageID = row.string("message_id")
        let now = s.now.seconds
        let links = data["links"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if let link {
            guard links.indices.contains(link) else { return (false, nil) }
            var counts = data["link_counts"]?.arrayValue?.map { $0.intValue ?? 0 } ?? links.map { _ in 0 }
            counts[link] += 1
            data["link_counts"] = .array(counts.map { .int($0) })
            let clicks = (data["recent_clicks"]?.arrayValue ?? []).count
            let recent: JSON = ["click_id": .string(String(clicks)), "ip": .string(ip), "link_index": .string(String(link)),
                                "timestamp": .int(now), "user_agent": .string(userAgent)]
            data["recent_clicks"] = .array(Array(((data["recent_clicks"]?.arrayValue ?? []) + [recent]).suffix(50)))
            let fields: JSON = ["link_data": .array(zip(links, counts).map { ["url": .string($0), "count": .int($1)] }),
                                "recents": data["recent_clicks"] ?? []]
            var v3 = fields
            v3["object"] = "message"
            v3["message_id"] = .string(messageID)
            notify(s, region, grant, "message.link_clicked", about: messageID, tracked: messageID, label: data["label"] ?? .null,
                   v3: v3, v2: fields)
        } else {
            let opens = (data["opens"]?.intValue ?? 0) + 1
            data["opens"] = .int(opens)
            let recent: JSON = ["ip": .string(ip), "opened_id": .int(opens - 1), "timestamp": .int(now), "user_agent": .string(userAgent)]
            data["recent_opens"] = .array(Array(((data["recent_opens"]?.arrayValue ?? []) + [recent]).suffix(50)))
            let recents = data["recent_opens"] ?? []
            notify(s, region, grant, "message.opened", about: messageID, tracked: messageID, label: data["label"] ?? .null,
                   v3: ["object": "message", "message_id": .string(messageID),
                        "message_data": ["count": .int(opens), "timestamp": .int(now)], "recents": recents],
                   v2: ["count": .int(opens), "recents": recents])
        }
        try store.db.run("UPDATE tracking SET data = ? WHERE token = ?", data, token)
        return (true, link.map { links[$0] })
    }
}
