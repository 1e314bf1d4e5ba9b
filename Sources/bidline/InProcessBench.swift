import BidlineBench
import BidlineCore
import Foundation

/// `bidline bench --in-process`: the same scenarios straight into an engine in this process, no socket, to
/// separate engine cost from network cost. Each request's latency is timed around `Engine.apply` (two clock
/// reads, ~40 ns, included).
enum InProcessBench {
    static func run(scenario: String, seconds: Double, listings listingCount: Int?, autobidRules: Int) -> BenchReport {
        var engine = Engine()
        var now: Int64 = 1_700_000_000_000
        func apply(_ command: Command) -> Outcome {
            now += 1
            return engine.apply(command, at: now)
        }
        let investors = scenario == "autobid" ? autobidRules : 10_000
        let listings = listingCount ?? (scenario == "flash" ? 20 : 1_000)
        for i in 0..<investors {
            _ = apply(.addUser(NewUser(id: "i\(i)", roles: .investor, verified: true, riskLevel: 5)))
            _ = apply(.deposit(UserIndex(i), Money(yuan: scenario == "autobid" ? 10_000 : 100_000_000), ref: nil))
            if scenario == "autobid" {
                var rule = AutoBidRule()
                rule.maxPerListing = Money(yuan: Int64(100 + (i % 10) * 50))
                _ = apply(.setAutoBid(UserIndex(i), rule))
            }
        }
        var listingIDs: [ListingID] = []
        for l in 0..<listings {
            guard case .applied(.user(let borrower)) = apply(.addUser(NewUser(id: "b\(l)", roles: .borrower, kind: .company, verified: true)))
            else { continue }
            let amount = scenario == "steady" || scenario == "mixed" ? Money(yuan: 1_000_000) : Money(yuan: 100_000)
            let minimum = scenario == "steady" || scenario == "mixed" ? Money(yuan: 1) : Money(yuan: 50)
            guard case .applied(.listing(let id, _)) = apply(.submitListing(borrower, ListingTerms(
                amount: amount, rate: BasisPoints(1200), termMonths: 12, method: .epi, grade: .a, minBid: minimum, step: minimum,
                windowMillis: 30 * 86_400_000)))
            else { continue }
            listingIDs.append(id)
            if scenario != "autobid" && scenario != "flash" { _ = apply(.approve(id)) }
        }
        var recorder = LatencyRecorder()
        var random = SystemRandomNumberGenerator()
        let deadline = monotonicNanos() + UInt64(seconds * 1e9)
        var hot = 0
        if scenario == "flash" { _ = apply(.approve(listingIDs[0])) }
        var extra: [(String, String)] = []
        let started = monotonicNanos()
        var autoBids: UInt32 = 0
        outer: while monotonicNanos() < deadline {
            for _ in 0..<1_000 {
                let command: Command
                switch scenario {
                case "autobid":
                    guard hot < listingIDs.count else { break outer }
                    command = .approve(listingIDs[hot])
                    hot += 1
                case "flash":
                    guard hot < listingIDs.count else { break outer }
                    command = .bid(BidRequest(investor: UserIndex(Int.random(in: 0..<investors, using: &random)), listing: listingIDs[hot],
                                              amount: Money(yuan: Int64(50 * Int.random(in: 1...10, using: &random)))))
                case "mixed" where Int.random(in: 0..<10, using: &random) < 3:
                    let t0 = monotonicNanos()
                    _ = engine.balance(of: .available(UserIndex(Int.random(in: 0..<investors, using: &random))))
                    recorder.record(startNanos: t0, endNanos: monotonicNanos())
                    continue
                default:
                    command = .bid(BidRequest(investor: UserIndex(Int.random(in: 0..<investors, using: &random)),
                                              listing: listingIDs[Int.random(in: 0..<listingIDs.count, using: &random)],
                                              amount: Money(yuan: Int64(Int.random(in: 1...5, using: &random)))))
                }
                now += 1
                let t0 = monotonicNanos()
                let outcome = engine.apply(command, at: now)
                recorder.record(startNanos: t0, endNanos: monotonicNanos(), errorCode: outcome.rejection?.code)
                if case .applied(.approved(_, _, let count)) = outcome { autoBids += count }
                if scenario == "flash", case .applied(.bid(let reply)) = outcome, reply.full {
                    hot += 1
                    if hot < listingIDs.count { _ = apply(.approve(listingIDs[hot])) }
                }
                engine.events.removeAll(keepingCapacity: true)
            }
        }
        let elapsed = Double(monotonicNanos() - started) / 1e9
        let report = engine.reconcile()
        extra.append(("books", report.balanced ? "balanced" : "NOT BALANCED: \(report.problems.prefix(3))"))
        if scenario == "autobid" { extra.append(("auto_bids", "\(autoBids) over \(hot) approvals")) }
        if scenario == "flash" { extra.append(("listings_filled", "\(hot) of \(listingIDs.count)")) }
        var bench = BenchReport(scenario: scenario, mode: "in-process", connections: 0, seconds: elapsed, recorder: recorder)
        bench.extra = extra
        return bench
    }
}
