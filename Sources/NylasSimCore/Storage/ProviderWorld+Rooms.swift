import Foundation

extension ProviderWorld {
    /// The rooms of `domain` (all of them with nil), by email.
    package func roomResources(domain: String? = nil) throws -> [RoomResource] {
        if let domain {
            return try db.query("SELECT * FROM room_resources WHERE domain = ? ORDER BY email", domain.lowercased()).map(RoomResource.init)
        }
        return try db.query("SELECT * FROM room_resources ORDER BY email").map(RoomResource.init)
    }

    /// Adds a room, or replaces the room of the same email.
    package func saveRoomResource(_ r: RoomResource) throws {
        try db.run("""
            INSERT OR REPLACE INTO room_resources(email, domain, name, capacity, building, floor_name, floor_number, floor_section, created_at)
            VALUES(?,?,?,?,?,?,?,?,?)
            """, r.email, RoomResource.domain(of: r.email), r.name, r.capacity, r.building, r.floorName, r.floorNumber,
                   r.floorSection, r.createdAt)
    }

    /// Removes a room; false when there was none.
    package func deleteRoomResource(email: String) throws -> Bool {
        guard try db.first("SELECT email FROM room_resources WHERE email = ?", email.lowercased()) != nil else { return false }
        try db.run("DELETE FROM room_resources WHERE email = ?", email.lowercased())
        return true
    }
}

