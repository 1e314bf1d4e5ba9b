/// The metrics the host renders: `METRICS` and the `--metrics-port` endpoint read the same registry.
extension EngineHost {
    /// What the metrics copy in from the log and the engine when rendered.
    var metricsReading: HostReading {
        HostReading(
            log: wal.statistics, roundsCommittedOnLoop: scheduler.roundsCommittedOnLoop,
            roundsHandedToLogThread: scheduler.roundsHandedToLogThread, stats: engine.state.stats,
            durableSequence: wal.durableSequence)
    }

    /// The registry in the Prometheus text format, refreshed from the log's statistics and the engine state.
    public func prometheusText() -> [UInt8] { metrics.render(metricsReading) }

    /// The same text as lines, for the rows of `METRICS`.
    func prometheusLines() -> [String] {
        String(decoding: prometheusText(), as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
