import Foundation

/// A simulated Nylas data center. Regions share nothing but the provider world.
public enum Region: String, CaseIterable, Sendable, Codable, Comparable {
    case us, eu

    /// The v3 host of this region.
    public var v3Host: String { self == .us ? "api.us.nylas.com" : "api.eu.nylas.com" }
    /// The v2 host of this region.
    public var v2Host: String { self == .us ? "api.nylas.com" : "ireland.api.nylas.com" }

    /// The region a real Nylas host name belongs to, if any.
    public static func forHost(_ host: String) -> Region? {
        let name = (host.utf8.firstIndex(of: UInt8(ascii: ":")).map { host[..<$0] } ?? host[...]).lowercased()
        switch name {
        case "api.us.nylas.com", "api.nylas.com", "canada.api.nylas.com": return .us
        case "api.eu.nylas.com", "ireland.api.nylas.com": return .eu
        default: return nil
        }
    }

    public static func < (a: Region, b: Region) -> Bool { a.rawValue < b.rawValue }
}
