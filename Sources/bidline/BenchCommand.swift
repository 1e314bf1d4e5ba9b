import ArgumentParser
import BidlineBench
import BidlineCore
import Foundation
import NIOPosix

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load generator: drives bids at a Bidline server (like redis-benchmark / wrk2) and checks the books.",
        discussion: """
            Closed loop (--connections C --pipeline P) keeps P requests in flight per connection. Open loop (--rate R) \
            sends R requests a second in total and measures latency from each request's scheduled send time, so a \
            stalled server cannot hide its stall (no coordinated omission). Scenarios: steady (random valid bids \
            over many listings), flash (抢标: every connection races for one hot listing; the next is released when \
            it fills), autobid (tens of thousands of auto-bid rules; listings approved one after another), mixed \
            (bids, balance queries and listing reads). At the end RECONCILE must be balanced and the amounts \
            counted per listing must equal what the server raised; a mismatch fails the run (exit 1). Targets \
            loopback only.
            """)

    @Option(help: "Server address (loopback).") var host = "127.0.0.1"
    @Option(help: "Server port.") var port = 7878
    @Option(help: "Admin token (for set-up and the books check).") var token: String?
    @Option(name: .customLong("token-file"), help: "File holding the admin token (e.g. data/admin.token).") var tokenFile: String?
    @Option(help: "The load: random bids (steady), one hot listing (flash), auto-bid rules (autobid), bids and reads (mixed).") var scenario: BenchScenario = .steady
    @Option(help: "Client connections (each authenticated as its own investor).") var connections = 16
    @Option(help: "Closed loop: requests in flight per connection.") var pipeline: Int?
    @Option(help: "Open loop: requests per second over all connections.") var rate: Double?
    @Option(help: "Seconds of load (bounded: at most 600).") var duration: Double = 10
    @Option(help: "Listings to spread bids over (steady, mixed) or to release one by one (flash, autobid).") var listings: Int?
    @Option(name: .customLong("autobid-rules"), help: "autobid: investors with an auto-bid rule.") var autobidRules = 20_000
    @Option(help: "Write the JSON summary here.") var json: String?
    @Option(help: "Write the HdrHistogram percentile distribution (.hgrm) here.") var hgrm: String?
    @Option(help: "Write a latency-by-percentile chart (SVG) here.") var svg: String?
    @Flag(name: .customLong("no-setup"), help: "Use an existing population: --investors-file lines 'user token', --listing-ids.") var noSetup = false
    @Option(name: .customLong("investors-file"), help: "With --no-setup: file of 'user token' lines.") var investorsFile: String?
    @Option(name: .customLong("listing-ids"), help: "With --no-setup: listing numbers, e.g. 1-100 or 3,5,9.") var listingIDs: String?
    @Flag(name: .customLong("in-process"), help: "Run the scenario straight into an in-process engine (no socket): engine cost alone.") var inProcess = false

    func validate() throws {
        guard duration > 0, duration <= 600 else { throw ValidationError("--duration must be in (0, 600] seconds") }
        guard connections >= 1, connections <= 5_000 else { throw ValidationError("--connections must be 1-5000") }
        if pipeline != nil && rate != nil { throw ValidationError("choose --pipeline (closed loop) or --rate (open loop)") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        guard ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.") else {
            throw ValidationError("bidline bench targets loopback only")
        }
    }

    func run() async throws {
        if inProcess {
            let report = InProcessBench.run(scenario: scenario.rawValue, seconds: duration, listings: listings, autobidRules: autobidRules)
            try finish(report)
            return
        }
        guard let adminToken = try token ?? tokenFile.map({ try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) })
        else { throw ValidationError("--token or --token-file is required (set-up and the books check need admin)") }
        let runner = LoadRunner(host: host, port: port)
        defer { Task { await runner.shutdown() } }
        let admin = try await LineConnection.connect(host: host, port: port, group: runner.group)
        let auth = try await admin.call("AUTH admin \(adminToken)")
        guard auth.hasPrefix("OK") else { throw ValidationError("admin AUTH failed: \(auth)") }
        let runID = Population.runID()
        let started = Date()
        let terminal = isatty(STDOUT_FILENO) != 0

        if scenario == .autobid {
            let report = try await AutobidDriver.run(
                admin: admin, host: host, port: port, runner: runner, rules: autobidRules, listings: listings ?? 200,
                rate: rate, seconds: duration, runID: runID)
            try await checkBooks(admin: admin, counted: [:], before: [:])
            try finish(report)
            return
        }

        // Set-up.
        var credentials: [(String, String)]
        var listingNumbers: [UInt32]
        if noSetup {
            guard let investorsFile, let listingIDs else { throw ValidationError("--no-setup needs --investors-file and --listing-ids") }
            credentials = try String(contentsOfFile: investorsFile, encoding: .utf8).split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ")
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }
            listingNumbers = Self.parseIDs(listingIDs)
            guard !credentials.isEmpty, !listingNumbers.isEmpty else { throw ValidationError("empty investors or listings") }
            credentials = (0..<connections).map { credentials[$0 % credentials.count] }
        } else {
            print("set-up: \(connections) investors, \(listings ?? (scenario == .flash ? 20 : 200)) listings …")
            credentials = try await Population.investors(connections, depositYuan: 100_000_000, admin: admin, runID: runID)
            if scenario == .flash {
                listingNumbers = try await Population.listings(
                    listings ?? 20, amountYuan: 100_000, minYuan: 50, approve: false, admin: admin, runID: runID, host: host,
                    port: port, group: runner.group)
            } else {
                listingNumbers = try await Population.listings(
                    listings ?? 200, amountYuan: 1_000_000, minYuan: 1, approve: true, admin: admin, runID: runID, host: host,
                    port: port, group: runner.group)
            }
            print("set-up took \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }
        let before = try await Population.raised(listingNumbers, admin: admin)
        let statsBefore = replyFields(try await admin.call("STATS"))
        let mode: LoadMode = rate.map { .open(ratePerSecond: $0) } ?? .closed(pipeline: pipeline ?? 1)
        let progress: @Sendable (LoadProgress) -> Void = { p in
            let line = String(format: "%5.1fs %9llu req/s  errors %llu  p50 %llu µs  p99 %llu µs", p.elapsedSeconds,
                              p.requestsLastSecond, p.errors, p.p50Micros, p.p99Micros)
            FileHandle.standardOutput.write(Data(((terminal ? "\r" : "") + line + (terminal ? "" : "\n")).utf8))
        }

        let workload: any Workload
        var approvals: [UInt32: UInt64] = [:]
        switch scenario {
        case .flash:
            let flashWorkload = FlashWorkload(listings: listingNumbers)
            // The first hot listing opens now; each fill releases the next (approved by the admin connection).
            let approvalTimes = ApprovalLog()
            approvalTimes.record(listingNumbers[0], monotonicNanos())
            _ = try await admin.call("LOAN.APPROVE L\(listingNumbers[0])")
            flashWorkload.onFull = { filled in
                guard let position = listingNumbers.firstIndex(of: filled), position + 1 < listingNumbers.count else { return }
                let next = listingNumbers[position + 1]
                approvalTimes.record(next, monotonicNanos())
                Task { _ = try? await admin.call("LOAN.APPROVE L\(next)") }
            }
            let result = try await runner.run(
                workload: flashWorkload, credentials: credentials, mode: mode, durationSeconds: duration, progress: progress)
            approvals = approvalTimes.all
            if terminal { print("") }
            var report = BenchReport(scenario: scenario.rawValue, mode: mode.description, connections: connections, seconds: result.seconds, recorder: result.recorder)
            var times: [Double] = []
            for listing in listingNumbers {
                if let full = flashWorkload.fullAtNanos[listing], let opened = approvals[listing], full > opened {
                    times.append(Double(full - opened) / 1e6)
                }
            }
            report.extra.append(("listings_filled", "\(times.count) of \(listingNumbers.count)"))
            if !times.isEmpty {
                let sorted = times.sorted()
                report.extra.append(("time_to_full_ms_p50", String(format: "%.2f", sorted[sorted.count / 2])))
                report.extra.append(("time_to_full_ms_max", String(format: "%.2f", sorted.last!)))
            }
            report.extra += try await logFigures(admin: admin, before: statsBefore)
            try await verifyNoOverfill(admin: admin, listings: listingNumbers)
            try await checkBooks(admin: admin, counted: flashWorkload.books.acceptedCents, before: before)
            report.extra.append(("books", "balanced, counted amounts match the server"))
            try finish(report)
            return
        case .mixed:
            workload = MixedWorkload(listings: listingNumbers)
        case .steady, .autobid:
            workload = SteadyWorkload(listings: listingNumbers)
        }
        let result = try await runner.run(workload: workload, credentials: credentials, mode: mode, durationSeconds: duration, progress: progress)
        if terminal { print("") }
        var report = BenchReport(scenario: scenario.rawValue, mode: mode.description, connections: connections, seconds: result.seconds, recorder: result.recorder)
        report.extra += try await logFigures(admin: admin, before: statsBefore)
        let counted = (workload as? SteadyWorkload)?.books.acceptedCents ?? (workload as? MixedWorkload)?.books.acceptedCents ?? [:]
        try await checkBooks(admin: admin, counted: counted, before: before)
        report.extra.append(("books", "balanced, counted amounts match the server"))
        try finish(report)
    }

    /// How the server's log ran during the load, from two `STATS`: its durability and commit mode, and the log
    /// records per data sync (group commit). Empty for a server whose `STATS` does not say (older versions).
    func logFigures(admin: LineConnection, before: [String: String]) async throws -> [(String, String)] {
        let after = replyFields(try await admin.call("STATS"))
        guard let durability = after["durability"], let commits = after["log_commits"] else { return [] }
        var figures = [("server_log", "durability=\(durability) log_commits=\(commits)")]
        if let records = Self.advance("seq", before, after), let syncs = Self.advance("log_syncs", before, after) {
            let perSync = syncs > 0 ? String(format: "%.1f", Double(records) / Double(syncs)) : "n/a"
            figures.append(("log_records_per_sync", "\(perSync) (\(records) records, \(syncs) data syncs)"))
        }
        return figures
    }

    /// How far the integer field `key` advanced between two `STATS` replies.
    static func advance(_ key: String, _ before: [String: String], _ after: [String: String]) -> Int64? {
        guard let first = before[key].flatMap({ Int64($0) }), let last = after[key].flatMap({ Int64($0) }) else { return nil }
        return last - first
    }

    /// RECONCILE must be balanced and each listing's raised delta must equal what the load counted.
    func checkBooks(admin: LineConnection, counted: [UInt32: Int64], before: [UInt32: Int64]) async throws {
        let reconcile = try await admin.call("RECONCILE")
        guard replyFields(reconcile)["balanced"] == "1" else { throw BenchError.booksMismatch(["RECONCILE: \(reconcile)"]) }
        guard !before.isEmpty else { return }
        let after = try await Population.raised(Array(before.keys), admin: admin)
        let delta = Dictionary(uniqueKeysWithValues: after.map { ($0.key, $0.value - (before[$0.key] ?? 0)) }).filter { $0.value != 0 }
        let mismatches = BookCheck.compare(counted: counted.filter { $0.value != 0 }, serverDelta: delta)
        guard mismatches.isEmpty else { throw BenchError.booksMismatch(mismatches.map(\.description)) }
    }

    func verifyNoOverfill(admin: LineConnection, listings: [UInt32]) async throws {
        let replies = try await admin.sendChunked(listings.map { "LOAN.GET L\($0)" })
        for reply in replies {
            let fields = replyFields(reply)
            guard let raised = cents(fields["raised"]), let amount = cents(fields["amount"]), raised <= amount else {
                throw BenchError.booksMismatch(["over-filled listing: \(reply)"])
            }
        }
    }

    func finish(_ report: BenchReport) throws {
        print(report.text)
        if let json { try report.json.write(toFile: json, atomically: true, encoding: .utf8) }
        if let hgrm { try report.recorder.hgrm.write(toFile: hgrm, atomically: true, encoding: .utf8) }
        if let svg { try report.svg.write(toFile: svg, atomically: true, encoding: .utf8) }
    }

    static func parseIDs(_ text: String) -> [UInt32] {
        text.split(separator: ",").flatMap { part -> [UInt32] in
            let bounds = part.split(separator: "-").compactMap { UInt32($0.trimmingCharacters(in: CharacterSet(charactersIn: "L "))) }
            if bounds.count == 2, bounds[0] <= bounds[1] { return Array(bounds[0]...bounds[1]) }
            return bounds
        }
    }
}

/// The load shapes of `bidline bench --scenario`.
enum BenchScenario: String, CaseIterable, ExpressibleByArgument {
    /// Random valid bids over many listings.
    case steady
    /// Every connection races for one hot listing; the next is released when it fills.
    case flash
    /// Tens of thousands of auto-bid rules; listings approved one after another.
    case autobid
    /// Bids, balance queries and listing reads.
    case mixed
}

/// Approval times of flash listings (written from the load loop and read at the end).
final class ApprovalLog: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var times: [UInt32: UInt64] = [:]
    func record(_ listing: UInt32, _ nanos: UInt64) { lock.withLock { times[listing] = nanos } }
    var all: [UInt32: UInt64] { lock.withLock { times } }
}
