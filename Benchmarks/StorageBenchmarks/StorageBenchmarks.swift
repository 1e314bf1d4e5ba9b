import Benchmark
import BidlineCore
import BidlineServer
import BidlineSimulation
import BidlineStorage
import Dispatch
import Foundation
import Synchronization
import SystemPackage

// Storage benchmarks (issue 4): durable appends through the group-commit writer, replay speed, and snapshots of a
// big state. Figures are reported through custom metrics (records/s, MB/s, µs) computed from the monotonic clock;
// compare them with `tools/disk-baseline`, run on the same machine in the same session.
// Run: swift package benchmark --target StorageBenchmarks   (release build; the log goes to $TMPDIR).


/// Nanoseconds on the monotonic clock.
@inline(__always) func nowNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// A fresh directory under the temporary directory (on the disk being measured, not tmpfs, on this machine).
func scratchDirectory(_ label: String) -> FilePath {
    let path = NSTemporaryDirectory() + "bidline-bench-\(label)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return FilePath(path)
}

/// `count` random bids of 50.00 over the first `listings` listings by investors 1…`investors`.
func randomBids(count: Int, investors: Int, listings: Int, seed: UInt64) -> [Command] {
    var rng = SplitMix64(state: seed)
    return (0..<count).map { _ in
        let r = rng.next()
        let investor = UserIndex(UInt32(1 + (r & 0xFFFF_FFFF) % UInt64(investors)))
        let listing = ListingID(UInt32(1 + (r >> 32) % UInt64(listings)))
        return .bid(BidRequest(investor: investor, listing: listing, amount: Money(yuan: 50)))
    }
}


/// Shared state of one benchmark process. `@unchecked Sendable`: package-benchmark runs one benchmark at a time on
/// one thread, and each benchmark in its own process, so nothing here is touched concurrently.
final class Box: @unchecked Sendable {
    var replayDirectory: FilePath?
    var replayRecords = 0
    var replayPayloads: [(payload: [UInt8], atMillis: Int64)] = []
    var bigEngine: Engine?
    var smallEngine: Engine?
}

let box = Box()

/// Numbers and enqueues records in order, synchronously, like the engine host's sequencer.
actor Sequencer {
    let writer: WALWriter
    var next: UInt64 = 1
    let payload = [UInt8](repeating: 0x5A, count: 64)

    init(writer: WALWriter) { self.writer = writer }

    /// Enqueues `count` records and returns the last sequence.
    func enqueue(count: Int) -> UInt64 {
        payload.withUnsafeBytes { bytes in
            for _ in 0..<count {
                do {
                    try writer.enqueue(sequence: next, engineTimeMillis: Int64(next), payload: bytes)
                } catch {
                    fatalError("enqueue failed: \(error)")
                }
                next += 1
            }
        }
        return next - 1
    }
}

/// The data directory for replay: the warm engine's set-up (100,000 investors, 10,000 listings) and 2,000,000 bids,
/// all in the log, no snapshot. Written once per process with durability `none` (its speed is not measured here).
func replayDirectory() async throws -> (FilePath, Int) {
    if let directory = box.replayDirectory { return (directory, box.replayRecords) }
    let commands =
        WarmMarket.commands(investors: 100_000, listings: 10_000, listingYuan: 1_000_000, depositYuan: 10_000_000)
        + randomBids(count: 2_000_000, investors: 100_000, listings: 10_000, seed: 42)
    let root = scratchDirectory("replay")
    let data = DataDirectory(root)
    let writer = try WALWriter(
        directory: data.wal, nextSequence: 1, options: WALWriter.Options(durability: .none))
    var records: [WALRecord] = []
    var sequence: UInt64 = 0
    for chunk in stride(from: 0, to: commands.count, by: 100_000) {
        records.removeAll(keepingCapacity: true)
        for command in commands[chunk..<min(chunk + 100_000, commands.count)] {
            sequence += 1
            let record = WALRecord(
                sequence: sequence, engineTimeMillis: 1_700_000_000_000 + Int64(sequence), payload: command.encoded)
            records.append(record)
            box.replayPayloads.append((record.payload, record.engineTimeMillis))
        }
        try await writer.append(batch: records)
    }
    try await writer.close()
    box.replayDirectory = root
    box.replayRecords = commands.count
    return (root, commands.count)
}

