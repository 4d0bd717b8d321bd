import Foundation

/// An instant on the simulator's virtual clock: milliseconds since the Unix epoch.
public struct VirtualTime: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public init(seconds: Int) { self.milliseconds = Int64(seconds) * 1000 }
    public init(_ date: Date) { self.milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    /// Unix seconds, as Nylas timestamps are written.
    public var seconds: Int { Int(milliseconds.dividedRoundingDown(by: 1000)) }
    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    public static func < (a: VirtualTime, b: VirtualTime) -> Bool { a.milliseconds < b.milliseconds }
    public static func + (t: VirtualTime, d: Duration) -> VirtualTime { VirtualTime(milliseconds: t.milliseconds + d.milliseconds) }
    public static func - (t: VirtualTime, d: Duration) -> VirtualTime { VirtualTime(milliseconds: t.milliseconds - d.milliseconds) }
    public static func - (a: VirtualTime, b: VirtualTime) -> Duration { .milliseconds(a.milliseconds - b.milliseconds) }

    /// ISO 8601 with milliseconds, UTC.
    public var description: String { DateText.iso8601(milliseconds: milliseconds) }

    /// Parses ISO 8601 (with or without fractional seconds) or Unix seconds.
    public init?(parsing text: String) {
        if let n = Int(text) { self.init(seconds: n); return }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { self.init(d); return }
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { self.init(d); return }
        return nil
    }
}

extension Int64 {
    fileprivate func dividedRoundingDown(by d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}

extension Duration {
    /// Whole milliseconds in this duration.
    public var milliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }

    /// Parses `90`, `90s`, `10m`, `1h30m`, `3d`, `500ms`: the duration syntax of the control API and scenarios.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.isEmpty { return nil }
        if let n = Double(t) { self = .milliseconds(Int64(n * 1000)); return }
        var total: Double = 0
        var number = ""
        var i = t.startIndex
        while i < t.endIndex {
            let c = t[i]
            if c.isNumber || c == "." {
                number.append(c)
                i = t.index(after: i)
                continue
            }
            var unit = String(c)
            let next = t.index(after: i)
            if c == "m", next < t.endIndex, t[next] == "s" { unit = "ms"; i = next }
            guard let n = Double(number) else { return nil }
            switch unit {
            case "ms": total += n / 1000
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3600
            case "d": total += n * 86400
            case "w": total += n * 604800
            default: return nil
            }
            number = ""
            i = t.index(after: i)
        }
        if !number.isEmpty { return nil }
        self = .milliseconds(Int64((total * 1000).rounded()))
    }
}

/// The simulator's one clock.
///
/// In `manual` mode time moves only when advanced; in `running` mode it follows the wall
/// clock multiplied by `rate`, from the instant it was last set.
public struct ClockState: Sendable {
    public enum Mode: String, Sendable, Codable { case manual, running }

    public private(set) var mode: Mode
    public private(set) var rate: Double
    private var anchorVirtual: Int64
    private var anchorWall: ContinuousClock.Instant

    init(start: VirtualTime, mode: Mode, rate: Double) {
        self.mode = mode
        self.rate = rate
        self.anchorVirtual = start.milliseconds
        self.anchorWall = .now
    }

    /// The current virtual time.
    public var now: VirtualTime {
        guard mode == .running else { return VirtualTime(milliseconds: anchorVirtual) }
        let elapsed = ContinuousClock.now - anchorWall
        return VirtualTime(milliseconds: anchorVirtual + Int64(Double(elapsed.milliseconds) * rate))
    }

    /// Moves the clock to `time` (never backwards) and re-anchors it to the wall clock.
    mutating func set(_ time: VirtualTime) {
        let current = now
        anchorVirtual = max(current, time).milliseconds
        anchorWall = .now
    }

    mutating func setMode(_ mode: Mode, rate: Double?) {
        let current = now
        self.mode = mode
        if let rate { self.rate = rate }
        anchorVirtual = current.milliseconds
        anchorWall = .now
    }

    /// Wall-clock time until virtual time reaches `time` (running mode), nil in manual mode.
    func wallDelay(until time: VirtualTime) -> Duration? {
        guard mode == .running, rate > 0 else { return nil }
        let remaining = time.milliseconds - now.milliseconds
        return .milliseconds(max(0, Int64(Double(remaining) / rate)))
    }

    var json: JSON {
        ["now": .string(now.description), "now_unix": .int(now.seconds), "now_ms": .int(Int(now.milliseconds)),
         "mode": .string(mode.rawValue), "rate": .double(rate)]
    }
}
