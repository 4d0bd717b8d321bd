import Foundation

/// A JSON value: what the simulator parses from request bodies and renders into responses.
///
/// Objects are written with sorted keys so that every response, webhook body and replay
/// file repeats byte for byte.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])
}

// MARK: - Accessors

extension JSON {
    @inlinable public subscript(key: String) -> JSON? {
        get { if case .object(let o) = self { return o[key] } else { return nil } }
        set {
            guard case .object(var o) = self else { return }
            o[key] = newValue
            self = .object(o)
        }
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9e15: return Int(d)
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: [String: JSON]? { if case .object(let o) = self { return o } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The JSON type name used in validation messages.
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    // Inlinable: every layer builds its answers from literals.
    @inlinable public init(stringLiteral value: String) { self = .string(value) }
    @inlinable public init(integerLiteral value: Int) { self = .int(value) }
    @inlinable public init(booleanLiteral value: Bool) { self = .bool(value) }
    @inlinable public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    @inlinable public init(dictionaryLiteral elements: (String, JSON)...) {
        var o = [String: JSON](minimumCapacity: elements.count)
        for (key, value) in elements { o[key] = value }
        self = .object(o)
    }
    @inlinable public init(nilLiteral: ()) { self = .null }
    @inlinable public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSON {
    /// `.string(s)` or `.null` when `s` is nil.
    package static func optional(_ s: String?) -> JSON { s.map(JSON.string) ?? .null }
    package static func optional(_ i: Int?) -> JSON { i.map(JSON.int) ?? .null }
    package static func strings(_ list: [String]) -> JSON { .array(list.map(JSON.string)) }
}

// MARK: - Parsing

extension JSON: Decodable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSON].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSON].self))
    }

    /// Parses bytes as JSON, throwing `NylasError.invalidJSON` on anything malformed.
    ///
    /// Common documents take `FastJSONParser` (one pass, no `Decoder` machinery: 20-100 times
    /// faster); whatever it does not accept goes to `JSONDecoder`, which stays the reference for
    /// every result and every error.
    package static func parse(_ bytes: some Collection<UInt8>) throws(NylasError) -> JSON {
        let fast: JSON?? = bytes.withContiguousStorageIfAvailable { FastJSONParser.parse($0) }
        if let fast {
            if let value = fast { return value }
        } else if let value = Array(bytes).withUnsafeBufferPointer({ FastJSONParser.parse($0) }) {
            return value
        }
        do {
            return try JSONDecoder().decode(JSON.self, from: Data(bytes))
        } catch {
            throw NylasError.invalidJSON
        }
    }

    /// Parses a string as JSON, or nil when it is not JSON.
    public static func parse(string: String) -> JSON? { try? parse(Array(string.utf8)) }
}

// MARK: - Writing

