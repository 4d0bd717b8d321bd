import Foundation

/// The writable fields of a calendar (an API request, a fixture, a provider-side change), checked.
package struct CalendarFields {
    package var name: String?
    package var description: String?
    package var location: String?
    package var timezone: String?
    package var hexColor: String?
    package var hexForegroundColor: String?
    package var metadata: [String: JSON]?
    package var notetaker: JSON?

    package init(_ body: BodyFields) throws(NylasError) {
        name = try body.string("name")
        if let name, name.isEmpty || name.count > 1024 { throw NylasError.invalidValue("name", "1 to 1024 characters") }
        description = try body.string("description")
        if let d = description, d.count > 8192 { throw NylasError.invalidValue("description", "at most 8192 characters") }
        location = try body.string("location")
        if let l = location, l.count > 1024 { throw NylasError.invalidValue("location", "at most 1024 characters") }
        timezone = try body.string("timezone").map { n throws(NylasError) in try TimeZoneName.validated(n, field: "timezone") }
        // The Python SDK 6.18 spells these hexColor/hexForegroundColor; the wire name is snake_case.
        let snakeColor = try body.string("hex_color")
        let camelColor = try body.string("hexColor")
        hexColor = snakeColor ?? camelColor
        let snakeForeground = try body.string("hex_foreground_color")
        let camelForeground = try body.string("hexForegroundColor")
        hexForegroundColor = snakeForeground ?? camelForeground
        for (key, value) in [("hex_color", hexColor), ("hex_foreground_color", hexForegroundColor)] {
            if let v = value, !v.isEmpty, !CalendarFields.isHexColor(v) { throw NylasError.invalidValue(key, "'\(v)' is not a color such as #039BE5") }
        }
        metadata = try body.metadata()
        if let n = body.raw("notetaker") { notetaker = try NotetakerSettings.validate(n) }
    }

    package static func isHexColor(_ s: String) -> Bool {
        s.count == 7 && s.hasPrefix("#") && s.dropFirst().allSatisfy(\.isHexDigit)
    }
}
