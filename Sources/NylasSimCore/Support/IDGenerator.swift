import CLibUUID
import Foundation

/// Mints every identifier of one namespace (a region, or the provider world) from libuuid.
///
/// Without a seed each ID is a random UUID (`uuid_generate_random`). With a seed each ID is
/// the name-based SHA-1 UUID (`uuid_generate_sha1`, the same as Python's `uuid.uuid5`) of
/// `"<scope>:<n>"` in the namespace `uuid5(NAMESPACE_URL, "nylas-sim:<seed>:<namespace>")`,
/// where `n` counts the IDs minted so far in that namespace: the same run gives the same IDs.
package struct IDGenerator {
    package let seed: String?
    private let namespace: uuid_t
    package private(set) var counter: Int

    package init(seed: String?, namespace name: String, counter: Int = 0) {
        self.seed = seed
        self.counter = counter
        var ns = IDGenerator.urlNamespace
        if let seed {
            ns = IDGenerator.sha1(namespace: ns, name: "nylas-sim:\(seed):\(name)")
        }
        self.namespace = ns
    }

    /// RFC 4122 namespace for URLs (6ba7b811-9dad-11d1-80b4-00c04fd430c8).
    package static let urlNamespace: uuid_t = (
        0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8
    )

    package static func sha1(namespace: uuid_t, name: String) -> uuid_t {
        var ns = namespace
        var out: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &out) { outPtr in
            withUnsafeMutableBytes(of: &ns) { nsPtr in
                let bytes = Array(name.utf8)
                bytes.withUnsafeBufferPointer { namePtr in
                    uuid_generate_sha1(
                        outPtr.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        nsPtr.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        namePtr.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                        bytes.count)
                }
            }
        }
        return out
    }

    package static func random() -> uuid_t {
        var out: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &out) { uuid_generate_random($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        return out
    }

    /// The lowercase 8-4-4-4-12 form, as `uuid_unparse_lower` writes it (without its `sprintf`:
    /// a request ID is minted on every request).
    package static func format(_ u: uuid_t) -> String {
        withUnsafeBytes(of: u) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                let hex: StaticString = "0123456789abcdef"
                var i = 0
                for (n, byte) in raw.enumerated() {
                    if n == 4 || n == 6 || n == 8 || n == 10 {
                        out[i] = UInt8(ascii: "-")
                        i += 1
                    }
                    out[i] = hex.utf8Start[Int(byte >> 4)]
                    out[i + 1] = hex.utf8Start[Int(byte & 0x0f)]
                    i += 2
                }
                return i
            }
        }
    }

    /// The next 16 raw bytes of this namespace.
    package mutating func nextBytes(_ scope: String) -> [UInt8] {
        counter += 1
        let u = seed == nil ? IDGenerator.random() : IDGenerator.sha1(namespace: namespace, name: "\(scope):\(counter)")
        return withUnsafeBytes(of: u) { Array($0) }
    }

    /// A lowercase UUID string (grant IDs, request IDs, redirect-URI IDs...).
    package mutating func uuid(_ scope: String) -> String {
        counter += 1
        let u = seed == nil ? IDGenerator.random() : IDGenerator.sha1(namespace: namespace, name: "\(scope):\(counter)")
        return IDGenerator.format(u)
    }

    /// `length` characters of lowercase base 36 (v2 object IDs are 25 of them).
    package mutating func base36(_ scope: String, length: Int = 25) -> String {
        encode(scope, alphabet: Array("0123456789abcdefghijklmnopqrstuvwxyz"), length: length)
    }

    /// `length` characters of mixed-case base 62 (tokens, secrets, webhook IDs).
    package mutating func base62(_ scope: String, length: Int) -> String {
        encode(scope, alphabet: Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"), length: length)
    }

    /// `length` lowercase hex digits (Gmail-style message and thread IDs).
    package mutating func hex(_ scope: String, length: Int = 16) -> String {
        encode(scope, alphabet: Array("0123456789abcdef"), length: length)
    }

    private mutating func encode(_ scope: String, alphabet: [Character], length: Int) -> String {
        var out = ""
        out.reserveCapacity(length)
        var part = 0
        while out.count < length {
            let bytes = nextBytes(part == 0 ? scope : "\(scope)+\(part)")
            part += 1
            for b in bytes where out.count < length {
                out.append(alphabet[Int(b) % alphabet.count])
            }
        }
        return out
    }
}