/// An engine with `investors` funded investors, `listings` open listings and `bids` random bids, built with
/// `Engine.apply`.
func builtEngine(investors: Int, listings: Int, bids: Int, seed: UInt64) -> Engine {
    var engine = WarmMarket.engine(investors: investors, listings: listings, listingYuan: 10_000, depositYuan: 1_000)
    WarmMarket.apply(
        randomBids(count: bids, investors: investors, listings: listings, seed: seed), to: &engine,
        from: 1_700_100_000_000)
    precondition(engine.state.bids.count == bids)
    return engine
}

/// 100,000 users, 10,000 listings, 500,000 bids, built once per benchmark process.
func smallSnapshotEngine() -> Engine {
    if let engine = box.smallEngine { return engine }
    let engine = builtEngine(investors: 99_000, listings: 10_000, bids: 500_000, seed: 11)
    box.smallEngine = engine
    return engine
}

/// 1,000,000 users, 100,000 listings, 5,000,000 bids (about 7.2 M commands), built once per benchmark process.
func bigEngine() -> Engine {
    if let engine = box.bigEngine { return engine }
    let engine = builtEngine(investors: 999_000, listings: 100_000, bids: 5_000_000, seed: 7)
    precondition(engine.state.users.count >= 1_000_000)
    box.bigEngine = engine
    return engine
}

