import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// CPU nanoseconds of this thread (the machine may be shared: wall time would count other processes).
func cpuNanos() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Frames a pipelined request stream like `bidline bench`'s (70 % BID, 20 % BALANCE, 10 % LOAN.GET), cut into
/// reads of several sizes, with both framers; each line is read in place as the connection handler would.
func run() {
    var seed: UInt64 = 7
    func random(_ bound: UInt64) -> UInt64 {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (seed >> 33) % bound
    }
    var text = ""
    while text.utf8.count < 8 << 20 {
        switch random(10) {
        case 0..<7: text += "BID L\(1 + random(5000)) \(1 + random(5))\n"
        case 7..<9: text += "BALANCE\n"
        default: text += "LOAN.GET L\(1 + random(5000))\n"
        }
    }
    let stream = Array(text.utf8)
    let lineCount = stream.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    let rounds = 15

    for readSize in [65_536, 4_096, 1_500] {
        let reads: [ByteBuffer] = stride(from: 0, to: stream.count, by: readSize).map {
            ByteBuffer(bytes: stream[$0..<min(stream.count, $0 + readSize)])
        }
        var best = (baseline: UInt64.max, shared: UInt64.max)
        for _ in 0..<rounds {
            var baseline = BaselineLineFramer(maxLength: 4096)
            var baselineSum = 0
            var start = cpuNanos()
            for read in reads {
                baseline.frames(in: read) { frame in
                    if case .line(let line) = frame {
                        line.withUnsafeReadableBytes { baselineSum &+= $0.count &+ Int($0.first ?? 0) }
                    }
                }
            }
            best.baseline = min(best.baseline, cpuNanos() - start)

            var shared = StreamLineFramer(maxLength: 4096)
            var sharedSum = 0
            start = cpuNanos()
            for read in reads {
                read.withUnsafeReadableBytes { bytes in
                    shared.frames(in: bytes) { frame in
                        if case .line(let line) = frame { sharedSum &+= line.count &+ Int(line.first ?? 0) }
                    }
                }
            }
            best.shared = min(best.shared, cpuNanos() - start)
            precondition(baselineSum == sharedSum, "the framers disagree")
        }
        func perLine(_ nanos: UInt64) -> String { "\((Double(nanos) / Double(lineCount) * 10).rounded() / 10) ns" }
        print(
            "reads of \(readSize) B, \(lineCount) lines, best of \(rounds), CPU time per line: "
                + "baseline (ByteBuffer slices) \(perLine(best.baseline)), StreamLineFramer \(perLine(best.shared))")
    }
}

run()
