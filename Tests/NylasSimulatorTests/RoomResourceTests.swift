import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

@Suite("Room resources: the provider directory, v3 and v2 lists, control API")
struct RoomResourceTests {
    @Test("Rooms of the grant's domain, paged; other domains and non-directory providers excluded; bad input changes nothing")
    func rooms() async throws {
        try await withSimulator { h in
            try h.sim.addRoomResource(email: "Atlas@acme.example", name: "Atlas", capacity: 8, building: "HQ",
                                      floorName: "Second", floorNumber: 2, floorSection: "A")
            let made = try await h.call("POST", "/__sim/providers/resources", json: ["email": "boreal@acme.example", "name": "Boreal"])
            #expect(made.status == 201, "\(made.text)")
            _ = try await h.call("POST", "/__sim/providers/resources", json: ["email": "cove@other.example", "name": "Cove"])
            let g = try h.sim.createGrant(email: "ann@acme.example", provider: "microsoft")

            let page1 = try await h.call("GET", "/v3/grants/\(g.id)/resources?limit=1", token: h.apiKey)
            #expect(page1.status == 200, "\(page1.text)")
            #expect(page1.data == [["object": "room_resource", "grant_id": .string(g.id), "email": "atlas@acme.example", "name": "Atlas",
                                    "capacity": 8, "building": "HQ", "floor_name": "Second", "floor_number": 2, "floor_section": "A"]])
            let cursor = try #require(page1.json?["next_cursor"]?.stringValue)
            let page2 = try await h.call("GET", "/v3/grants/\(g.id)/resources?limit=1&page_token=\(cursor)", token: g.accessToken)
            #expect(page2.data?.arrayValue?.map { $0["email"]?.stringValue } == ["boreal@acme.example"])
            // Absent building and floor fields are left out, not null (the OpenAPI types them as strings).
            #expect(page2.data == [["object": "room_resource", "grant_id": .string(g.id), "email": "boreal@acme.example", "name": "Boreal"]])
            #expect(page2.json?["next_cursor"] == nil)
            let bad = try await h.call("GET", "/v3/grants/\(g.id)/resources?page_token=%%%", token: h.apiKey)
            #expect(bad.status == 400)

            let imap = try h.sim.createGrant(email: "ivan@acme.example", provider: "imap")
            let refused = try await h.call("GET", "/v3/grants/\(imap.id)/resources", token: h.apiKey)
            #expect(refused.status == 400)
            #expect(refused.json?["error"]?["type"]?.stringValue == "invalid_request_error")
            let unauthorized = try await h.call("GET", "/v3/grants/\(g.id)/resources")
            #expect(unauthorized.status == 401)
            let otherRegion = try await h.call("GET", "/v3/grants/\(g.id)/resources", region: .eu, token: h.apiKey(.eu))
            #expect(otherRegion.status == 404)

            // Bad input: 400 naming the field, and the directory is unchanged.
            for body: JSON in [["name": "No email"], ["email": "not-an-address", "name": "X"], ["email": "x@acme.example"],
                               ["email": "x@acme.example", "name": "X", "capacity": -1], ["email": "x@acme.example", "name": "X", "capacity": "eight"]] {
                let r = try await h.call("POST", "/__sim/providers/resources", json: body)
                #expect(r.status == 400, "\(body): \(r.text)")
            }
            let all = try await h.call("GET", "/__sim/providers/resources")
            #expect(all.json?["data"]?.arrayValue?.count == 3)
            let domain = try await h.call("GET", "/__sim/providers/resources?domain=acme.example")
            #expect(domain.json?["data"]?.arrayValue?.count == 2)
            let removed = try await h.call("DELETE", "/__sim/providers/resources/boreal@acme.example")
            #expect(removed.status == 200)
            let again = try await h.call("DELETE", "/__sim/providers/resources/boreal@acme.example")
            #expect(again.status == 404)
            let after = try await h.call("GET", "/v3/grants/\(g.id)/resources", token: h.apiKey)
            #expect(after.data?.arrayValue?.map { $0["email"]?.stringValue } == ["atlas@acme.example"])
        }
    }

    @Test("v2 GET /resources gives the rooms of the account's domain with string values")
    func v2Rooms() async throws {
        try await withSimulator { h in
            try h.sim.addRoomResource(email: "atlas@gmail.com", name: "Atlas", capacity: 10, floorNumber: 7)
            let v2 = h.sim.region(.us).v2
            let a = try await h.call("POST", "/connect/authorize", json: [
                "client_id": .string(v2.clientID), "name": "Lee", "email_address": "lee@gmail.com", "provider": "gmail",
                "scopes": "email,calendar,room_resources.read_only",
                "settings": ["google_client_id": "x", "google_client_secret": "y", "google_refresh_token": "z"]])
            let t = try await h.call("POST", "/connect/token", json: ["client_id": .string(v2.clientID), "client_secret": .string(v2.clientSecret),
                                                                     "code": a.json?["code"] ?? .null])
            let token = try #require(t.json?["access_token"]?.stringValue)
            let rooms = try await h.call("GET", "/resources", headers: ["Authorization": "Bearer \(token)"])
            #expect(rooms.status == 200, "\(rooms.text)")
            #expect(rooms.json == [["object": "room_resource", "email": "atlas@gmail.com", "name": "Atlas", "capacity": "10",
                                    "building": .null, "floor_name": .null, "floor_number": "7"]])
            let none = try await h.call("GET", "/resources")
            #expect(none.status == 401)
            #expect(none.json?["type"]?.stringValue == "invalid_request_error")
        }
    }
}
