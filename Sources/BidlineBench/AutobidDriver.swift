import Foundation

/// The `autobid` scenario: tens of thousands of investors with auto-bid rules; listings approved one after
/// another (or at `rate` per second); each approval's round trip is the allocation time of that listing (the
/// engine walks the queue inside the approval).
public enum AutobidDriver {
    public static func run(
        admin: LineConnection, host: String, port: Int, runner: LoadRunner, rules: Int, listings: Int, rate: Double?,
        seconds: Double, runID: String
    ) async throws -> BenchReport {
        print("set-up: \(rules) investors with auto-bid rules, \(listings) pending listings …")
        let investors = try await Population.investors(rules, depositYuan: 10_000, admin: admin, runID: runID)
        let setter = try await LineConnection.connect(host: host, port: port, group: runner.group)
        var lines: [String] = []
        for (index, (user, token)) in investors.enumerated() {
            lines.append("AUTH \(user) \(token)")
            lines.append("AUTO.SET rate=0-36 max=\(100 + (index % 10) * 50) reserve=\(index % 3 * 100)")
        }
        let replies = try await setter.sendChunked(lines, chunk: 4_000)
        await setter.close()
        if let bad = replies.first(where: { !$0.hasPrefix("OK") }) { throw BenchError.setup("AUTO.SET: \(bad)") }
        let listingNumbers = try await Population.listings(
            listings, amountYuan: 100_000, minYuan: 50, approve: false, admin: admin, runID: runID, host: host, port: port,
            group: runner.group)
        var recorder = LatencyRecorder()
        var autoBids = 0
        var raised: Int64 = 0
        let start = monotonicNanos()
        let deadline = start + UInt64(seconds * 1e9)
        var approved = 0
        for (index, listing) in listingNumbers.enumerated() {
            var sendAt = monotonicNanos()
            if let rate {
                let due = start + UInt64(Double(index) / rate * 1e9)
                if due > sendAt { try await Task.sleep(for: .nanoseconds(Int(due - sendAt))) }
                sendAt = due
            }
            if monotonicNanos() > deadline { break }
            let reply = try await admin.call("LOAN.APPROVE L\(listing)")
            let fields = replyFields(reply)
            recorder.record(startNanos: sendAt, endNanos: monotonicNanos(), errorCode: reply.hasPrefix("OK") ? nil : "APPROVE_FAILED")
            autoBids += Int(fields["auto_bids"] ?? "0") ?? 0
            raised += cents(fields["raised"]) ?? 0
            approved += 1
        }
        let elapsed = Double(monotonicNanos() - start) / 1e9
        var report = BenchReport(
            scenario: "autobid", mode: rate.map { LoadMode.open(ratePerSecond: $0).description } ?? "sequential", connections: 1, seconds: elapsed, recorder: recorder)
        report.extra.append(("listings_approved", "\(approved)"))
        report.extra.append(("auto_bids", "\(autoBids)"))
        report.extra.append(("auto_bid_rules", "\(rules)"))
        report.extra.append(("raised_by_auto_bids", String(format: "%.2f", Double(raised) / 100)))
        report.extra.append(("allocation_time", "latency above = one approval incl. the auto-bid walk, µs"))
        return report
    }
}
