import BidlineCore
import BidlineSimulation

/// The recovery tests' scripted run: the shared seeded generator (`BidlineSimulation.CommandScenario`).
typealias Scenario = CommandScenario

extension CommandScenario {
    /// The reference state hash after the first `count` commands of a scenario with `seed`.
    static func hash(seed: UInt64, after count: Int) -> String {
        var scenario = Scenario(seed: seed)
        scenario.run(steps: count)
        return scenario.engine.stateHash()
    }
}