let benchmarks: @Sendable () -> Void = {
    // The replay log (about 125 MB) is written once per benchmark process; remove it when the benchmark is done.
    Benchmark.teardown = {
        if let directory = box.replayDirectory { try? FileManager.default.removeItem(atPath: directory.string) }
        box.replayDirectory = nil
        box.replayPayloads = []
    }

    // MARK: Durable appends (fsync mode, group commit)

    for appenders in [1, 16, 256] {
        // Enough records for a few hundred group commits at each concurrency.
        let total = appenders == 1 ? 10_000 : appenders == 16 ? 100_000 : 1_000_000
        Benchmark("WAL durable append, fsync, \(appenders) appenders × 64 B", configuration: appendConfiguration) {
            benchmark async in
            let payload = [UInt8](repeating: 0x5A, count: 64)
            let perAppender = total / appenders
            await measureAppends(benchmark, label: "append") { writer in
                await withTaskGroup(of: [UInt32].self) { group in
                    for _ in 0..<appenders {
                        group.addTask {
                            var latencies: [UInt32] = []
                            latencies.reserveCapacity(perAppender)
                            for i in 0..<perAppender {
                                let before = nowNanos()
                                do {
                                    _ = try await writer.append(payload: payload, engineTimeMillis: Int64(i))
                                } catch {
                                    fatalError("append failed: \(error)")
                                }
                                latencies.append(UInt32(min(nowNanos() &- before, UInt64(UInt32.max))))
                            }
                            return latencies
                        }
                    }
                    var all: [UInt32] = []
                    for await part in group { all += part }
                    return all
                }
            }
        }
    }

    // The log-append hot path as the engine host calls it: `enqueue(sequence:engineTimeMillis:payload:)` with a
    // borrowed payload, synchronously, under the writer's lock, into the reused group buffer; the I/O queue writes
    // behind (`.none`: no sync, so the figure is the append path, not the disk). Gated on mallocs: the
    // committed baseline (`.benchmarkBaselines/StorageBenchmarks/main`) fails `baseline check` if appending
    // starts to allocate per record.
    Benchmark(
        "WAL enqueue, sequencer path, 1 M records × 64 B",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal], timeUnits: .milliseconds, maxDuration: .seconds(20),
            maxIterations: 5, thresholds: [.mallocCountTotal: .init(absolute: [.p90: 2_000])])
    ) { benchmark async in
        let directory = scratchDirectory("enqueue")
        defer { try? FileManager.default.removeItem(atPath: directory.string) }
        let writer = openWriter(in: directory, durability: .none)
        let payload = [UInt8](repeating: 0x5A, count: 64)
        let count = 1_000_000
        benchmark.startMeasurement()
        payload.withUnsafeBytes { bytes in
            for sequence in 1...UInt64(count) {
                do {
                    try writer.enqueue(sequence: sequence, engineTimeMillis: 1, payload: bytes)
                } catch StorageError.pendingLimitExceeded {
                    // The disk is behind by the pending limit (64 MiB): wait for it, then append again.
                    while writer.durableSequence + 1 < sequence { usleep(100) }
                    try! writer.enqueue(sequence: sequence, engineTimeMillis: 1, payload: bytes)
                } catch {
                    fatalError("\(error)")
                }
            }
        }
        benchmark.stopMeasurement()
        try? await writer.waitUntilDurable(through: UInt64(count))
        try? await writer.close()
    }

    // Event-driven appenders, the way the server's connections use the log: no task per appender; each appends
    // its next record from the durability callback of its previous one (`enqueue(payload:engineTimeMillis:)` +
    // `whenDurable`), so a commit wakes no task per record. Same records, same fsync mode as the task appenders.
    for appenders in [16, 256] {
        let total = appenders == 16 ? 200_000 : 2_000_000
        Benchmark(
            "WAL durable append, fsync, \(appenders) event-driven appenders × 64 B", configuration: appendConfiguration
        ) { benchmark async in
            await measureAppends(benchmark, label: "callback-append") { writer in
                await CallbackAppender.run(writer: writer, appenders: appenders, each: total / appenders)
                    .flatMap(\.latencies)
            }
        }
    }

    // The engine host's pattern: one sequencer numbers and enqueues whole batches synchronously, each submitter then
    // awaits the durability of its batch only (one continuation per batch, not per record). 16 submitters × batches of
    // 64 records = up to 1,024 records in flight: the log's own capacity without a task wake-up per record.
    Benchmark(
        "WAL durable append, fsync, sequencer with 16 submitters × batches of 64 × 64 B",
        configuration: .init(
            metrics: [
                .wallClock, .custom("durable appends/s", polarity: .prefersLarger, useScalingFactor: false),
                .custom("batch latency µs", useScalingFactor: false),
                .custom("records per 100 fdatasyncs", polarity: .prefersLarger, useScalingFactor: false),
            ],
            timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(30), maxIterations: 5)
    ) { benchmark async in
        let directory = scratchDirectory("sequencer")
        defer { try? FileManager.default.removeItem(atPath: directory.string) }
        let writer = openWriter(in: directory, durability: .fsync)
        let sequencer = Sequencer(writer: writer)
        let (submitters, batchSize, batches) = (16, 64, 2_000)
        benchmark.startMeasurement()
        let started = nowNanos()
        let latencies = await withTaskGroup(of: [UInt32].self) { group in
            for _ in 0..<submitters {
                group.addTask {
                    var latencies: [UInt32] = []
                    for _ in 0..<(batches / submitters) {
                        let before = nowNanos()
                        let last = await sequencer.enqueue(count: batchSize)
                        do { try await writer.waitUntilDurable(through: last) } catch { fatalError("\(error)") }
                        latencies.append(UInt32(min(nowNanos() &- before, UInt64(UInt32.max))))
                    }
                    return latencies
                }
            }
            var all: [UInt32] = []
            for await part in group { all += part }
            return all
        }
        let elapsed = nowNanos() - started
        benchmark.stopMeasurement()
        await reportDurableAppends(benchmark, writer: writer, records: batches * batchSize, elapsedNanos: elapsed)
        for latency in latencies {
            benchmark.measurement(.custom("batch latency µs", useScalingFactor: false), Int(latency / 1_000))
        }
    }

    // MARK: Replay

    // Recovery as start-up runs it: read every segment (page cache warm: the log was just written), verify each
    // record, decode the command and apply it; 2,220,000 records (set-up of 100,000 investors and 10,000 listings,
    // then 2,000,000 bids). Target: at least 2,000,000 records/s.
    Benchmark(
        "Replay: Recovery.recover of 2.22 M records (read + verify + decode + apply)",
        configuration: .init(
            metrics: [.wallClock, .custom("replay records/s", polarity: .prefersLarger, useScalingFactor: false)],
            timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 5)
    ) { benchmark async in
        let (root, count) = try! await replayDirectory()
        benchmark.startMeasurement()
        let started = nowNanos()
        let recovered = try! Recovery.recover(DataDirectory(root), readOnly: true)
        let elapsed = nowNanos() - started
        benchmark.stopMeasurement()
        precondition(recovered.recordsReplayed == count)
        benchmark.measurement(
            .custom("replay records/s", polarity: .prefersLarger, useScalingFactor: false),
            Int(Double(count) / (Double(elapsed) / 1e9)))
        blackHole(recovered.engine.state.bids.count)
    }

    // The same records from memory (no file, no checksum): the decode + apply part alone.
    Benchmark(
        "Replay: decode + apply of 2.22 M records from memory",
        configuration: .init(
            metrics: [
                .wallClock, .custom("decode+apply records/s", polarity: .prefersLarger, useScalingFactor: false),
            ],
            timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 5)
    ) { benchmark async in
        _ = try! await replayDirectory()
        let payloads = box.replayPayloads
        var engine = Engine()
        var applied = 0
        benchmark.startMeasurement()
        let started = nowNanos()
        for (payload, atMillis) in payloads {
            var reader = BinaryReader(payload)
            let command = try! Command(from: &reader)
            if engine.apply(command, at: atMillis).changedState { applied &+= 1 }
            engine.events.removeAll(keepingCapacity: true)
        }
        let elapsed = nowNanos() - started
        benchmark.stopMeasurement()
        precondition(applied == payloads.count, "a replayed command was refused")
        benchmark.measurement(
            .custom("decode+apply records/s", polarity: .prefersLarger, useScalingFactor: false),
            Int(Double(payloads.count) / (Double(elapsed) / 1e9)))
        blackHole(engine.state.bids.count)
    }

    // MARK: Snapshots of a big state

    // The snapshot path as served (one-pass encode + state hash, then zstd + write + fsync + rename) on a smaller
    // state, gated on mallocs: encoding goes into one exact-size buffer, so the count must not grow with the
    // number of users, listings or bids (zstd's own buffers and the file calls are the constant part). Part of the
    // committed baseline (`.benchmarkBaselines/StorageBenchmarks/main`).
    Benchmark(
        "Snapshot as served, 100k users, 10k listings, 500k bids",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal], timeUnits: .milliseconds, warmupIterations: 1,
            maxDuration: .seconds(30), maxIterations: 5, thresholds: [.mallocCountTotal: .init(absolute: [.p90: 1_000])])
    ) { benchmark in
        let engine = smallSnapshotEngine()
        let directory = scratchDirectory("small-snapshot")
        defer { try? FileManager.default.removeItem(atPath: directory.string) }
        benchmark.startMeasurement()
        let captured = engine.state
        let (payload, digest) = captured.encodedWithDigest()
        let hash = SnapshotStateHash(bytes: digest + [UInt8](repeating: 0, count: 16))
        let info = try! SnapshotFile.write(payload: payload, sequence: 1, stateHash: hash, to: directory)
        benchmark.stopMeasurement()
        blackHole(info.header.compressedLength)
    }

    // 1,000,000 users, 100,000 listings, 5,000,000 bids. Each iteration runs the engine host's snapshot path:
    // capture (`let captured = engine.state`, on the matching path), then off it: encode, state hash, zstd level 1 +
    // write + fsync + rename; then restore as start-up does (read + verify + decompress, decode, rebuild indexes).
    Benchmark(
        "Snapshot 1M users, 100k listings, 5M bids",
        configuration: .init(
            metrics: [
                .custom("capture stall ns", useScalingFactor: false),
                .custom("first bid after capture ns", useScalingFactor: false),
                .custom("encode MB/s", polarity: .prefersLarger, useScalingFactor: false),
                .custom("state hash MB/s", polarity: .prefersLarger, useScalingFactor: false),
                .custom("compress+write+fsync MB/s", polarity: .prefersLarger, useScalingFactor: false),
                .custom("encode+hash+compress+write MB/s", polarity: .prefersLarger, useScalingFactor: false),
                .custom("one-pass encode+hash MB/s", polarity: .prefersLarger, useScalingFactor: false),
                .custom("as served: one-pass+compress+write MB/s", polarity: .prefersLarger, useScalingFactor: false),
                .custom("restore ms", useScalingFactor: false),
                .custom("state MB", useScalingFactor: false),
                .custom("compressed MB", useScalingFactor: false),
                .peakMemoryResident,
            ],
            timeUnits: .milliseconds, warmupIterations: 0, maxDuration: .seconds(600), maxIterations: 3)
    ) { benchmark in
        var engine = bigEngine()
        box.bigEngine = nil  // uniquely referenced again: the capture below is the only sharing
        let directory = scratchDirectory("snapshot")
        defer { try? FileManager.default.removeItem(atPath: directory.string) }
        benchmark.startMeasurement()

        var clock = nowNanos()
        func lap() -> UInt64 {
            let now = nowNanos()
            defer { clock = now }
            return now - clock
        }
        _ = lap()
        let captured = engine.state
        let captureNanos = lap()
        // The matching path goes on: the first bid after the capture pays copy-on-write of the chunks it touches.
        _ = engine.apply(
            .bid(BidRequest(investor: UserIndex(5), listing: ListingID(5), amount: Money(yuan: 50))),
            at: 1_700_200_000_000)
        let firstBidNanos = lap()
        let payload = captured.encoded
        let encodeNanos = lap()
        let hash = SnapshotStateHash(engineHash: captured)
        let hashNanos = lap()
        // What EngineHost.snapshot() does: bytes and hash in one pass.
        let (teeBytes, teeDigest) = captured.encodedWithDigest()
        precondition(teeBytes.count == payload.count)
        blackHole(teeDigest)
        let teeNanos = lap()
        let info = try! SnapshotFile.write(payload: payload, sequence: 1, stateHash: hash, to: directory)
        let writeNanos = lap()
        let snapshot = try! SnapshotFile.read(at: info.path)
        let restored = Engine(state: try! EngineState(decoding: snapshot.payload))
        let restoreNanos = lap()
        benchmark.stopMeasurement()
        precondition(restored.state == captured, "the restored state differs")

        let megabytes = Double(payload.count) / 1e6
        func rate(_ nanos: UInt64) -> Int { Int(megabytes / (Double(nanos) / 1e9)) }
        benchmark.measurement(.custom("capture stall ns", useScalingFactor: false), Int(captureNanos))
        benchmark.measurement(.custom("first bid after capture ns", useScalingFactor: false), Int(firstBidNanos))
        benchmark.measurement(
            .custom("encode MB/s", polarity: .prefersLarger, useScalingFactor: false), rate(encodeNanos))
        benchmark.measurement(
            .custom("state hash MB/s", polarity: .prefersLarger, useScalingFactor: false), rate(hashNanos))
        benchmark.measurement(
            .custom("compress+write+fsync MB/s", polarity: .prefersLarger, useScalingFactor: false), rate(writeNanos))
        benchmark.measurement(
            .custom("encode+hash+compress+write MB/s", polarity: .prefersLarger, useScalingFactor: false),
            rate(encodeNanos + hashNanos + writeNanos))
        benchmark.measurement(
            .custom("one-pass encode+hash MB/s", polarity: .prefersLarger, useScalingFactor: false), rate(teeNanos))
        benchmark.measurement(
            .custom("as served: one-pass+compress+write MB/s", polarity: .prefersLarger, useScalingFactor: false),
            rate(teeNanos + writeNanos))
        benchmark.measurement(.custom("restore ms", useScalingFactor: false), Int(restoreNanos / 1_000_000))
        benchmark.measurement(.custom("state MB", useScalingFactor: false), Int(megabytes))
        benchmark.measurement(
            .custom("compressed MB", useScalingFactor: false), Int(Double(info.header.compressedLength) / 1e6))
        box.bigEngine = engine
        blackHole(restored.state.bids.count)
    }
}

