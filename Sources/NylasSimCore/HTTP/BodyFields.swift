import Foundation

/// The fields of a JSON (or form-encoded) request body, read with type checks that answer
/// a Nylas-shaped 400 naming the field.
package struct BodyFields: Sendable {
    package let values: [String: JSON]

    package init(_ values: [String: JSON]) { self.values = values }

    /// Reads the body as a JSON object; form-encoded bodies are accepted where `allowForm`.
    package init(_ request: SimRequest, allowForm: Bool = false, allowEmpty: Bool = false) throws(NylasError) {
        let type = request.contentType
        if allowForm, type == "application/x-www-form-urlencoded" {
            let q = QueryParameters(String(decoding: request.body, as: UTF8.self))
            var out: [String: JSON] = [:]
            for (k, v) in q.pairs { out[k] = .string(v) }
            self.values = out
            return
        }
        if request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            if allowEmpty { self.values = [:]; return }
            throw NylasError.invalidRequest("Request body is empty: a JSON object is required")
        }
        if let type, type != "application/json", !type.hasSuffix("+json"), type != "text/plain" {
            throw NylasError.unsupportedMediaType("Unsupported Content-Type \(type): expected application/json")
        }
        guard case .object(let o) = try JSON.parse(request.body) else {
            throw NylasError.invalidRequest("Invalid JSON payload format: the request body must be a JSON object")
        }
        self.values = o
    }

    package func has(_ key: String) -> Bool { values[key] != nil }

    package func raw(_ key: String) -> JSON? {
        guard let v = values[key], !v.isNull else { return nil }
        return v
    }

    package func string(_ key: String, required: Bool = false) throws(NylasError) -> String? {
        guard let v = raw(key) else {
            if required { throw NylasError.missingField(key) }
            return nil
        }
        guard case .string(let s) = v else { throw NylasError.wrongType(key, expected: "string", got: v) }
        if required, s.isEmpty { throw NylasError.missingField(key) }
        return s
    }

    package func requiredString(_ key: String) throws(NylasError) -> String {
        try string(key, required: true)!
    }

    package func bool(_ key: String) throws(NylasError) -> Bool? {
        guard let v = raw(key) else { return nil }
        switch v {
        case .bool(let b): return b
        case .string(let s) where s.lowercased() == "true": return true
        case .string(let s) where s.lowercased() == "false": return false
        default: throw NylasError.wrongType(key, expected: "boolean", got: v)
        }
    }

    package func int(_ key: String) throws(NylasError) -> Int? {
        guard let v = raw(key) else { return nil }
        if let i = v.intValue { return i }
        if case .string(let s) = v, let i = Int(s) { return i }
        throw NylasError.wrongType(key, expected: "integer", got: v)
    }

    package func object(_ key: String) throws(NylasError) -> [String: JSON]? {
        guard let v = raw(key) else { return nil }
        guard case .object(let o) = v else { throw NylasError.wrongType(key, expected: "object", got: v) }
        return o
    }

    package func array(_ key: String) throws(NylasError) -> [JSON]? {
        guard let v = raw(key) else { return nil }
        guard case .array(let a) = v else { throw NylasError.wrongType(key, expected: "array", got: v) }
        return a
    }

    package func stringArray(_ key: String) throws(NylasError) -> [String]? {
        guard let a = try array(key) else { return nil }
        var out: [String] = []
        for (i, item) in a.enumerated() {
            guard case .string(let s) = item else { throw NylasError.wrongType("\(key)[\(i)]", expected: "string", got: item) }
            out.append(s)
        }
        return out
    }

    /// A `metadata` object: at most 50 pairs, keys of 1 to 40 characters, string values of at most
    /// 500 characters (Nylas's published limits, `InputLimits`).
    package func metadata(_ key: String = "metadata") throws(NylasError) -> [String: JSON]? {
        guard let o = try object(key) else { return nil }
        try InputLimits.check(o.count, InputLimits.metadataPairs, key, "keys")
        if let bad = o.keys.first(where: { $0.isEmpty || $0.count > 40 }) {
            throw NylasError.invalidValue(key, "key '\(bad)' must be 1 to 40 characters")
        }
        for name in o.keys.sorted() {
            guard case .string(let v) = o[name]! else { throw NylasError.wrongType("\(key).\(name)", expected: "string", got: o[name]!) }
            guard v.count <= InputLimits.metadataValueLength else {
                throw NylasError.invalidValue("\(key).\(name)", "at most \(InputLimits.metadataValueLength) characters")
            }
        }
        return o
    }

    /// A nested object's fields, for reading with the same checks.
    package func nested(_ key: String) throws(NylasError) -> BodyFields? {
        try object(key).map(BodyFields.init)
    }

    /// Fails on a key outside `allowed`, naming it.
    package func rejectUnknown(_ allowed: Set<String>, context: String = "request body") throws(NylasError) {
        if let bad = values.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw NylasError.invalidRequest("Unknown field in \(context): \(bad)")
        }
    }
}
