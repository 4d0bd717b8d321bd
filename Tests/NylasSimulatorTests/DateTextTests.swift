import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

/// `DateText` writes by hand what `DateFormatter` / `ISO8601DateFormatter` wrote: compared byte
/// for byte with the formatters on fixed edge instants and on random ones.
@Suite("DateText matches the Foundation formatters")
struct DateTextTests {
    static let edges: [Int] = [
        0, -1, 1, 59, 60, 86_399, 86_400, -86_400, -86_401, 951_782_400, 951_868_800, 1_674_641_919,
        946_684_799, 946_684_800, 4_107_542_400, 253_402_300_799, -11_644_473_600, -11_644_473_601,
        253_402_300_800, -12_219_292_800, 2_147_483_647, -2_208_988_800, 1_709_208_000, 1_709_251_199,
    ]

    @Test func rfc5322() {
        var rng = SystemRandomNumberGenerator()
        var instants = Self.edges
        for _ in 0 ..< 20_000 { instants.append(Int.random(in: -12_000_000_000 ... 253_500_000_000, using: &rng)) }
        for _ in 0 ..< 5_000 { instants.append(Int.random(in: 0 ... 4_102_444_800, using: &rng)) }
        for t in instants {
            #expect(DateText.rfc5322(unixSeconds: t) == DateText.formatterRFC5322(t), "unix \(t)")
        }
        #expect(RFC5322.date(1_674_641_919) == "Wed, 25 Jan 2023 10:18:39 +0000")
    }

    @Test func iso8601() {
        var rng = SystemRandomNumberGenerator()
        var instants: [Int64] = []
        for edge in Self.edges {
            let ms = Int64(edge) * 1000
            instants += [ms, ms + 1, ms + 999, ms - 1]
        }
        for _ in 0 ..< 20_000 { instants.append(Int64.random(in: -12_000_000_000_000 ... 253_500_000_000_000, using: &rng)) }
        for _ in 0 ..< 5_000 { instants.append(Int64.random(in: 0 ... 4_102_444_800_000, using: &rng)) }
        for ms in instants {
            #expect(DateText.iso8601(milliseconds: ms) == DateText.formatterISO8601(ms), "ms \(ms)")
        }
        #expect(VirtualTime(milliseconds: 1_674_641_919_123).description == "2023-01-25T10:18:39.123Z")
    }
}
