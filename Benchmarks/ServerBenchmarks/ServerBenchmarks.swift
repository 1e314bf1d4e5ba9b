import Benchmark
import BidlineBench
import BidlineCore
import BidlineProtocol
import BidlineServer
import Foundation
import NIOCore
import NIOPosix
import SystemPackage

// The engine host's batch path, as a connection drives it, without the socket: parse nothing (requests are
// parsed once up front), run one BID per batch (`EngineHost.run`), release its replies when the log has the
// batch (`EngineHost.release`), log commits on the engine loop, durability `none` (no disk in the figure). What is
// left is the server's own per-request work: sequencing, journaling into the group buffer, matching, the reply,
// the release bookkeeping. Gated on malloc counts (wall-clock thresholds are too noisy on shared machines).
// Run: swift package benchmark --target ServerBenchmarks

/// A host on its own loop with one investor and 20 approved listings of 1,000,000.00 (bids of 1.00).
struct Market: @unchecked Sendable {
    // @unchecked: built once before the benchmarks run; afterwards only read, and the host is used on its loop.
    let loop: any EventLoop
    let host: EngineHost
    let investor: Session
    let bids: [Request]

    static func open() async throws -> Market {
        let directory = FilePath(NSTemporaryDirectory() + "bidline-server-bench-\(UUID().uuidString)")
        var configuration = HostConfiguration(dataDirectory: directory)
        configuration.durability = .none
        configuration.clock = .manual
        configuration.snapshotEveryRecords = 0
        configuration.logCommits = .engineLoop
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()
        let host = try await EngineHost(configuration: configuration, eventLoop: loop)
        let adminToken = await host.createdAdminToken!
        let admin = try await authenticate(host, "admin", adminToken)
        let investorToken = try await run(host, admin, ["USER.ADD inv roles=investor verified=1 risk=5"])[0]["token"]!
        _ = try await run(host, admin, ["DEPOSIT inv 100000000"])
        for number in 1...20 {
            let token = try await run(host, admin, ["USER.ADD b\(number) roles=borrower kind=company verified=1"])[0]["token"]!
            let borrower = try await authenticate(host, "b\(number)", token)
            _ = try await run(
                host, borrower, ["LOAN.NEW amount=1000000 rate=12 term=12 method=epi grade=A min=1 step=1 window=720h"])
            _ = try await run(host, admin, ["LOAN.APPROVE L\(number)"])
        }
        let investor = try await authenticate(host, "inv", investorToken)
        let bids = try (1...20).map { try parse("BID L\($0) 1") }
        return Market(loop: loop, host: host, investor: investor, bids: bids)
    }

    struct SetupFailed: Error { let reply: String }

    static func parse(_ line: String) throws -> Request {
        var parser = RequestParser()
        let bytes = Array(line.utf8)
        return try bytes.withUnsafeBytes { raw in
            guard let spec = try parser.parseVerb(raw) else { throw SetupFailed(reply: "blank line") }
            return try parser.parseArguments(spec, raw)
        }
    }

    /// Runs `lines` as one batch; returns each reply's `key=value` fields; throws on an `ERR`.
    static func run(_ host: EngineHost, _ session: Session, _ lines: [String]) async throws -> [[String: String]] {
        let items = try lines.map { BatchItem.request(try parse($0)) }
        let (replies, _) = await host.process(items, session: session)
        let text = String(decoding: replies, as: UTF8.self)
        return try text.split(separator: "\n").map { line in
            guard line.hasPrefix("OK") else { throw SetupFailed(reply: String(line)) }
            return replyFields(line)
        }
    }

    static func authenticate(_ host: EngineHost, _ user: String, _ token: String) async throws -> Session {
        let (replies, session) = await host.process([.request(try parse("AUTH \(user) \(token)"))], session: Session())
        guard session.isAuthenticated else { throw SetupFailed(reply: String(decoding: replies, as: UTF8.self)) }
        return session
    }
}

let benchmarks: @Sendable () -> Void = {
    let semaphore = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var opened: Market?
    Task {
        opened = try await Market.open()
        semaphore.signal()
    }
    semaphore.wait()
    let market = opened!

    Benchmark(
        "EngineHost one BID per batch (run + release, log commits on the loop, durability none)",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal], timeUnits: .nanoseconds, scalingFactor: .kilo,
            maxDuration: .seconds(5), maxIterations: 1_000,
            thresholds: [.mallocCountTotal: .init(relative: [.p90: 10])])
    ) { benchmark in
        let count = benchmark.scaledIterations.count
        benchmark.startMeasurement()
        let accepted = try market.loop.submit {
            market.host.assumeIsolated { host in
                var released = 0
                var items: [BatchItem] = []
                items.reserveCapacity(1)
                for index in 0..<count {
                    items.removeAll(keepingCapacity: true)
                    items.append(.request(market.bids[index % market.bids.count]))
                    let result = host.run(items, session: market.investor)
                    host.release(result) { replies in
                        if replies.readableBytes > 2 { released += 1 }
                    }
                }
                return released
            }
        }.wait()
        // The loop's commit task (scheduled by the first release) runs before this one: every batch is out.
        let released = try market.loop.submit { market.host.assumeIsolated { _ in 0 } }.wait()
        benchmark.stopMeasurement()
        _ = accepted + released
    }
}
