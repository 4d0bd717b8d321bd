import Foundation
import NylasSimulator

/// `scenarios`: replays every `scenarios/*.yaml`, each on a fresh in-process simulator, as
/// `nylas-sim replay` does; wall time of the whole set, median over repeats.
enum ScenarioBench {
    static func run(_ args: Arguments) async throws {
        let dir = args.string("dir", "scenarios")
        let runs = args.int("runs", 5)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { "\(dir)/\($0)" }
        header("scenarios: \(files.count) files in \(dir)/, \(runs) runs")
        guard !files.isEmpty else { throw BenchError("no scenario files in \(dir)") }
        let scenarios = try files.map { try Scenario.load(path: $0) }
        var totals: [Double] = []
        var perFile: [String: [Double]] = [:]
        var passed = 0
        for run in 0..<(runs + 1) {
            var total = 0.0
            passed = 0
            for (file, scenario) in zip(files, scenarios) {
                var result: ScenarioResult?
                let t = try await measureAsync { result = try await ScenarioRunner.replay(scenario) }
                if result?.passed == true { passed += 1 }
                if run > 0 { perFile[file, default: []].append(t.ms) }
                total += t.ms
            }
            if run > 0 { totals.append(total) }  // run 0 warms up
        }
        for file in files {
            note("\(URL(fileURLWithPath: file).lastPathComponent): median \(fmt(Stats(perFile[file]!).median)) ms")
        }
        let s = Stats(totals)
        report("scenarios: replay all \(files.count)", s.median, "ms", target: .none,
               "runs=\(runs) (after 1 warm-up) passed=\(passed)/\(files.count) min=\(fmt(s.min)) max=\(fmt(s.max)) ms")
    }
}
