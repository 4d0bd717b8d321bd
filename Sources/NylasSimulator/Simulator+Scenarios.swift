import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimControl
import NylasSimulatorTesting

extension Simulator {
    /// Starts recording API requests; `serve --record` writes them out at shutdown.
    public func startRecording() -> RequestRecorder {
        let recorder = RequestRecorder(start: now)
        core.requestObserver.withLock { $0 = { request, response, region, now in recorder.append(request, response, region: region, now: now) } }
        return recorder
    }

    /// Loads a scenario into this running simulator; its timeline runs against the live clock.
    @discardableResult
    public func load(_ scenario: Scenario) -> Task<ScenarioResult, Never> {
        ScenarioRunner.load(scenario, core: core)
    }
}

extension ScenarioRunner {
    /// Runs `scenario` against a fresh simulator seeded with its seed.
    public static func replay(_ scenario: Scenario) async throws -> ScenarioResult {
        var options = SimulatorOptions(seed: scenario.seed)
        options.clockMode = .manual
        if let apps = scenario.root["applications"] {
            let data = Data(apps.json.bytes)
            let regions = try JSONDecoder().decode([String: [SimulatorConfig.ApplicationConfig]].self, from: data)
            options.config = SimulatorConfig(seed: scenario.seed, regions: regions.mapValues { .init(applications: $0) })
        }
        let sim = try await Simulator.start(options)
        let runner = ScenarioRunner(core: sim.core, live: false)
        let result = await runner.run(scenario)
        await runner.stopReceivers()
        await sim.shutdown()
        return result
    }
}