extension JSON {
    /// The compact encoding with sorted object keys.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    /// The compact encoding as a string.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    package func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): JSON.writeInt(i, into: &out)
        case .double(let d):
            if d.isFinite, d.rounded() == d, abs(d) < 1e15 {
                JSON.writeInt(Int(d), into: &out)
            } else if d.isFinite {
                out.append(contentsOf: "\(d)".utf8)
            } else {
                out.append(contentsOf: "null".utf8)
            }
        case .string(let s): JSON.writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            var first = true
            for v in a {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                v.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in o.sorted(by: { JSON.keyPrecedes($0.key, $1.key) }) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSON.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Key order: by UTF-8 bytes, which is code point order (the order of `<` for the NFC keys
    /// the simulator writes), without Unicode-aware comparison. Keys differ early: walking the
    /// two UTF-8 views costs less than copying them out for a `memcmp`.
    package static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        var i = a.utf8.makeIterator(), j = b.utf8.makeIterator()
        while true {
            guard let x = i.next() else { return j.next() != nil }
            guard let y = j.next() else { return false }
            if x != y { return x < y }
        }
    }

    /// Decimal digits of `i` without an intermediate String.
    package static func writeInt(_ i: Int, into out: inout [UInt8]) {
        if i == 0 { out.append(UInt8(ascii: "0")); return }
        if i < 0 { out.append(UInt8(ascii: "-")) }
        var m = i.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // up to 20 digits, reversed, one per byte
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while m > 0 {
                buf[n] = UInt8(truncatingIfNeeded: m % 10) + UInt8(ascii: "0")
                m /= 10
                n += 1
            }
            for k in stride(from: n - 1, through: 0, by: -1) { out.append(buf[k]) }
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string literal: runs of bytes that need no escape are copied at once.
    package static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var runStart = 0
            for (k, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                if runStart < k { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<k])) }
                runStart = k + 1
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
                case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
                case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
                default: out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
            if runStart < utf8.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSON: CustomStringConvertible {
    public var description: String { text }
}

// MARK: - Fast parsing

/// A strict single-pass parser for the common shape of JSON documents: plain integers, strings,
/// literals, arrays and objects. Anything else (fractions, exponents, big integers, duplicate keys,
/// trailing commas, a byte-order mark, deep nesting, invalid UTF-8, lone surrogates, malformed
/// input) makes it return nil, and the caller decodes with `JSONDecoder`, so results and errors
/// stay exactly those of `JSONDecoder`.
package struct FastJSONParser {
    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var depth = 0
    private var scratch: [UInt8] = []

    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSON? {
        var p = FastJSONParser(b: bytes)
        guard let v = p.value() else { return nil }
        p.skipWhitespace()
        return p.i == bytes.count ? v : nil
    }

    private init(b: UnsafeBufferPointer<UInt8>) { self.b = b }

    private mutating func skipWhitespace() {
        while i < b.count {
            let c = b[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    private mutating func value() -> JSON? {
        skipWhitespace()
        guard i < b.count else { return nil }
        switch b[i] {
        case UInt8(ascii: "\""): return string().map(JSON.string)
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return integer()
        default: return nil
        }
    }

    private mutating func literal(_ word: StaticString, _ v: JSON) -> JSON? {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { return nil }
        let w = word.utf8Start
        for k in 0..<n where b[i + k] != w[k] { return nil }
        i += n
        return v
    }

    /// A JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`. Integers of up to 18
    /// digits are `.int`; other numbers `.double` unless exactly integral; longer integers go to `JSONDecoder`.
    private mutating func integer() -> JSON? {
        let start = i
        var negative = false
        if b[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        let digitsStart = i
        var value = 0
        while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
            value = value &* 10 &+ Int(b[i] &- UInt8(ascii: "0"))
            i += 1
        }
        let digits = i - digitsStart
        guard digits > 0, digits == 1 || b[digitsStart] != UInt8(ascii: "0") else { return nil }
        var isInteger = true
        if i < b.count, b[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            let fraction = i
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
            guard i > fraction else { return nil }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            let exponent = i
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
            guard i > exponent else { return nil }
        }
        if isInteger {
            guard digits <= 18 else { return nil }
            return .int(negative ? -value : value)
        }
        guard let d = Double(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)), d.isFinite else { return nil }
        // As `JSONDecoder` gives it to `JSON.init(from:)`: an exact integer (`1.0`, `1e3`) is an Int.
        if let exact = Int(exactly: d) { return .int(exact) }
        return .double(d)
    }

    private static func hex(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private mutating func hex4() -> UInt32? {
        guard i + 4 <= b.count, let a = Self.hex(b[i]), let c = Self.hex(b[i + 1]), let d = Self.hex(b[i + 2]),
              let e = Self.hex(b[i + 3]) else { return nil }
        i += 4
        return a << 12 | c << 8 | d << 4 | e
    }

    private mutating func string() -> String? {
        i += 1  // the opening quote
        let start = i
        var ascii = true
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: b[start..<i])
                i += 1
                return ascii ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") { return escapedString(from: start) }
            if c < 0x20 { return nil }
            if c >= 0x80 { ascii = false }
            i += 1
        }
        return nil
    }

    private mutating func escapedString(from start: Int) -> String? {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i]))
        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "\""):
                i += 1
                return String(validating: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                i += 1
                guard i < b.count else { return nil }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(e)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if scalar >= 0xD800, scalar < 0xDC00 {
                        guard i + 6 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else { return nil }
                        i += 2
                        guard let low = hex4(), low >= 0xDC00, low < 0xE000 else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00, scalar < 0xE000 {
                        return nil
                    }
                    guard let u = Unicode.Scalar(scalar) else { return nil }
                    scratch.append(contentsOf: UTF8.encode(u)!)
                default: return nil
                }
            default:
                if c < 0x20 { return nil }
                scratch.append(c)
                i += 1
            }
        }
        return nil
    }

    private mutating func array() -> JSON? {
        depth += 1
        guard depth <= 500 else { return nil }
        defer { depth -= 1 }
        i += 1
        var items: [JSON] = []
        skipWhitespace()
        if i < b.count, b[i] == UInt8(ascii: "]") {
            i += 1
            return .array(items)
        }
        while true {
            guard let v = value() else { return nil }
            items.append(v)
            skipWhitespace()
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            return nil
        }
    }

    private mutating func object() -> JSON? {
        depth += 1
        guard depth <= 500 else { return nil }
        defer { depth -= 1 }
        i += 1
        var members: [String: JSON] = [:]
        skipWhitespace()
        if i < b.count, b[i] == UInt8(ascii: "}") {
            i += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard i < b.count, b[i] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipWhitespace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            // A key given twice: the last value wins, as Go's encoding/json (the real API's) decides.
            guard let v = value() else { return nil }
            members[key] = v
            skipWhitespace()
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            return nil
        }
    }
}
