import Foundation

/// Message bodies and attachment contents of 64 KiB or more, kept once beside the databases
/// rather than inside their rows.
///
/// Written into SQLite, a 24 MiB body is copied into some 6,000 pages, once into the provider
/// world and once more into the region's view, under the state lock: 50 to 200 ms during which
/// every other request waits. Kept here, each row holds a short reference and both references
/// name the same Swift value (not a copy), so that a send holds the lock only for bounded work.
///
/// A reference is stored in the other storage class than its column's: a BLOB in a column
/// declared `TEXT` (`messages.body`), a TEXT in a column declared `BLOB` (`attachments.content`).
/// Nothing else writes that class there, so `SQLiteDatabase` tells a reference from a value and
/// reads it back as the value it stands for. SQL that must see the value itself (a search with
/// `LIKE`) calls `sim_value(column)`.
///
/// With `--data-dir` each value is also a file under `large/`, written and synced before the
/// transaction that names it commits. Values that no row names any more (a message deleted, a
/// transaction rolled back) are dropped by `collect`, which the engine runs after a commit once
/// the bytes added since the last collection pass those kept then.
package final class LargeValues {
    /// The size from which a value is kept here.
    package static let threshold = 64 * 1024
    /// A reference: this prefix, then a 36-character key.
    static let prefix: [UInt8] = Array("nylas-sim:large:".utf8)
    static let referenceLength = prefix.count + 36

    package enum Value {
        case text(String)
        case bytes([UInt8])

        var count: Int {
            switch self {
            case .text(let s): return s.utf8.count
            case .bytes(let b): return b.count
            }
        }
    }

    private var values: [String: Value] = [:]
    /// The key of each value by the address of its storage: a value stored again (the same body
    /// saved into the world, then the region, then again when its flags change) is not kept twice.
    /// The addresses stay unique because `values` keeps each value alive.
    private var keysByStorage: [UInt: String] = [:]
    private let directory: String?
    /// Bytes kept now, and when `collect` last ran.
    private(set) var bytes = 0
    private var bytesAtCollection = 0

    package init(directory: String?) throws {
        self.directory = directory.map { "\($0)/large" }
        if let dir = self.directory {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }

    /// The reference to store for a value of at least `threshold` bytes.
    func reference(for value: Value) throws -> [UInt8] {
        let storage = Self.storageAddress(value)
        if let storage, let key = keysByStorage[storage], let kept = values[key], kept.count == value.count {
            return Self.prefix + Array(key.utf8)
        }
        let key = UUID().uuidString.lowercased()
        if let directory { try Self.write(value, to: "\(directory)/\(key)") }
        values[key] = value
        if let storage { keysByStorage[storage] = key }
        bytes += value.count
        return Self.prefix + Array(key.utf8)
    }

    /// The key of a reference, or nil when `raw` is not one.
    static func key(_ raw: UnsafeRawBufferPointer) -> String? {
        guard raw.count == referenceLength, raw.prefix(prefix.count).elementsEqual(prefix) else { return nil }
        return String(decoding: raw.dropFirst(prefix.count), as: UTF8.self)
    }

    /// The value a reference stands for (read from its file after a restart).
    func value(_ raw: UnsafeRawBufferPointer) -> Value? {
        guard let key = Self.key(raw) else { return nil }
        if let v = values[key] { return v }
        guard let directory, let data = FileManager.default.contents(atPath: "\(directory)/\(key)"), let kind = data.first else {
            return nil
        }
        let v: Value = kind == UInt8(ascii: "t") ? .text(String(decoding: data.dropFirst(), as: UTF8.self)) : .bytes(Array(data.dropFirst()))
        values[key] = v
        if let storage = Self.storageAddress(v) { keysByStorage[storage] = key }
        bytes += v.count
        return v
    }

    /// Whether enough was added since the last collection for another to be worth its scan.
    var collectionDue: Bool {
        bytes - bytesAtCollection >= 64 * 1024 * 1024 && bytes > 2 * bytesAtCollection
    }

    /// Drops every value (and file) whose key is not in `referenced`.
    func collect(referenced: Set<String>) {
        for (key, v) in values where !referenced.contains(key) {
            values[key] = nil
            bytes -= v.count
            if let storage = Self.storageAddress(v) { keysByStorage[storage] = nil }
        }
        if let directory, let files = try? FileManager.default.contentsOfDirectory(atPath: directory) {
            for file in files where !referenced.contains(file) { try? FileManager.default.removeItem(atPath: "\(directory)/\(file)") }
        }
        bytesAtCollection = bytes
    }

    /// Drops everything (`POST /__sim/reset`).
    func removeAll() { collect(referenced: []) }

    private static func storageAddress(_ v: Value) -> UInt? {
        switch v {
        case .text(let s): return s.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) } ?? nil
        case .bytes(let b): return b.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        }
    }

    /// One byte for the kind (`t` text, `b` bytes), then the value; synced before it is named.
    private static func write(_ v: Value, to path: String) throws {
        var data = Data()
        switch v {
        case .text(let s): data.append(UInt8(ascii: "t")); data.append(contentsOf: s.utf8)
        case .bytes(let b): data.append(UInt8(ascii: "b")); data.append(contentsOf: b)
        }
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw SQLiteError(code: 10, message: "cannot create \(path)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.write(contentsOf: data)
        try handle.synchronize()
    }
}
