import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

/// The one router: a literal segment wins over a parameter whatever the order of registration,
/// and two routes that would answer the same requests are refused.
@Suite("Router")
struct RouterTests {
    static func handler(_ name: String) -> RouteHandler {
        { _ in .json(["route": .string(name)]) }
    }

    static func resolved(_ r: Router, _ method: String, _ path: String) -> String? {
        if case .found(let route, _) = r.resolve(method: method, parts: Router.segments(of: path)) { return route.pattern }
        return nil
    }

    @Test("A literal segment wins over a parameter in either order of registration")
    func literalWins() {
        var paramFirst = Router()
        paramFirst.add("GET", "/v3/grants/{grant_id}/messages/{message_id}", .v3, Self.handler("one"))
        paramFirst.add("GET", "/v3/grants/{grant_id}/messages/schedules", .v3, Self.handler("schedules"))
        var literalFirst = Router()
        literalFirst.add("GET", "/v3/grants/{grant_id}/messages/schedules", .v3, Self.handler("schedules"))
        literalFirst.add("GET", "/v3/grants/{grant_id}/messages/{message_id}", .v3, Self.handler("one"))
        for r in [paramFirst, literalFirst] {
            #expect(Self.resolved(r, "GET", "/v3/grants/g1/messages/schedules") == "/v3/grants/{grant_id}/messages/schedules")
            #expect(Self.resolved(r, "GET", "/v3/grants/g1/messages/m1") == "/v3/grants/{grant_id}/messages/{message_id}")
        }
        // The first position where the patterns differ decides.
        var r = Router()
        r.add("GET", "/a/{x}/c", .v2, Self.handler("x"))
        r.add("GET", "/a/b/{y}", .v2, Self.handler("y"))
        #expect(Self.resolved(r, "GET", "/a/b/c") == "/a/b/{y}")
        #expect(Self.resolved(r, "GET", "/a/z/c") == "/a/{x}/c")
    }

    @Test("Routes that would answer the same requests are reported, and the real table has none")
    func conflicts() {
        var r = Router()
        r.add("GET", "/v3/grants/{grant_id}/events/{event_id}", .v3, Self.handler("a"))
        r.add("GET", "/v3/grants/{id}/events/{other}", .v3, Self.handler("b"))
        r.add("PUT", "/v3/grants/{grant_id}/events/{event_id}", .v3, Self.handler("c"))
        r.add("GET", "/v3/grants/{grant_id}/events/import", .v3, Self.handler("d"))
        #expect(r.conflicts.count == 1)
        #expect(r.conflicts.first?.1 == "GET /v3/grants/{id}/events/{other}")
        #expect(SimulatorRoutes.build().conflicts.isEmpty)
    }

    @Test("Every registered route resolves to itself")
    func everyRouteReachable() {
        let r = SimulatorRoutes.build()
        for route in r.all {
            let path = route.pattern.split(separator: "/").map { $0.hasPrefix("{") ? "p1" : String($0) }.joined(separator: "/")
            let found = Self.resolved(r, route.method, "/" + path)
            // A parameter filled with "p1" can only lose to a literal "p1", which no route has.
            #expect(found == route.pattern, "\(route.method) \(route.pattern) resolved to \(found ?? "nothing")")
        }
    }
}
