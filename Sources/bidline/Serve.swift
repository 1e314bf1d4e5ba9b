import ArgumentParser
import BidlineCore
import BidlineServer
import BidlineStorage
import Foundation
import Logging
import ServiceLifecycle
import SystemPackage

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server: the engine behind the line protocol on TCP (127.0.0.1:7878 by default).",
        discussion: """
            On first start an admin user is created; its token is written to <data-dir>/admin.token (mode 0600) \
            and printed once. SIGTERM or SIGINT stops accepting, finishes in-flight batches, flushes the log, \
            takes a snapshot and exits 0. Connect with `bidline cli` (or `nc 127.0.0.1 7878`).
            """)

    @Option(help: "Address to bind. Keep it on loopback unless a proxy in front does authentication and TLS.")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0 picks a free one and prints it).")
    var port = 7878

    @Option(name: .customLong("data-dir"), help: "Data directory: write-ahead log, snapshots, admin token.")
    var dataDirectory = "./data"

    @Option(help: ArgumentHelp(
        "Durability: fsync (each reply after its batch is fsync'd; default), interval=MS (fsync every MS ms: a crash may lose the last MS ms of acknowledged changes), none (no fsync: for load tests).",
        valueName: "fsync|interval=MS|none"))
    var durability = DurabilityOption(.fsync)

    @Option(name: .customLong("commit-window-us"), help: ArgumentHelp(
        "fsync mode: while clients write concurrently, start a log group's write+fsync at most once per this many microseconds, so that each fsync carries more records (fewer fsyncs leave the CPU to requests). 0 syncs as soon as the last sync ends. A lone writer is never held.",
        valueName: "µs"))
    var commitWindowMicros = WALWriter.defaultCommitWindowMicroseconds

    @Option(name: .customLong("log-commits"), help: ArgumentHelp(
        "Which thread writes and syncs the log: auto (default: decided each round, the engine loop when its batches held about one request each, else the log thread), thread (the log's own thread with the commit window, so the engine keeps running while a group syncs: best when clients pipeline) or loop (the engine's event loop, once per round of ready connections, like Redis's appendfsync always: best when each client waits for every reply).",
        valueName: "thread|loop|auto"))
    var logCommits = RawOption(HostConfiguration(dataDirectory: "").logCommits)

    @Option(help: "Engine clock: system (wall clock) or manual (time moves only with CLOCK.ADVANCE).")
    var clock = ClockOption(.system)

    @Option(name: .customLong("max-line"), help: "Longest request line in bytes.")
    var maxLine = 4096

    @Option(name: .customLong("max-pipeline"), help: "Requests a connection may queue beyond the batch in flight before reading pauses.")
    var maxPipeline = 16_384

    @Option(name: .customLong("max-outbound"), help: "Outbound bytes per connection before it counts as not reading.")
    var maxOutbound = 4 << 20

    @Option(name: .customLong("slow-client-ms"), help: "How long a connection may stay over --max-outbound before it is disconnected.")
    var slowClientMillis: Int64 = 1_000

    @Option(name: .customLong("max-connections"), help: "Most simultaneous connections; more get ERR BUSY.")
    var maxConnections = 10_000

    @Option(name: .customLong("snapshot-every"), help: "Take a snapshot after this many log records (0: only on demand and at shutdown).")
    var snapshotEvery = 1_000_000

    @Option(name: .customLong("keep-snapshots"), help: "Snapshots to keep.")
    var keepSnapshots = 3

    @Option(name: .customLong("wal-retention"), help: ArgumentHelp(
        "Log segments that every kept snapshot covers, after each snapshot: keep (leave them in wal/), archive (move them to wal/archive/), delete.",
        valueName: "keep|archive|delete"))
    var walRetention = RawOption(WALRetention.keep)

    @Option(name: .customLong("auto-bid-share"), help: "Share of each listing that auto-bids may take, percent.")
    var autoBidShare: String?

    @Option(name: .customLong("metrics-port"), help: "Serve the Prometheus metrics (the METRICS registry) over HTTP at GET /metrics on this port (0 picks a free one). Off by default.")
    var metricsPort: Int?

    @Option(name: .customLong("metrics-host"), help: "Address the metrics endpoint binds (with --metrics-port).")
    var metricsHost = "127.0.0.1"

    @Flag(name: .customLong("truncate-corrupt-log"), help: "Start even if a log record in the middle is corrupt, dropping it and everything after it.")
    var truncateCorruptLog = false

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "bidline")
        var hostConfiguration = HostConfiguration(dataDirectory: FilePath(dataDirectory))
        hostConfiguration.durability = durability.value
        guard (0...100_000).contains(commitWindowMicros) else {
            throw ValidationError("--commit-window-us must be between 0 and 100000")
        }
        hostConfiguration.commitWindowMicroseconds = commitWindowMicros
        hostConfiguration.logCommits = logCommits.value
        hostConfiguration.walRetention = walRetention.value
        hostConfiguration.clock = clock.value
        hostConfiguration.snapshotEveryRecords = snapshotEvery
        hostConfiguration.keepSnapshots = max(1, keepSnapshots)
        hostConfiguration.truncateCorruption = truncateCorruptLog
        if let autoBidShare {
            guard let share = BasisPoints.parsePercent(autoBidShare) else {
                throw ValidationError("--auto-bid-share must be a percentage 0-100")
            }
            hostConfiguration.autoBidShare = share
        }
        var serverConfiguration = ServerConfiguration()
        serverConfiguration.host = host
        serverConfiguration.port = port
        serverConfiguration.maxLineLength = maxLine
        serverConfiguration.maxPipelineDepth = maxPipeline
        serverConfiguration.maxOutboundBytes = maxOutbound
        serverConfiguration.slowClientMillis = slowClientMillis
        serverConfiguration.maxConnections = maxConnections
        serverConfiguration.metricsPort = metricsPort
        serverConfiguration.metricsHost = metricsHost

        let started = ContinuousClock.now
        let host = try await EngineHost(configuration: hostConfiguration, logger: Logger(label: "bidline.engine"))
        for note in await host.startupNotes { logger.info("\(note)") }
        logger.info("recovery took \(ContinuousClock.now - started)")
        if let token = await host.createdAdminToken {
            print("First start: created user 'admin' with token \(token)")
            print("(also in \(dataDirectory)/admin.token, mode 0600; it is not shown again)")
        }
        let server = BidlineServer(host: host, configuration: serverConfiguration, logger: logger)
        let port = try await server.start()
        // The commit window applies to fsync mode's rounds on the log thread only.
        let window = hostConfiguration.durability == .fsync ? ", commit window \(commitWindowMicros) µs" : ""
        let commits: String
        switch logCommits.value {
        case .engineLoop: commits = "log commits on the engine loop"
        case .logThread: commits = "log commits on its thread" + window
        case .adaptive: commits = "log commits on the loop or its thread (auto)" + window
        }
        print("Bidline listening on \(self.host):\(port) (data: \(dataDirectory), durability: \(durability.defaultValueDescription), \(commits), clock: \(clock.defaultValueDescription))")
        print("Try: bidline cli --host \(self.host) --port \(port) --token-file \(dataDirectory)/admin.token")
        fflush(nil)  // shown now also when stdout is a file or a pipe (a supervisor's log), not at exit
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
