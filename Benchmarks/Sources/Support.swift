import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Arguments

/// `--name value` and `--flag` options after the subcommand.
struct Arguments {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []
    let positional: [String]

    init(_ args: [String]) {
        var rest: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            if a.hasPrefix("--") {
                let name = String(a.dropFirst(2))
                if let eq = name.firstIndex(of: "=") {
                    values[String(name[..<eq])] = String(name[name.index(after: eq)...])
                } else if i + 1 < args.count, !args[i + 1].hasPrefix("--") {
                    values[name] = args[i + 1]
                    i += 1
                } else {
                    flags.insert(name)
                }
            } else {
                rest.append(a)
            }
            i += 1
        }
        positional = rest
    }

    func string(_ name: String, _ fallback: String) -> String { values[name] ?? fallback }
    func optional(_ name: String) -> String? { values[name] }
    func int(_ name: String, _ fallback: Int) -> Int { values[name].flatMap { Int($0.replacingOccurrences(of: "_", with: "")) } ?? fallback }
    func double(_ name: String, _ fallback: Double) -> Double { values[name].flatMap(Double.init) ?? fallback }
    func flag(_ name: String) -> Bool { flags.contains(name) }
}

// MARK: - Timing and statistics

extension Duration {
    var ms: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
    var us: Double { ms * 1000 }
    var s: Double { ms / 1000 }
}

/// Wall time of `body` on the monotonic clock.
func measure(_ body: () throws -> Void) rethrows -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    try body()
    return clock.now - start
}

func measureAsync(_ body: () async throws -> Void) async rethrows -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    try await body()
    return clock.now - start
}

struct Stats {
    let sorted: [Double]
    init(_ samples: [Double]) { sorted = samples.sorted() }
    var count: Int { sorted.count }
    var median: Double { percentile(50) }
    var min: Double { sorted.first ?? .nan }
    var max: Double { sorted.last ?? .nan }
    var mean: Double { sorted.isEmpty ? .nan : sorted.reduce(0, +) / Double(sorted.count) }
    /// Nearest-rank percentile (median of an even count: the mean of the two middle samples).
    func percentile(_ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        if p == 50 {
            let n = sorted.count
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]
    }
}

// MARK: - Result lines

enum Target {
    case atMost(Double)
    case atLeast(Double)
    case none

    func check(_ v: Double) -> String {
        switch self {
        case .atMost(let t): return v <= t ? "PASS" : "MISS"
        case .atLeast(let t): return v >= t ? "PASS" : "MISS"
        case .none: return "info"
        }
    }

    func text(_ unit: String) -> String {
        switch self {
        case .atMost(let t): return "<= \(fmt(t)) \(unit)"
        case .atLeast(let t): return ">= \(fmt(t)) \(unit)"
        case .none: return "-"
        }
    }
}

func fmt(_ v: Double) -> String {
    if v.isNaN { return "n/a" }
    if v == v.rounded(), abs(v) < 1e12 { return String(Int(v)) }
    if abs(v) >= 100 { return String(format: "%.0f", v) }
    if abs(v) >= 10 { return String(format: "%.1f", v) }
    if abs(v) >= 1 { return String(format: "%.2f", v) }
    return String(format: "%.3f", v)
}

/// Prints one figure: `RESULT | name | value | target | status | detail`. The driver collects these lines.
func report(_ name: String, _ value: Double, _ unit: String, target: Target = .none, label: String = "median", _ detail: String = "") {
    let line = "RESULT | \(name) | \(label) \(fmt(value)) \(unit) | \(target.text(unit)) | \(target.check(value)) | \(detail)"
    print(line)
    fflush(nil)
}

func note(_ text: String) {
    print("  . \(text)")
    fflush(nil)
}

// MARK: - Memory

/// A field of `/proc/<pid>/status` in MiB (VmRSS, VmHWM).
func procStatusMiB(_ field: String, pid: Int32? = nil) -> Double {
    let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return .nan }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? .nan
        return kb / 1024
    }
    return .nan
}

/// Resets VmHWM to the current RSS (Linux: write 5 to clear_refs).
func resetPeakRSS() {
    if let fd = fopen("/proc/self/clear_refs", "w") {
        fputs("5", fd)
        fclose(fd)
    }
}

// MARK: - Misc

func temporaryDirectory(_ prefix: String) -> String {
    let dir = NSTemporaryDirectory() + "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func directorySizeMiB(_ dir: String) -> Double {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    var total = 0
    for f in files {
        let attrs = try? FileManager.default.attributesOfItem(atPath: dir + "/" + f)
        total += (attrs?[.size] as? Int) ?? 0
    }
    return Double(total) / 1_048_576
}

/// A deterministic generator so that every run of a benchmark does the same work.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func header(_ title: String) {
    print("\n== \(title)")
    fflush(nil)
}
