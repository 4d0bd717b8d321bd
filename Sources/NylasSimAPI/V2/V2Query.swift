import Foundation
import NylasSimCore

/// The query conventions every v2 route shares: offset paging, booleans and views.
extension QueryParameters {
    /// v2 paging: `limit` (default 100, max 1000) and `offset`.
    package func v2Paging() throws(NylasError) -> (limit: Int, offset: Int) {
        guard let limit = Int(self["limit"] ?? "100"), limit >= 0 else { throw NylasError.invalidRequest("Limit parameter must be an integer.") }
        if limit > 1000 { throw NylasError.invalidRequest("Cannot request more than 1000 resources at once.") }
        guard let offset = Int(self["offset"] ?? "0"), offset >= 0 else { throw NylasError.invalidRequest("Offset parameter must be an integer.") }
        return (limit, offset)
    }

    /// A v2 boolean parameter, case-insensitive like the v2 engine's `strict_bool` (the Python SDK sends `True`/`False`).
    package func v2Bool(_ key: String) throws(NylasError) -> Bool? {
        guard let v = self[key] else { return nil }
        switch v.lowercased() { case "true": return true; case "false": return false
        default: throw NylasError.invalidRequest("Invalid value for \(key): must be true or false") }
    }

    /// `view`: `count` or `ids`, and `expanded` where the resource has it (messages, threads, folders).
    package func v2View(expanded: Bool = true) throws(NylasError) -> String? {
        guard let v = self["view"] else { return nil }
        guard v == "count" || v == "ids" || (expanded && v == "expanded") else { throw NylasError.invalidRequest("Unknown view type \(v).") }
        return v
    }
}