/// One event-driven appender: appends a 64-byte record, and from its durability callback the next one. Touched
/// only by its own chain of callbacks (one record in flight at a time), hence unchecked.
final class CallbackAppender: @unchecked Sendable {
    let writer: WALWriter
    var remaining: Int
    var latencies: [UInt32] = []
    var sentAt: UInt64 = 0
    let payload = [UInt8](repeating: 0x5A, count: 64)
    let done: @Sendable () -> Void

    init(writer: WALWriter, count: Int, done: @escaping @Sendable () -> Void) {
        self.writer = writer
        self.remaining = count
        self.done = done
        latencies.reserveCapacity(count)
    }

    func next() {
        guard remaining > 0 else { return done() }
        remaining -= 1
        sentAt = nowNanos()
        let sequence: UInt64
        do {
            sequence = try payload.withUnsafeBytes { try writer.enqueue(payload: $0, engineTimeMillis: 0) }
        } catch {
            fatalError("append failed: \(error)")
        }
        writer.whenDurable(through: sequence) { result in
            if case .failure(let error) = result { fatalError("append failed: \(error)") }
            self.latencies.append(UInt32(min(nowNanos() &- self.sentAt, UInt64(UInt32.max))))
            self.next()
        }
    }

    /// Runs `appenders` chains of `each` records and returns them once all are durable.
    static func run(writer: WALWriter, appenders: Int, each: Int) async -> [CallbackAppender] {
        await withCheckedContinuation { (finished: CheckedContinuation<[CallbackAppender], Never>) in
            let remaining = Mutex(appenders)
            let all = Mutex<[CallbackAppender]>([])
            let chains = (0..<appenders).map { _ in
                CallbackAppender(writer: writer, count: each) {
                    if remaining.withLock({ $0 -= 1; return $0 == 0 }) { finished.resume(returning: all.withLock { $0 }) }
                }
            }
            all.withLock { $0 = chains }
            for chain in chains { chain.next() }
        }
    }
}

