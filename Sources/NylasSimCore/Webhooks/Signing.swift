import CZlib
import Foundation

/// `x-nylas-signature`: lowercase hex HMAC-SHA256 of the exact body bytes.
package enum WebhookSignature {
    package static func sign(_ body: [UInt8], secret: String) -> String {
        Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), body))
    }

    /// Verifies a signature as receivers should (also accepting a `sha256=` prefix and upper case).
    package static func verify(_ body: [UInt8], signature: String, secret: String) -> Bool {
        var s = signature.lowercased()
        if s.hasPrefix("sha256=") { s.removeFirst(7) }
        return s == sign(body, secret: secret)
    }
}

/// gzip through the system zlib.
public enum Gzip {
    public static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b }

    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 selects the gzip wrapper.
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return input }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let produced: Int = input.withUnsafeMutableBufferPointer { inPtr in
            output.withUnsafeMutableBufferPointer { outPtr in
                stream.next_in = inPtr.baseAddress
                stream.avail_in = uInt(inPtr.count)
                stream.next_out = outPtr.baseAddress
                stream.avail_out = uInt(outPtr.count)
                _ = deflate(&stream, Z_FINISH)
                return outPtr.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }

    public static func decompress(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return [] }
        defer { inflateEnd(&stream) }
        var result: [UInt8] = []
        var input = input
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        input.withUnsafeMutableBufferPointer { inPtr in
            stream.next_in = inPtr.baseAddress
            stream.avail_in = uInt(inPtr.count)
            while true {
                let (rc, n): (Int32, Int) = chunk.withUnsafeMutableBufferPointer { outPtr in
                    stream.next_out = outPtr.baseAddress
                    stream.avail_out = uInt(outPtr.count)
                    let rc = inflate(&stream, Z_NO_FLUSH)
                    return (rc, outPtr.count - Int(stream.avail_out))
                }
                result.append(contentsOf: chunk.prefix(n))
                if rc != Z_OK { break }
            }
        }
        return result
    }
}
