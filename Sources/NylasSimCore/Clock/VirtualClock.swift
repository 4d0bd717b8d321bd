import Foundation

/// An instant on the simulator's virtual clock: milliseconds since the Unix epoch.
public struct VirtualTime: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    /// Unix seconds; values beyond ``VirtualTime/range`` are clamped to it rather than overflowing.
    public init(seconds: Int) {
        self.milliseconds = Self.clamp(Int64(seconds).multipliedReportingOverflow(by: 1000), sign: seconds)
    }
    public init(_ date: Date) {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        self.milliseconds = ms.isFinite ? Int64(min(max(ms, Double(Self.range.lowerBound)), Double(Self.range.upperBound))) : 0
    }

    /// The instants the simulator represents: 0001-01-01T00:00:00Z through 9999-12-31T23:59:59.999Z.
    /// Arithmetic saturates at these ends, so no input can make the clock overflow.
    public static let range: ClosedRange<Int64> = -62_135_596_800_000 ... 253_402_300_799_999

    /// Whether `seconds` (Unix seconds from a request, a scenario or a config file) lies in ``range``.
    public static func isRepresentable(seconds: Int) -> Bool {
        (range.lowerBound / 1000 ... range.upperBound / 1000).contains(Int64(seconds))
    }

    private static func clamp(_ result: (partialValue: Int64, overflow: Bool), sign: some BinaryInteger) -> Int64 {
        if result.overflow { return sign < 0 ? range.lowerBound : range.upperBound }
        return min(max(result.partialValue, range.lowerBound), range.upperBound)
    }

    /// Unix seconds, as Nylas timestamps are written.
    public var seconds: Int { Int(milliseconds.dividedRoundingDown(by: 1000)) }
    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    public static func < (a: VirtualTime, b: VirtualTime) -> Bool { a.milliseconds < b.milliseconds }
    public static func + (t: VirtualTime, d: Duration) -> VirtualTime {
        let ms = d.milliseconds
        return VirtualTime(milliseconds: clamp(t.milliseconds.addingReportingOverflow(ms), sign: ms))
    }
    public static func - (t: VirtualTime, d: Duration) -> VirtualTime {
        let ms = d.milliseconds
        return VirtualTime(milliseconds: clamp(t.milliseconds.subtractingReportingOverflow(ms), sign: ms == .min ? 1 : -ms))
    }
    public static func - (a: VirtualTime, b: VirtualTime) -> Duration {
        let (ms, overflow) = a.milliseconds.subtractingReportingOverflow(b.milliseconds)
        return .milliseconds(overflow ? (a < b ? Int64.min : Int64.max) : ms)
    }

    /// ISO 8601 with milliseconds, UTC.
    public var description: String { DateText.iso8601(milliseconds: milliseconds) }

    /// Parses ISO 8601 (with or without fractional seconds) or Unix seconds.
    /// Instants outside ``range`` are refused (nil), not clamped.
    public init?(parsing text: String) {
        if let n = Int(text) {
            guard Self.isRepresentable(seconds: n) else { return nil }
            self.init(seconds: n)
            return
        }
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
    /// Whole milliseconds in this duration, saturating at `Int64.min` and `Int64.max`.
    public var milliseconds: Int64 {
        let c = components
        let (ms, overflow) = c.seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return c.seconds < 0 ? .min : .max }
        let (sum, overflow2) = ms.addingReportingOverflow(c.attoseconds / 1_000_000_000_000_000)
        return overflow2 ? (ms < 0 ? .min : .max) : sum
    }

    /// The longest duration accepted from input: 10,000 years, longer than the whole of ``VirtualTime/range``.
    public static let longestAccepted: Duration = .seconds(315_576_000_000)

    /// The longest one clock move may be (`advance`, or `to` from now): 400 days. Every job due on
    /// the way runs (an IMAP grant syncs every 10 minutes, 57,600 times in 400 days), so a longer
    /// move is made of several calls, each answered in bounded time.
    public static let longestAdvance: Duration = .seconds(400 * 86_400)

    /// A duration of `seconds` (a number from a request or a file), or nil when it is not finite
    /// or longer than ``longestAccepted`` either way.
    public init?(checkedSeconds seconds: Double) {
        let ms = (seconds * 1000).rounded()
        guard ms.isFinite, abs(ms) <= Double(Duration.longestAccepted.milliseconds) else { return nil }
        self = .milliseconds(Int64(ms))
    }

    /// Parses `90`, `90s`, `10m`, `1h30m`, `3d`, `500ms`: the duration syntax of the control API and scenarios.
    /// Nil for anything else, for non-finite numbers and for durations beyond ``longestAccepted``.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.isEmpty { return nil }
        if let n = Double(t) {
            guard let d = Duration(checkedSeconds: n) else { return nil }
            self = d
            return
        }
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
        guard let d = Duration(checkedSeconds: total) else { return nil }
        self = d
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

    /// The rates a running clock accepts: from stopped to 10,000 virtual seconds per wall second
    /// (a day in under 9 s). Faster, the due jobs (IMAP sync ticks above all) outrun the machine.
    public static let rates: ClosedRange<Double> = 0 ... 10_000
    private var anchorVirtual: Int64
    private var anchorWall: ContinuousClock.Instant

    package init(start: VirtualTime, mode: Mode, rate: Double) {
        self.mode = mode
        self.rate = rate
        self.anchorVirtual = start.milliseconds
        self.anchorWall = .now
    }

    /// The current virtual time.
    public var now: VirtualTime {
        guard mode == .running else { return VirtualTime(milliseconds: anchorVirtual) }
        let elapsed = ContinuousClock.now - anchorWall
        let advanced = Double(anchorVirtual) + Double(elapsed.milliseconds) * rate
        return VirtualTime(milliseconds: Int64(min(advanced, Double(VirtualTime.range.upperBound))))
    }

    /// Moves the clock to `time` (never backwards) and re-anchors it to the wall clock.
    package mutating func set(_ time: VirtualTime) {
        let current = now
        anchorVirtual = max(current, time).milliseconds
        anchorWall = .now
    }

    package mutating func setMode(_ mode: Mode, rate: Double?) {
        let current = now
        self.mode = mode
        if let rate { self.rate = rate }
        anchorVirtual = current.milliseconds
        anchorWall = .now
    }

    /// Wall-clock time until virtual time reaches `time` (running mode), nil in manual mode.
    package func wallDelay(until time: VirtualTime) -> Duration? {
        guard mode == .running, rate > 0 else { return nil }
        let remaining = time.milliseconds - now.milliseconds
        let wall = Double(remaining) / rate
        return .milliseconds(wall < 9e15 ? max(0, Int64(wall)) : 9_000_000_000_000_000)
    }

    package var json: JSON {
        ["now": .string(now.description), "now_unix": .int(now.seconds), "now_ms": .int(Int(now.milliseconds)),
         "mode": .string(mode.rawValue), "rate": .double(rate)]
    }
}
