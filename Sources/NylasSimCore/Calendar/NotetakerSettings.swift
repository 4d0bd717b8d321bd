import Foundation

/// The `notetaker` object of a calendar (calendar sync) or an event: checked field by field
/// against the OpenAPI description (`calendar_sync`, `meeting_settings`), so that a wrong type is a
/// 400 naming the field and nothing malformed is stored. Unknown keys are kept (forward-compatible).
package enum NotetakerSettings {
    package static let eventSelections: Set<String> = ["all", "external", "internal", "own_events", "participant_only"]

    package static func validate(_ value: JSON, field: String = "notetaker") throws(NylasError) -> JSON {
        guard case .object(let o) = value else { throw NylasError.wrongType(field, expected: "object", got: value) }
        let b = BodyFields(o)
        _ = try b.string("name")
        if let settings = b.raw("meeting_settings") { try meetingSettings(settings, field: "\(field).meeting_settings") }
        if let rules = try object(b, "rules", field) {
            if let selection = rules.raw("event_selection") {
                guard case .array(let items) = selection else {
                    throw NylasError.wrongType("\(field).rules.event_selection", expected: "array", got: selection)
                }
                for (i, item) in items.enumerated() {
                    guard case .string(let s) = item else {
                        throw NylasError.wrongType("\(field).rules.event_selection[\(i)]", expected: "string", got: item)
                    }
                    guard eventSelections.contains(s) else {
                        throw NylasError.invalidValue("\(field).rules.event_selection[\(i)]",
                                                      "expected one of \(eventSelections.sorted().joined(separator: ", "))")
                    }
                }
            }
            if let filter = try object(rules, "participant_filter", "\(field).rules") {
                for key in ["participants_gte", "participants_lte"] { try integer(filter, key, "\(field).rules.participant_filter") }
            }
        }
        return value
    }

    /// `meeting_settings`: booleans, an integer, instruction strings and transcription hints.
    package static func meetingSettings(_ value: JSON, field: String) throws(NylasError) {
        guard case .object(let o) = value else { throw NylasError.wrongType(field, expected: "object", got: value) }
        let b = BodyFields(o)
        for key in ["video_recording", "audio_recording", "transcription", "summary", "action_items"] {
            if let v = b.raw(key), v.boolValue == nil { throw NylasError.wrongType("\(field).\(key)", expected: "boolean", got: v) }
        }
        try integer(b, "leave_after_silence_seconds", field)
        for key in ["summary_settings", "action_items_settings"] {
            if let s = try object(b, key, field), let v = s.raw("custom_instructions"), v.stringValue == nil {
                throw NylasError.wrongType("\(field).\(key).custom_instructions", expected: "string", got: v)
            }
        }
        if let t = try object(b, "transcription_settings", field) {
            for key in ["expected_languages", "keywords"] {
                if let list = t.raw(key) {
                    guard case .array(let items) = list, items.allSatisfy({ $0.stringValue != nil }) else {
                        throw NylasError.wrongType("\(field).transcription_settings.\(key)", expected: "array of strings", got: list)
                    }
                    try InputLimits.check(items.count, 200, "\(field).transcription_settings.\(key)", "entries")
                }
            }
            if let v = t.raw("fallback_language"), v.stringValue == nil {
                throw NylasError.wrongType("\(field).transcription_settings.fallback_language", expected: "string", got: v)
            }
            if let v = t.raw("use_speaker_names_as_keywords"), v.boolValue == nil {
                throw NylasError.wrongType("\(field).transcription_settings.use_speaker_names_as_keywords", expected: "boolean", got: v)
            }
        }
    }

    private static func object(_ b: BodyFields, _ key: String, _ field: String) throws(NylasError) -> BodyFields? {
        guard let v = b.raw(key) else { return nil }
        guard case .object(let o) = v else { throw NylasError.wrongType("\(field).\(key)", expected: "object", got: v) }
        return BodyFields(o)
    }

    private static func integer(_ b: BodyFields, _ key: String, _ field: String) throws(NylasError) {
        guard let v = b.raw(key) else { return }
        guard case .int = v else { throw NylasError.wrongType("\(field).\(key)", expected: "integer", got: v) }
    }
}
