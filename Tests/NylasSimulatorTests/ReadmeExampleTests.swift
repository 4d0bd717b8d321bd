import Foundation
import NylasSimulator
import XCTest

/// The in-process example of the README, kept compiling and passing here.
final class ReadmeExampleTests: XCTestCase {
    var sim: Simulator!

    override func setUp() async throws {
        sim = try await Simulator.start(SimulatorOptions(seed: "readme"))
    }

    override func tearDown() async throws {
        await sim.shutdown()
    }

    func testAccessTokenExpiresAfterOneHour() async throws {
        let us = sim.region(.us)
        let grant = try sim.createGrant(.us, email: "nyla@gmail.com", provider: "google")
        let client = HTTPClient()
        let url = us.baseURL.absoluteString + "/v3/grants/me"
        let auth = ["Authorization": "Bearer \(grant.accessToken)"]

        var response = try await client.send("GET", url, headers: auth)
        XCTAssertEqual(response.status, 200)

        await sim.advance(by: .seconds(61 * 60))          // virtual time: instant
        response = try await client.send("GET", url, headers: auth)
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(response.json?["error"]?["type"]?.stringValue, "unauthorized")
    }

    func testWebhookDelivery() async throws {
        let receiver = try await WebhookReceiver.start()
        let us = sim.region(.us)
        let created = try await HTTPClient().json("POST", us.baseURL.absoluteString + "/v3/webhooks",
            ["trigger_types": ["message.created"], "webhook_url": .string(receiver.url)],
            headers: ["Authorization": "Bearer \(us.v3.apiKey)"])
        XCTAssertEqual(created.status, 200)

        let grant = try sim.createGrant(.us, email: "nyla@gmail.com", provider: "google")
        try sim.deliverMail(to: "nyla@gmail.com", from: "alice@example.com", subject: "Hello")

        let delivery = await sim.nextDelivery { $0.type == "message.created" }
        XCTAssertEqual(delivery?.payload?["data"]?["object"]?["subject"]?.stringValue, "Hello")
        XCTAssertEqual(delivery?.payload?["data"]?["object"]?["grant_id"]?.stringValue, grant.id)
        await receiver.stop()
    }

    /// The README's Scheduler example.
    func testSchedulerBookingWithoutHTTP() async throws {
        let owner = try sim.createGrant(email: "owner@gmail.com", provider: "google")
        let config = try sim.createSchedulerConfiguration(grantID: owner.id, [
            "participants": [["email": "owner@gmail.com", "is_organizer": true,
                              "availability": ["calendar_ids": ["primary"]], "booking": ["calendar_id": "primary"]]],
            "availability": ["duration_minutes": 30],
            "event_booking": ["title": "Intro call", "reminders": [["type": "webhook", "minutes_before_event": 60]]],
        ])
        let booking = try sim.book(configurationID: config["id"]!.stringValue!, start: 1_767_603_600, end: 1_767_605_400,
                                   guestName: "Gia", guestEmail: "gia@example.com")
        XCTAssertEqual(booking["status"]?.stringValue, "booked")
        XCTAssertNotNil(booking["salt"]?.stringValue)
    }
}
