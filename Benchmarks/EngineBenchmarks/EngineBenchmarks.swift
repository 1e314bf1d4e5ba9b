import Benchmark
import BidlineCore
import BidlineSimulation

/// A warm engine: `investors` verified, funded investors and `listings` open listings (``WarmMarket``).
func warmEngine(investors: Int, listings: Int, listingYuan: Int64 = 10_000_000, depositYuan: Int64 = 10_000_000) -> Engine {
    WarmMarket.engine(investors: investors, listings: listings, listingYuan: listingYuan, depositYuan: depositYuan)
}

/// Shared mutable benchmark state. `@unchecked Sendable`: package-benchmark runs one benchmark at a time on one
/// thread, so the engine is never touched concurrently.
final class Box: @unchecked Sendable {
    var engine: Engine?
    var rng = SplitMix64(state: 42)
    var now: Int64 = 1_700_100_000_000
}

let bidBox = Box()

let benchmarks: @Sendable () -> Void = {
    // In-process bids on a warm engine: 100,000 investors, 10,000 open listings, random valid bids without ref=.
    Benchmark(
        "Engine.apply(bid) warm 100k investors × 10k listings",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal],
            timeUnits: .nanoseconds, scalingFactor: .mega, maxDuration: .seconds(20), maxIterations: 8,
            thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])])
    ) { benchmark in
        if bidBox.engine == nil {
            bidBox.engine = warmEngine(investors: 100_000, listings: 10_000)
            bidBox.engine!.events.reserveCapacity(1 << 16)
        }
        var engine = bidBox.engine!
        bidBox.engine = nil  // keep the engine uniquely referenced: no copy-on-write during the run
        let listingCount = UInt64(engine.state.listings.count)
        let firstInvestor = UInt64(1)
        var rng = bidBox.rng
        var now = bidBox.now
        var accepted = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let r = rng.next()
            // Multiply-shift instead of `%`: uniform enough, and no division in the measured loop.
            let investor = UserIndex(UInt32(firstInvestor + ((r & 0xFFFF_FFFF) &* 100_000) >> 32))
            let listing = ListingID(UInt32(1 + (((r >> 32) & 0xFFFF_FFF) &* listingCount) >> 28))
            now &+= 1
            let outcome = engine.apply(
                .bid(BidRequest(investor: investor, listing: listing, amount: Money(cents: 5_000 + Int64(r >> 60) * 5_000))),
                at: now)
            if case .applied = outcome { accepted &+= 1 }
            if engine.events.count > 60_000 { engine.events.removeAll(keepingCapacity: true) }
        }
        benchmark.stopMeasurement()
        precondition(accepted == benchmark.scaledIterations.count, "a benchmark bid was refused")
        blackHole(accepted)
        bidBox.rng = rng
        bidBox.now = now
        bidBox.engine = engine
    }

    // The same bids, 1,000,000 per iteration and unscaled: the malloc count is per million bids.
    Benchmark(
        "Engine.apply(bid) mallocs per 1M bids",
        configuration: .init(
            metrics: [.mallocCountTotal, .wallClock], timeUnits: .milliseconds, maxDuration: .seconds(20), maxIterations: 5,
            // One allocation per new ~64 KiB chunk of bids and ledger entries: ~730 per million bids.
            thresholds: [.mallocCountTotal: .init(absolute: [.p90: 1_000])])
    ) { benchmark in
        if bidBox.engine == nil {
            bidBox.engine = warmEngine(investors: 100_000, listings: 10_000)
            bidBox.engine!.events.reserveCapacity(1 << 16)
        }
        var engine = bidBox.engine!
        bidBox.engine = nil
        let listingCount = UInt64(engine.state.listings.count)
        var rng = bidBox.rng
        var now = bidBox.now
        var accepted = 0
        benchmark.startMeasurement()
        for _ in 0..<1_000_000 {
            let r = rng.next()
            let investor = UserIndex(UInt32(1 + ((r & 0xFFFF_FFFF) &* 100_000) >> 32))
            let listing = ListingID(UInt32(1 + (((r >> 32) & 0xFFFF_FFF) &* listingCount) >> 28))
            now &+= 1
            if case .applied = engine.apply(
                .bid(BidRequest(investor: investor, listing: listing, amount: Money(cents: 5_000 + Int64(r >> 60) * 5_000))), at: now)
            {
                accepted &+= 1
            }
            if engine.events.count > 60_000 { engine.events.removeAll(keepingCapacity: true) }
        }
        benchmark.stopMeasurement()
        precondition(accepted == 1_000_000, "a benchmark bid was refused")
        bidBox.rng = rng
        bidBox.now = now
        bidBox.engine = engine
    }

    // Resident memory with 1,000,000 users and 10,000,000 live bids (target ≤ 256 B/user + 64 B/bid = 896 MB).
    Benchmark(
        "Engine memory 1M users + 10M live bids",
        configuration: .init(
            metrics: [.peakMemoryResident, .wallClock], timeUnits: .milliseconds, maxDuration: .seconds(120),
            maxIterations: 1)
    ) { benchmark in
        // 10M bids of 50.00 = 500,000,000.00 spread over 1,000 listings of 1,000,000.00 (10,000 bids each).
        var engine = warmEngine(investors: 999_000, listings: 1_000, listingYuan: 1_000_000, depositYuan: 1_000)
        var rng = SplitMix64(state: 7)
        var now: Int64 = 1_700_100_000_000
        var accepted = 0
        while accepted < 10_000_000 {
            let r = rng.next()
            let investor = UserIndex(UInt32(1 + (r & 0xFFFF_FFFF) % 999_000))
            let listing = ListingID(UInt32(1 + (r >> 32) % 1_000))
            now &+= 1
            if case .applied = engine.apply(.bid(BidRequest(investor: investor, listing: listing, amount: Money(yuan: 50))), at: now) {
                accepted += 1
            }
            if engine.events.count > 60_000 { engine.events.removeAll(keepingCapacity: true) }
        }
        blackHole(engine.state.bids.count)
        blackHole(engine)
    }
}
