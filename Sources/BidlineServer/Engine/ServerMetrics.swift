import BidlineCore
import BidlineProtocol
import BidlineStorage
import Foundation
import Prometheus
import Synchronization

/// The server's metrics, kept in its own Prometheus registry (no process-wide bootstrap, so several servers
/// can run in one test process). `METRICS` returns the registry's text format.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let requests: Counter
    public let bids: Counter
    public let storageFailures: Counter
    public let connections: Gauge
    public let batchSize: ValueHistogram
    public let batchLatency: DurationHistogram
    let rejections: [Counter]
    /// Requests parsed, by verb (indexed by `Verb.rawValue`).
    let requestsByVerb: [Counter]
    let rate = Mutex<(atMillis: Int64, total: Int64, perSecond: Int64)>((0, 0, 0))

    public init() {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "bidline", metricName: metric, unitName: unit, helpText: help)
        }
        requests = registry.makeCounter(descriptor: name("requests", "total", "Requests handled by the engine host"))
        bids = registry.makeCounter(descriptor: name("bid_requests", "total", "BID requests journaled"))
        storageFailures = registry.makeCounter(descriptor: name("storage_failures", "total", "Batches whose durability failed"))
        connections = registry.makeGauge(descriptor: name("connections", "open", "Open client connections"))
        batchSize = registry.makeValueHistogram(
            descriptor: name("batch", "requests", "Requests per batch"), buckets: [1, 2, 4, 8, 16, 64, 256, 1024, 4096])
        batchLatency = registry.makeDurationHistogram(
            descriptor: name("batch", "seconds", "Time from a batch's arrival to its durable replies (includes the log fsync)"),
            buckets: [.microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                      .milliseconds(2), .milliseconds(5), .milliseconds(20), .milliseconds(100)])
        let registry = self.registry
        requestsByVerb = Verb.allCases.map {
            registry.makeCounter(descriptor: name("requests_by_verb", "total", "Requests parsed, by verb"), labels: [("verb", CommandTable.spec($0).name)])
        }
        rejections = ProtocolError.Code.allCases.map {
            registry.makeCounter(
                descriptor: name("rejections", "total", "Requests refused, by code"), labels: [("code", $0.wireText)])
        }
    }

    /// Counts a parsed request of `verb`.
    public func parsed(_ verb: Verb) { requestsByVerb[Int(verb.rawValue)].increment() }

    /// Counts a refusal by its wire code (`code.index` is dense: no search).
    public func rejected(_ code: ProtocolError.Code) { rejections[code.index].increment() }

    /// Counts a refusal with one of the engine's codes.
    public func rejected(_ code: RejectCode) { rejected(.rejected(code)) }

    /// Accepted bids per second over the last second or more (updated when read).
    public func bidsPerSecond(total: Int64) -> Int64 {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return rate.withLock { state in
            let elapsed = now - state.atMillis
            if elapsed >= 1000 {
                state.perSecond = state.atMillis == 0 ? 0 : (total - state.total) * 1000 / elapsed
                state = (now, total, state.perSecond)
            }
            return state.perSecond
        }
    }

    /// Prometheus text lines, with the engine's gauges refreshed first.
    func prometheusText(
        engine: Engine, durableSequence: UInt64, log: WALWriterStatistics, rounds: (onLoop: Int, toLogThread: Int)
    ) -> [String] {
        let stats = engine.state.stats
        let gauges: [(String, String, Int64)] = [
            ("bidline_log_records_written_total", "Log records made durable since start", Int64(log.recordsWritten)),
            ("bidline_log_groups_written_total", "Group commits since start", Int64(log.groupsWritten)),
            ("bidline_log_syncs_total", "Log data syncs since start", Int64(log.synchronizations)),
            ("bidline_log_sync_micros_mean", "Mean log fsync latency, microseconds",
             log.synchronizations > 0 ? Int64(log.syncNanosTotal / UInt64(log.synchronizations) / 1_000) : 0),
            ("bidline_log_sync_micros_max", "Longest log fsync, microseconds", Int64(log.syncNanosMax / 1_000)),
            ("bidline_log_failed_attempts_total", "Failed log writes or syncs", Int64(log.failedAttempts)),
            ("bidline_log_segments_created_total", "Log segments started since start", Int64(log.segmentsCreated)),
            ("bidline_log_segments_preallocated_total", "Of those, segments that were zero-filled in advance",
             Int64(log.segmentsPreallocated)),
            ("bidline_log_spare_failures_total", "Spare segments that could not be zero-filled (e.g. a full disk)",
             Int64(log.sparePreparationsFailed)),
            ("bidline_log_rounds_committed_on_loop_total", "Rounds of batches the engine loop wrote and synced itself",
             Int64(rounds.onLoop)),
            ("bidline_log_rounds_to_log_thread_total", "Rounds of batches handed to the log thread (--log-commits auto)",
             Int64(rounds.toLogThread)),
            ("bidline_users", "Registered users", stats.users),
            ("bidline_listings_open", "Open listings", stats.listingsOpen),
            ("bidline_frozen_cents", "Money frozen in bids, cents", stats.frozenCents),
            ("bidline_bids_accepted_total", "Bids accepted since the beginning of the log", stats.bidsAccepted),
            ("bidline_bids_per_second", "Accepted bids per second", bidsPerSecond(total: stats.bidsAccepted)),
            ("bidline_durable_sequence", "Last durable log sequence", Int64(durableSequence)),
        ]
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        for (name, help, value) in gauges {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) gauge")
            lines.append("\(name) \(value)")
        }
        return lines
    }
}
