import BidlineCore
import BidlineProtocol
import BidlineStorage
import Foundation
import Prometheus
import Synchronization

/// The server's metrics, every series a metric of its own Prometheus registry (no process-wide bootstrap, so
/// several servers can run in one test process). `METRICS` and the `--metrics-port` endpoint both render the
/// registry's text format (``render(_:)``).
///
/// Counters on the request path (``requests``, ``bids``, rejections, …) are lock-free atomic increments, O(1).
/// Values whose truth lives elsewhere (the log's statistics, the engine state) are copied into their counters
/// and gauges when the registry is rendered.
public final class ServerMetrics: Sendable {
    /// The registry every series below belongs to.
    public let registry = PrometheusCollectorRegistry()
    /// Requests handled by the engine host.
    public let requests: Counter
    /// `BID` requests journaled.
    public let bids: Counter
    /// Batches whose durability failed (their write replies became `ERR UNAVAILABLE`).
    public let storageFailures: Counter
    /// Open client connections.
    public let connections: Gauge
    /// Requests per batch.
    public let batchSize: ValueHistogram
    /// Time from a batch's arrival to its durable replies.
    public let batchLatency: DurationHistogram
    /// Requests parsed, by verb (indexed by `Verb.rawValue`).
    let requestsByVerb: [Counter]
    /// Refusals by wire code, indexed by `ProtocolError.Code.index` (dense: no search).
    let rejections: [Counter]
    /// Totals kept elsewhere, as counters, and the last total each was advanced to.
    let totals: [Counter]
    let totalsRendered = Mutex<[Int64]>(Array(repeating: 0, count: HostTotal.allCases.count))
    /// Levels read elsewhere, as gauges.
    let levels: [Gauge]
    /// Log sync time, seconds (a counter of the log's running total: `rate(sum) / rate(syncs)` is the mean).
    let logSyncSeconds: Counter
    let logSyncNanosRendered = Mutex<UInt64>(0)
    let rate = Mutex<(atMillis: Int64, total: Int64, perSecond: Int64)>((0, 0, 0))

    /// A registry with every series in place (at zero).
    public init() {
        let registry = self.registry
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "bidline", metricName: metric, unitName: unit, helpText: help)
        }
        requests = registry.makeCounter(descriptor: name("requests", "total", "Requests handled by the engine host"))
        bids = registry.makeCounter(descriptor: name("bid_requests", "total", "BID requests journaled"))
        storageFailures = registry.makeCounter(
            descriptor: name("storage_failures", "total", "Batches whose durability failed"))
        connections = registry.makeGauge(descriptor: name("connections", "open", "Open client connections"))
        batchSize = registry.makeValueHistogram(
            descriptor: name("batch", "requests", "Requests per batch"), buckets: [1, 2, 4, 8, 16, 64, 256, 1024, 4096])
        batchLatency = registry.makeDurationHistogram(
            descriptor: name(
                "batch", "seconds", "Time from a batch's arrival to its durable replies (includes the log fsync)"),
            buckets: [
                .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                .milliseconds(2), .milliseconds(5), .milliseconds(20), .milliseconds(100),
            ])
        requestsByVerb = Verb.allCases.map {
            registry.makeCounter(
                descriptor: name("requests_by_verb", "total", "Requests parsed, by verb"),
                labels: [("verb", CommandTable.spec($0).name)])
        }
        rejections = ProtocolError.Code.allCases.map {
            registry.makeCounter(
                descriptor: name("rejections", "total", "Requests refused, by code"), labels: [("code", $0.wireText)])
        }
        totals = HostTotal.allCases.map {
            registry.makeCounter(descriptor: name($0.name, "total", $0.help))
        }
        levels = HostLevel.allCases.map {
            registry.makeGauge(descriptor: name($0.name, "", $0.help))
        }
        logSyncSeconds = registry.makeCounter(
            descriptor: name("log_sync_seconds", "total", "Time spent in log data syncs, seconds"))
    }

    /// Counts a parsed request of `verb`. O(1), lock-free.
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

    /// The registry's Prometheus text format, with the totals and levels of `reading` copied in first.
    /// Thread-safe; O(series).
    public func render(_ reading: HostReading) -> [UInt8] {
        totalsRendered.withLock { rendered in
            for total in HostTotal.allCases {
                let value = total.value(in: reading)
                // Counters never go down: a total that did (none should) is left where it was.
                if value > rendered[total.rawValue] {
                    totals[total.rawValue].increment(by: value - rendered[total.rawValue])
                    rendered[total.rawValue] = value
                }
            }
        }
        logSyncNanosRendered.withLock { rendered in
            let nanos = reading.log.syncNanosTotal
            if nanos > rendered {
                logSyncSeconds.increment(by: Double(nanos - rendered) / 1e9)
                rendered = nanos
            }
        }
        let bidsPerSecond = bidsPerSecond(total: reading.stats.bidsAccepted)
        for level in HostLevel.allCases {
            levels[level.rawValue].set(level.value(in: reading, bidsPerSecond: bidsPerSecond))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 << 10)
        registry.emit(into: &bytes)
        return bytes
    }
}