/// The metrics of the durable-append benchmarks.
var appendConfiguration: Benchmark.Configuration {
    Benchmark.Configuration(
        metrics: [
            .wallClock, .custom("durable appends/s", polarity: .prefersLarger, useScalingFactor: false),
            .custom("append latency µs", useScalingFactor: false),
            .custom("records per 100 fdatasyncs", polarity: .prefersLarger, useScalingFactor: false),
        ],
        timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(30), maxIterations: 5)
}

/// Opens a writer (fsync mode) in a scratch directory, measures `appendAll` (which returns every append's
/// latency in nanoseconds), and reports appends/s, records per fdatasync and the latency distribution.
func measureAppends(
    _ benchmark: Benchmark, label: String, _ appendAll: (WALWriter) async -> [UInt32]
) async {
    let directory = scratchDirectory(label)
    defer { try? FileManager.default.removeItem(atPath: directory.string) }
    let writer = openWriter(in: directory, durability: .fsync)
    benchmark.startMeasurement()
    let started = nowNanos()
    let latencies = await appendAll(writer)
    let elapsed = nowNanos() - started
    benchmark.stopMeasurement()
    await reportDurableAppends(benchmark, writer: writer, records: latencies.count, elapsedNanos: elapsed)
    // Every latency would make up to 2,000,000 samples; 20,000 evenly spaced ones give the same percentiles.
    let step = max(1, latencies.count / 20_000)
    for index in stride(from: 0, to: latencies.count, by: step) {
        benchmark.measurement(.custom("append latency µs", useScalingFactor: false), Int(latencies[index] / 1_000))
    }
}

/// Closes `writer` and reports durable appends/s and records per 100 fdatasyncs.
func reportDurableAppends(_ benchmark: Benchmark, writer: WALWriter, records: Int, elapsedNanos: UInt64) async {
    let statistics = writer.statistics
    try? await writer.close()
    benchmark.measurement(
        .custom("durable appends/s", polarity: .prefersLarger, useScalingFactor: false),
        Int(Double(records) / (Double(elapsedNanos) / 1e9)))
    benchmark.measurement(
        .custom("records per 100 fdatasyncs", polarity: .prefersLarger, useScalingFactor: false),
        100 * statistics.recordsWritten / max(1, statistics.synchronizations))
}

/// A writer at sequence 1 in `directory` (a benchmark cannot go on without one).
func openWriter(in directory: FilePath, durability: WALWriter.Durability) -> WALWriter {
    do {
        return try WALWriter(directory: directory, nextSequence: 1, options: .init(durability: durability))
    } catch {
        fatalError("cannot open the log in \(directory): \(error)")
    }
}
