import Foundation

/// A bookable room in a Google Workspace or Microsoft 365 directory, part of the provider world.
/// Grants and v2 accounts of those providers list the rooms of their email domain.
package struct RoomResource: Sendable, Equatable {
    package var email: String
    package var name: String
    package var capacity: Int?
    package var building: String?
    package var floorName: String?
    package var floorNumber: Int?
    package var floorSection: String?
    package var createdAt: Int

    package static func domain(of email: String) -> String {
        email.split(separator: "@").last.map { String($0).lowercased() } ?? ""
    }

    package init(email: String, name: String, capacity: Int?, building: String?, floorName: String?, floorNumber: Int?,
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

    package init(row: SQLRow) {
        self.init(email: row.string("email"), name: row.string("name"), capacity: row.optionalInt("capacity"),
                  building: row.optionalString("building"), floorName: row.optionalString("floor_name"),
                  floorNumber: row.optionalInt("floor_number"), floorSection: row.optionalString("floor_section"),
                  createdAt: row.int("created_at"))
    }

    /// The control API's view.
    package var json: JSON {
        ["email": .string(email), "name": .string(name), "capacity": capacity.map { .int($0) } ?? .null,
         "building": .optional(building), "floor_name": .optional(floorName),
         "floor_number": floorNumber.map { .int($0) } ?? .null, "floor_section": .optional(floorSection),
         "created_at": .int(createdAt)]
    }

    /// The v3 object (`room_resource`; capacity and floor number are integers). The OpenAPI types
    /// `building` and the floor fields as strings and integers, not nullable: an absent one is left out.
    package func v3(grantID: String) -> JSON {
        var o: JSON = ["object": "room_resource", "grant_id": .string(grantID), "email": .string(email), "name": .string(name)]
        if let capacity { o["capacity"] = .int(capacity) }
        if let building { o["building"] = .string(building) }
        if let floorName { o["floor_name"] = .string(floorName) }
        if let floorNumber { o["floor_number"] = .int(floorNumber) }
        if let floorSection { o["floor_section"] = .string(floorSection) }
        return o
    }

    /// The v2 object: every value a string (v2 reference §6.11).
    package var v2: JSON {
        ["object": "room_resource", "email": .string(email), "name": .string(name),
         "capacity": capacity.map { .string(String($0)) } ?? .null, "building": .optional(building),
         "floor_name": .optional(floorName), "floor_number": floorNumber.map { .string(String($0)) } ?? .null]
    }

    /// Reads the fields of `POST /__sim/providers/resources` (and the Swift API), with 400s naming the field.
    package static func parse(_ body: BodyFields, now: Int) throws(NylasError) -> RoomResource {
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
    package static let providers: Set<String> = ["google", "microsoft"]
}