/// What the metrics read from the engine host when rendered: the log's statistics, the commit rounds and the
/// engine's figures.
public struct HostReading: Sendable {
    /// The log writer's counts since start.
    public var log: WALWriterStatistics
    /// Rounds the loop committed itself (``LogCommits/engineLoop``, ``LogCommits/adaptive``).
    public var roundsCommittedOnLoop: Int
    /// Rounds handed to the log thread by ``LogCommits/adaptive``.
    public var roundsHandedToLogThread: Int
    /// The engine's running figures.
    public var stats: Stats
    /// The last durable log sequence.
    public var durableSequence: UInt64

    /// A reading of these values.
    public init(
        log: WALWriterStatistics, roundsCommittedOnLoop: Int, roundsHandedToLogThread: Int, stats: Stats,
        durableSequence: UInt64
    ) {
        self.log = log
        self.roundsCommittedOnLoop = roundsCommittedOnLoop
        self.roundsHandedToLogThread = roundsHandedToLogThread
        self.stats = stats
        self.durableSequence = durableSequence
    }
}

/// Totals counted elsewhere, exported as counters (`bidline_<name>_total`).
enum HostTotal: Int, CaseIterable {
    case logRecordsWritten, logGroupsWritten, logSyncs, logFailedAttempts, logSegmentsCreated
    case logSegmentsPreallocated, logSpareFailures, roundsCommittedOnLoop, roundsHandedToLogThread, bidsAccepted

    var name: String {
        switch self {
        case .logRecordsWritten: "log_records_written"
        case .logGroupsWritten: "log_groups_written"
        case .logSyncs: "log_syncs"
        case .logFailedAttempts: "log_failed_attempts"
        case .logSegmentsCreated: "log_segments_created"
        case .logSegmentsPreallocated: "log_segments_preallocated"
        case .logSpareFailures: "log_spare_failures"
        case .roundsCommittedOnLoop: "log_rounds_committed_on_loop"
        case .roundsHandedToLogThread: "log_rounds_to_log_thread"
        case .bidsAccepted: "bids_accepted"
        }
    }

    var help: String {
        switch self {
        case .logRecordsWritten: "Log records made durable since start"
        case .logGroupsWritten: "Group commits since start"
        case .logSyncs: "Log data syncs since start"
        case .logFailedAttempts: "Failed log writes or syncs"
        case .logSegmentsCreated: "Log segments started since start"
        case .logSegmentsPreallocated: "Of those, segments that were zero-filled in advance"
        case .logSpareFailures: "Spare segments that could not be zero-filled (e.g. a full disk)"
        case .roundsCommittedOnLoop: "Rounds of batches the engine loop wrote and synced itself"
        case .roundsHandedToLogThread: "Rounds of batches handed to the log thread (--log-commits auto)"
        case .bidsAccepted: "Bids accepted since the beginning of the log"
        }
    }

    func value(in reading: HostReading) -> Int64 {
        switch self {
        case .logRecordsWritten: Int64(reading.log.recordsWritten)
        case .logGroupsWritten: Int64(reading.log.groupsWritten)
        case .logSyncs: Int64(reading.log.synchronizations)
        case .logFailedAttempts: Int64(reading.log.failedAttempts)
        case .logSegmentsCreated: Int64(reading.log.segmentsCreated)
        case .logSegmentsPreallocated: Int64(reading.log.segmentsPreallocated)
        case .logSpareFailures: Int64(reading.log.sparePreparationsFailed)
        case .roundsCommittedOnLoop: Int64(reading.roundsCommittedOnLoop)
        case .roundsHandedToLogThread: Int64(reading.roundsHandedToLogThread)
        case .bidsAccepted: reading.stats.bidsAccepted
        }
    }
}

/// Levels read elsewhere, exported as gauges (`bidline_<name>`).
enum HostLevel: Int, CaseIterable {
    case logSyncMicrosMean, logSyncMicrosMax, users, listingsOpen, frozenCents, bidsPerSecond, durableSequence

    /// The name without the namespace (`bidline_`): the names METRICS always had.
    var name: String {
        switch self {
        case .logSyncMicrosMean: "log_sync_micros_mean"
        case .logSyncMicrosMax: "log_sync_micros_max"
        case .users: "users"
        case .listingsOpen: "listings_open"
        case .frozenCents: "frozen_cents"
        case .bidsPerSecond: "bids_per_second"
        case .durableSequence: "durable_sequence"
        }
    }

    var help: String {
        switch self {
        case .logSyncMicrosMean: "Mean log fsync latency, microseconds"
        case .logSyncMicrosMax: "Longest log fsync, microseconds"
        case .users: "Registered users"
        case .listingsOpen: "Open listings"
        case .frozenCents: "Money frozen in bids, cents"
        case .bidsPerSecond: "Accepted bids per second"
        case .durableSequence: "Last durable log sequence"
        }
    }

    func value(in reading: HostReading, bidsPerSecond: Int64) -> Int64 {
        switch self {
        case .logSyncMicrosMean:
            reading.log.synchronizations > 0
                ? Int64(reading.log.syncNanosTotal / UInt64(reading.log.synchronizations) / 1_000) : 0
        case .logSyncMicrosMax: Int64(reading.log.syncNanosMax / 1_000)
        case .users: reading.stats.users
        case .listingsOpen: reading.stats.listingsOpen
        case .frozenCents: reading.stats.frozenCents
        case .bidsPerSecond: bidsPerSecond
        case .durableSequence: Int64(reading.durableSequence)
        }
    }
}

