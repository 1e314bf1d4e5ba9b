import Benchmark
import BidlineCore
import BidlineProtocol

/// The request parser on the socket path: bytes in, `Request` out. Thresholds gate malloc counts (wall-clock
/// thresholds are too noisy on shared machines): a regression that allocates per request fails
/// `swift package benchmark baseline check`.
let benchmarks: @Sendable () -> Void = {
    let lines: [[UInt8]] = (0..<1_024).map { i in Array("BID L\(1 + i % 997) \(50 * (1 + i % 20))".utf8) }
    let mixed: [[UInt8]] = (0..<1_024).map { i in
        switch i % 4 {
        case 0: Array("BID L\(1 + i % 997) \(50 * (1 + i % 20)).50 aon=1".utf8)
        case 1: Array("BALANCE".utf8)
        case 2: Array("LOAN.GET L\(i)".utf8)
        default: Array("PING".utf8)
        }
    }
    let mallocThreshold: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: .init(absolute: [.p90: 0])
    ]

    Benchmark(
        "RequestParser BID (no ref)",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal], timeUnits: .nanoseconds, scalingFactor: .mega,
            maxDuration: .seconds(5), maxIterations: 10, thresholds: mallocThreshold)
    ) { benchmark in
        var parser = RequestParser()
        var accepted = 0
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            lines[index & 1_023].withUnsafeBytes { raw in
                if let spec = try? parser.parseVerb(raw), case .bid = try? parser.parseArguments(spec, raw) { accepted &+= 1 }
            }
        }
        benchmark.stopMeasurement()
        precondition(accepted == benchmark.scaledIterations.count)
    }

    Benchmark(
        "RequestParser mixed (BID aon, BALANCE, LOAN.GET, PING)",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal], timeUnits: .nanoseconds, scalingFactor: .mega,
            maxDuration: .seconds(5), maxIterations: 10, thresholds: mallocThreshold)
    ) { benchmark in
        var parser = RequestParser()
        var parsed = 0
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            mixed[index & 1_023].withUnsafeBytes { raw in
                if let spec = try? parser.parseVerb(raw), (try? parser.parseArguments(spec, raw)) != nil { parsed &+= 1 }
            }
        }
        benchmark.stopMeasurement()
        precondition(parsed == benchmark.scaledIterations.count)
    }

    Benchmark(
        "ReplyWriter bid reply",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal], timeUnits: .nanoseconds, scalingFactor: .mega,
            maxDuration: .seconds(5), maxIterations: 10, thresholds: mallocThreshold)
    ) { benchmark in
        var writer = ReplyWriter(capacity: 1 << 20)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            if writer.bytes.count > (1 << 20) - 128 { writer.reset() }
            writer.bid(
                BidReply(
                    bid: BidID(UInt32(index + 1)), listing: ListingID(7), amount: Money(cents: 50_000),
                    remaining: Money(cents: 1_950_000), full: false))
        }
        benchmark.stopMeasurement()
        blackHole(writer.bytes.count)
    }
}
