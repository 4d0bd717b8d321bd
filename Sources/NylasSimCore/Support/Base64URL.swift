/// URL-safe base64 without padding (RFC 4648 §5), on bytes: IMAP message IDs are minted and read
/// with it on every send and every GET of such a message.
package enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    /// The value of each byte of the alphabet, standard (`+`, `/`) and URL-safe (`-`, `_`); 0xFF otherwise.
    private static let values: [UInt8] = {
        var v = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { v[Int(c)] = UInt8(i) }
        v[Int(UInt8(ascii: "+"))] = 62
        v[Int(UInt8(ascii: "/"))] = 63
        return v
    }()

    package static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)]); out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
            if rest == 2 { out.append(alphabet[Int(n >> 6 & 63)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of URL-safe (or standard) base64, padded or not; nil when it is not base64.
    package static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var n: UInt32 = 0, bits = 0, padding = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") { padding += 1; continue }
            // Nothing but padding after the first `=`.
            guard padding == 0 else { return nil }
            let v = values[Int(c)]
            guard v != 0xFF else { return nil }
            n = n << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: n >> UInt32(bits)))
                n &= (1 << UInt32(bits)) - 1
            }
        }
        // A lone sixth of a byte is not base64 (one symbol past a whole group), nor is too much padding.
        let symbols = text.utf8.count - padding
        if symbols % 4 == 1 || padding > 2 || (padding > 0 && (symbols + padding) % 4 != 0) { return nil }
        return out
    }
}
