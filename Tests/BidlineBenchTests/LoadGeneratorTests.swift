import BidlineServer
import BidlineTestSupport
import Foundation
import NIOCore
import SystemPackage
import Testing

@testable import BidlineBench

/// The load generator's own logic: open-loop latency accounting, the books check, the hgrm output, and a short
/// smoke run of each scenario against an in-process server.
@Suite(.serialized) struct LoadGeneratorTests {
    @Test func openLoopLatencyShowsAServerStall() {
        // 1,000 requests a second for 2 s; the server answers each in 100 µs, except that it stalls for 200 ms
        // at t = 1 s. Requests due during the stall are answered when it ends: their latency counts from their
        // scheduled time, so the stall shows in the high percentiles (a closed loop would hide it).
        var schedule = OpenLoopSchedule(startNanos: 0, ratePerSecond: 1_000)
        var recorder = LatencyRecorder()
        var serverFreeAt: UInt64 = 0
        let stallStart: UInt64 = 1_000_000_000, stallEnd: UInt64 = 1_200_000_000
        var now: UInt64 = 0
        while now < 2_000_000_000 {
            while let due = schedule.takeDue(nowNanos: now) {
                var start = max(due, serverFreeAt)
                if start >= stallStart && start < stallEnd { start = stallEnd }
                let end = start + 100_000
                serverFreeAt = end
                recorder.record(startNanos: due, endNanos: end)
            }
            now += 100_000
        }
        #expect(recorder.total == 2_000)
        #expect(recorder.histogram.valueAtPercentile(50) <= 200)
        // 200 of 2,000 requests (10 %) waited for the stall: p99 is near the stall length, max ~200 ms.
        #expect(recorder.histogram.valueAtPercentile(99) > 100_000)
        #expect(recorder.histogram.max >= 199_000)
    }

    @Test func bookCheckCatchesAWrongCount() {
        #expect(BookCheck.compare(counted: [1: 500, 2: 300], serverDelta: [1: 500, 2: 300]).isEmpty)
        let mismatches = BookCheck.compare(counted: [1: 500, 2: 300], serverDelta: [1: 500, 2: 301, 3: 5])
        #expect(mismatches.map(\.listing) == [2, 3])
    }

    @Test func hgrmParsesBack() {
        var recorder = LatencyRecorder()
        for value in 1...10_000 { recorder.record(startNanos: 0, endNanos: UInt64(value) * 1_000) }
        let text = recorder.hgrm
        let rows = parseHgrm(text)
        #expect(rows.count > 20)
        #expect(rows.first!.value >= 1)
        #expect(abs(rows.last!.value - 10_000) < 20)
        #expect(rows.map(\.percentile) == rows.map(\.percentile).sorted())
        #expect(text.contains("#[Mean"))
        var report = BenchReport(scenario: "steady", mode: "closed", connections: 1, seconds: 1, recorder: recorder)
        report.extra = [("books", "ok")]
        let json = try! JSONSerialization.jsonObject(with: Data(report.json.utf8)) as! [String: Any]
        #expect(json["throughput_per_second"] as? Double == 10_000)
        #expect((json["latency_micros"] as? [String: Any])?["p9999"] != nil)
        #expect(report.svg.hasPrefix("<svg"))
    }

    @Test func moneyParsing() {
        #expect(cents("12.50") == 1_250)
        #expect(cents("0.05") == 5)
        #expect(cents("7") == 700)
        #expect(cents("1.5") == 150)
    }

    /// An in-process server (durability `none`, ephemeral port, temporary data), a load runner and an admin
    /// connection to it.
    static func startServer() async throws -> (BidlineServer, FilePath, Int, LoadRunner, LineConnection) {
        let test = try await TestServer.start(clock: .system, configureHost: { $0.durability = .none })
        let (server, directory, port, token) = (test.server, test.directory, test.port, test.adminToken)
        let runner = LoadRunner(host: "127.0.0.1", port: port)
        let admin = try await LineConnection.connect(host: "127.0.0.1", port: port, group: runner.group)
        #expect(try await admin.call("AUTH admin \(token)").hasPrefix("OK"))
        return (server, directory, port, runner, admin)
    }

    @Test func autobidSmokeRun() async throws {
        let (server, directory, port, runner, admin) = try await Self.startServer()
        defer { try? FileManager.default.removeItem(atPath: directory.string) }
        let report = try await AutobidDriver.run(
            admin: admin, host: "127.0.0.1", port: port, runner: runner, rules: 300, listings: 5, rate: nil, seconds: 5,
            runID: "a")
        let extra = Dictionary(uniqueKeysWithValues: report.extra)
        #expect(extra["listings_approved"] == "5")
        #expect(Int(extra["auto_bids"] ?? "0")! > 0)
        #expect(report.recorder.errorCount == 0)
        #expect(try await admin.call("RECONCILE").hasPrefix("OK balanced=1"))
        await admin.close()
        await runner.shutdown()
        await server.stop()
    }

    /// A short run of each scenario against a server in this process (seconds, no timing asserts).
    @Test(arguments: ["steady", "flash", "mixed"])
    func smokeRun(scenario: String) async throws {
        let (server, directory, port, runner, admin) = try await Self.startServer()
        defer { try? FileManager.default.removeItem(atPath: directory.string) }
        let investors = try await Population.investors(4, depositYuan: 1_000_000, admin: admin, runID: "t")
        let flash = scenario == "flash"
        let listings = try await Population.listings(
            3, amountYuan: flash ? 1_000 : 100_000, minYuan: flash ? 50 : 1, approve: !flash, admin: admin, runID: "t",
            host: "127.0.0.1", port: port, group: runner.group)
        let before = try await Population.raised(listings, admin: admin)
        let workload: any Workload
        let books: BidAccounting
        switch scenario {
        case "flash":
            let flashWorkload = FlashWorkload(listings: listings)
            _ = try await admin.call("LOAN.APPROVE L\(listings[0])")
            flashWorkload.onFull = { filled in
                guard let position = listings.firstIndex(of: filled), position + 1 < listings.count else { return }
                let next = listings[position + 1]
                Task { _ = try? await admin.call("LOAN.APPROVE L\(next)") }
            }
            workload = flashWorkload
            books = flashWorkload.books
        case "mixed":
            let mixed = MixedWorkload(listings: listings)
            workload = mixed
            books = mixed.books
        default:
            let steady = SteadyWorkload(listings: listings)
            workload = steady
            books = steady.books
        }
        let result = try await runner.run(
            workload: workload, credentials: investors, mode: .closed(pipeline: 8), durationSeconds: 1.0)
        #expect(result.recorder.total > 0)
        #expect(result.recorder.errors["DISCONNECTED"] == nil)
        let after = try await Population.raised(listings, admin: admin)
        let delta = Dictionary(uniqueKeysWithValues: after.map { ($0.key, $0.value - before[$0.key]!) }).filter { $0.value != 0 }
        #expect(BookCheck.compare(counted: books.acceptedCents.filter { $0.value != 0 }, serverDelta: delta).isEmpty)
        #expect(try await admin.call("RECONCILE").hasPrefix("OK balanced=1"))
        if flash {
            for (listing, raised) in after { #expect(raised <= 100_000, "L\(listing) over-filled") }
            #expect(books.fullSeen.contains(listings[0]))
        }
        await admin.close()
        await runner.shutdown()
        await server.stop()
    }
}
