import Foundation

/// A bookable room in a Google Workspace or Microsoft 365 directory, part of the provider world.
/// Grants and v2 accounts of those providers list the rooms of their email domain.
struct RoomResource: Sendable, Equatable {
    var email: String
    var name: String
    var capacity: Int?
    var building: String?
    var floorName: String?
    var floorNumber: Int?
    var floorSection: String?
    var createdAt: Int

    static func domain(of email: String) -> String {
        email.split(separator: "@").last.map { String($0).lowercased() } ?? ""
    }

    init(email: String, name: String, capacity: Int?, building: String?, floorName: String?, floorNumber: Int?,
         floorSection: String?, createdAt: Int) {
        self.email = email.lowercased()
        self.name = name
        self.capacity = capacity
        self.building = building
        self.floorName = floorName
        self.floorNumber = floorNumber
        self.floorSection = floorSection
        self.createdAt = createdAt
    }

    init(row: SQLRow) {
        self.init(email: row.string("email"), name: row.string("name"), capacity: row.optionalInt("capacity"),
                  building: row.optionalString("building"), floorName: row.optionalString("floor_name"),
                  floorNumber: row.optionalInt("floor_number"), floorSection: row.optionalString("floor_section"),
                  createdAt: row.int("created_at"))
    }

    /// The control API's view.
    var json: JSON {
        ["email": .string(email), "name": .string(name), "capacity": capacity.map { .int($0) } ?? .null,
         "building": .optional(building), "floor_name": .optional(floorName),
         "floor_number": floorNumber.map { .int($0) } ?? .null, "floor_section": .optional(floorSection),
         "created_at": .int(createdAt)]
    }

    /// The v3 object (`room_resource`; capacity and floor number are integers).
    func v3(grantID: String) -> JSON {
        ["object": "room_resource", "grant_id": .string(grantID), "email": .string(email), "name": .string(name),
         "capacity": capacity.map { .int($0) } ?? .null, "building": .optional(building), "floor_name": .optional(floorName),
         "floor_number": floorNumber.map { .int($0) } ?? .null, "floor_section": .optional(floorSection)]
    }

    /// The v2 object: every value a string (v2 reference §6.11).
    var v2: JSON {
        ["object": "room_resource", "email": .string(email), "name": .string(name),
         "capacity": capacity.map { .string(String($0)) } ?? .null, "building": .optional(building),
         "floor_name": .optional(floorName), "floor_number": floorNumber.map { .string(String($0)) } ?? .null]
    }

    /// Reads the fields of `POST /__sim/providers/resources` (and the Swift API), with 400s naming the field.
    static func parse(_ body: BodyFields, now: Int) throws(NylasError) -> RoomResource {
        let email = try body.requiredString("email")
        guard email.split(separator: "@").count == 2, !email.hasPrefix("@"), !email.hasSuffix("@") else {
            throw NylasError.invalidValue("email", "'\(email)' is not an email address")
        }
        let capacity = try body.int("capacity")
        if let capacity, capacity < 0 { throw NylasError.invalidValue("capacity", "must be 0 or more") }
        return RoomResource(email: email, name: try body.requiredString("name"), capacity: capacity,
                            building: try body.string("building"), floorName: try body.string("floor_name"),
                            floorNumber: try body.int("floor_number"), floorSection: try body.string("floor_section"),
                            createdAt: now)
    }

    /// The providers whose directories have rooms.
    static let providers: Set<String> = ["google", "microsoft"]
}

extension ProviderWorld {
    /// The rooms of `domain` (all of them with nil), by email.
    func roomResources(domain: String? = nil) throws -> [RoomResource] {
        if let domain {
            return try db.query("SELECT * FROM room_resources WHERE domain = ? ORDER BY email", domain.lowercased()).map(RoomResource.init)
        }
        return try db.query("SELECT * FROM room_resources ORDER BY email").map(RoomResource.init)
    }

    /// Adds a room, or replaces the room of the same email.
    func saveRoomResource(_ r: RoomResource) throws {
        try db.run("""
            INSERT OR REPLACE INTO room_resources(email, domain, name, capacity, building, floor_name, floor_number, floor_section, created_at)
            VALUES(?,?,?,?,?,?,?,?,?)
            """, r.email, RoomResource.domain(of: r.email), r.name, r.capacity, r.building, r.floorName, r.floorNumber,
                   r.floorSection, r.createdAt)
    }

    /// Removes a room; false when there was none.
    func deleteRoomResource(email: String) throws -> Bool {
        guard try db.first("SELECT email FROM room_resources WHERE email = ?", email.lowercased()) != nil else { return false }
        try db.run("DELETE FROM room_resources WHERE email = ?", email.lowercased())
        return true
    }
}

/// `GET /v3/grants/{grant_id}/resources`, v2 `GET /resources` and the control routes that change
/// the directory (`/__sim/providers/resources`).
enum RoomResourceRoutes {
    static func register(_ r: inout Router) {
        r.add("GET", "/v3/grants/{grant_id}/resources", .v3) { ctx in
            let limit = try ctx.limit(default: 50, max: 200)
            let offset = try ctx.query["page_token"].map { t throws(NylasError) -> Int in
                guard let n = Int(try PageToken.parse(t, count: 1)[0]), n >= 0 else { throw NylasError.invalidRequest("Invalid page_token") }
                return n
            } ?? 0
            let (items, next) = try ctx.read { s, store -> ([JSON], String?) in
                let grant = try ctx.dataGrant(s, store)
                try requireDirectory(grant.provider)
                let all = try s.world.roomResources(domain: RoomResource.domain(of: grant.email))
                let page = all.dropFirst(offset).prefix(limit)
                return (page.map { ctx.selecting($0.v3(grantID: grant.id)) },
                        offset + limit < all.count ? PageToken.make([String(offset + limit)]) : nil)
            }
            return ctx.list(items, nextCursor: next)
        }
        r.add("GET", "/resources", .v2) { ctx in
            .json(try ctx.read { s, store in
                let (account, _) = try ctx.v2Account(s, store)
                try requireDirectory(account.provider)
                return .array(try s.world.roomResources(domain: RoomResource.domain(of: account.email)).map(\.v2))
            })
        }
        r.add("GET", "/__sim/providers/resources", .control) { ctx in
            .json(["data": .array(try ctx.core.withState { s in try s.world.roomResources(domain: ctx.query["domain"]).map(\.json) })])
        }
        r.add("POST", "/__sim/providers/resources", .control) { ctx in
            let body = try ctx.body()
            return .json(try ctx.core.transaction { s in
                let room = try RoomResource.parse(body, now: s.now.seconds)
                try s.world.saveRoomResource(room)
                return room.json
            }, status: 201)
        }
        r.add("DELETE", "/__sim/providers/resources/{email}", .control) { ctx in
            let email = ctx.param("email")
            let deleted = try ctx.core.transaction { s in try s.world.deleteRoomResource(email: email) }
            guard deleted else { throw NylasError.notFound("No room resource \(email)") }
            return .json(["deleted": .string(email.lowercased())])
        }
    }

    static func requireDirectory(_ provider: String) throws(NylasError) {
        guard RoomResource.providers.contains(provider) else {
            throw NylasError.invalidRequest("Room resources are available for Google and Microsoft grants only, not \(provider)")
        }
    }
}
