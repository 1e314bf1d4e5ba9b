import Foundation
import Histogram

/// Latencies in microseconds in an HdrHistogram (3 significant digits, up to 1 hour), plus outcome counts.
public struct LatencyRecorder: Sendable {
    public private(set) var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    public private(set) var ok: UInt64 = 0
    /// Error replies by code (`LISTING_NOT_OPEN`, ...).
    public private(set) var errors: [String: UInt64] = [:]

    public init() {}

    /// Records one reply: its latency from `startNanos` (the send time in closed loop, the *scheduled* send time
    /// in open loop, so a stalled server cannot hide its stall) to `endNanos`.
    public mutating func record(startNanos: UInt64, endNanos: UInt64, errorCode: String? = nil) {
        let micros = endNanos > startNanos ? (endNanos - startNanos + 999) / 1_000 : 1
        _ = histogram.record(max(1, min(micros, histogram.highestTrackableValue)))
        if let errorCode { errors[errorCode, default: 0] += 1 } else { ok += 1 }
    }

    public mutating func add(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
        ok += other.ok
        for (code, count) in other.errors { errors[code, default: 0] += count }
    }

    public var total: UInt64 { histogram.totalCount }
    public var errorCount: UInt64 { errors.values.reduce(0, +) }

    /// The percentiles reported everywhere: p50, p90, p99, p99.9, p99.99 and max, in microseconds.
    public var percentiles: [(name: String, micros: UInt64)] {
        [("p50", histogram.valueAtPercentile(50)), ("p90", histogram.valueAtPercentile(90)),
         ("p99", histogram.valueAtPercentile(99)), ("p999", histogram.valueAtPercentile(99.9)),
         ("p9999", histogram.valueAtPercentile(99.99)), ("max", histogram.max)]
    }

    /// The standard HdrHistogram percentile distribution text (`.hgrm`), values in microseconds.
    public var hgrm: String {
        var text = ""
        histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1.0)
        return text
    }
}

/// Open-loop send schedule: request `k` of a connection is due at `start + k / rate`. Latency is measured from
/// that due time, whether or not the request could be sent then (coordinated omission is not hidden).
public struct OpenLoopSchedule: Sendable {
    public let startNanos: UInt64
    public let intervalNanos: Double
    public private(set) var next: UInt64 = 0

    /// `ratePerSecond` requests a second for this connection.
    public init(startNanos: UInt64, ratePerSecond: Double) {
        precondition(ratePerSecond > 0)
        self.startNanos = startNanos
        self.intervalNanos = 1e9 / ratePerSecond
    }

    public func dueNanos(_ index: UInt64) -> UInt64 { startNanos + UInt64(Double(index) * intervalNanos) }

    /// Takes the next request index if it is due at `nowNanos`, returning its scheduled time.
    public mutating func takeDue(nowNanos: UInt64) -> UInt64? {
        let due = dueNanos(next)
        guard due <= nowNanos else { return nil }
        next += 1
        return due
    }
}

/// The books check at the end of a run: what the load generator counted as accepted per listing must equal what
/// the server says the listing raised during the run.
public enum BookCheck {
    public struct Mismatch: Sendable, Equatable, CustomStringConvertible {
        public var listing: UInt32
        public var countedCents: Int64
        public var serverCents: Int64
        public var description: String {
            "L\(listing): counted \(Double(countedCents) / 100) accepted, server raised \(Double(serverCents) / 100)"
        }
    }

    /// Compares per-listing counted acceptances with the server's raised deltas; listings missing on either
    /// side count as zero.
    public static func compare(counted: [UInt32: Int64], serverDelta: [UInt32: Int64]) -> [Mismatch] {
        Set(counted.keys).union(serverDelta.keys).sorted().compactMap { listing in
            let a = counted[listing] ?? 0
            let b = serverDelta[listing] ?? 0
            return a == b ? nil : Mismatch(listing: listing, countedCents: a, serverCents: b)
        }
    }
}

/// Monotonic nanoseconds.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
