import BidlineCore
import BidlineProtocol
import BidlineStorage
import Foundation
import Logging
import NIOCore
import NIOPosix
import SystemPackage

/// Settings of an engine host.
public struct HostConfiguration: Sendable {
    public var dataDirectory: FilePath
    public var durability: WALWriter.Durability = .fsync
    public var clock: ClockMode = .system
    /// Take a snapshot after this many log records (0: never automatically).
    public var snapshotEveryRecords: Int = 1_000_000
    /// Keep this many snapshots.
    public var keepSnapshots: Int = 3
    /// Truncate the log at a corrupt record instead of refusing to start.
    public var truncateCorruption = false
    /// The auto-bid share of each listing (journaled when it differs from the engine's).
    public var autoBidShare: BasisPoints? = nil
    /// Log segment size limit.
    public var segmentBytes: Int = 64 << 20
    /// The log's commit window (``WALWriter/Options/commitWindowMicroseconds``).
    public var commitWindowMicroseconds: Int = WALWriter.defaultCommitWindowMicroseconds
    /// What happens to log segments every kept snapshot covers, after each snapshot.
    public var walRetention: WALRetention = .keep
    /// Where a round of batches is written and synced (see ``LogCommits``).
    public var logCommits: LogCommits = .adaptive
    /// The file system the log writes through (tests put one that fails on demand here).
    public var walFileSystem: any WALFileSystem = POSIXFileSystem()

    public init(dataDirectory: FilePath) { self.dataDirectory = dataDirectory }
}

extension WALWriter.Durability {
    /// The `--durability` form: `fsync`, `interval=MS`, `none`.
    public var wireText: String {
        switch self {
        case .fsync: "fsync"
        case .interval(let milliseconds): "interval=\(milliseconds)"
        case .none: "none"
        }
    }
}

/// Which thread writes and syncs the log for the engine's batches.
public enum LogCommits: String, Sendable, CaseIterable {
    /// The engine's event loop, once per loop iteration, after it has read every ready connection and run
    /// their batches (Redis's `appendfsync always` model): the loop blocks for one write+sync per round,
    /// and no thread is woken per group. What arrives meanwhile waits in the sockets and makes the next group.
    case engineLoop = "loop"
    /// The log's I/O thread, with the commit window; the loop keeps running batches while a group syncs, and
    /// one callback per group hands the durable batches back to it.
    case logThread = "thread"
    /// Chosen each round: on the loop when the round's batches held about one request each (clients that wait
    /// for every reply: the loop has nothing else to do while it syncs), on the log thread when clients
    /// pipeline (the loop keeps matching while a group syncs).
    case adaptive = "auto"
}

/// Owns the engine, the log writer and the subscriber hub: the sequencer. Every state-changing request gets the
/// next sequence number and engine time, is appended to the log, and only then applied; replies are released
/// after the log has made the batch durable.
///
/// The actor runs on the server's event loop (its executor is the loop), so the connections on that loop hand
/// it a batch synchronously (`assumeIsolated`): no task and no thread hop per batch. The only other thread on
/// the write path is the log's I/O queue; one callback per group commit releases every batch it made durable.
public actor EngineHost {
    /// The event loop the engine runs on; the server serves its connections on the same loop.
    public nonisolated let eventLoop: any EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { eventLoop.executor.asUnownedSerialExecutor() }
    public let configuration: HostConfiguration
    public let directory: DataDirectory
    let logger: Logger
    var engine: Engine
    let wal: WALWriter
    var nextSequence: UInt64
    var lastTimeMillis: Int64
    /// The wall clock read once at the start of the batch being run (system clock only), else `nil`.
    var batchClockMillis: Int64?
    var recordsSinceSnapshot = 0
    var snapshotInFlight = false
    var lastSnapshot: (path: String, sequence: UInt64)? = nil
    var payload = BinaryWriter(capacity: 256)
    var replies = ReplyWriter(capacity: 1 << 16)
    /// Allocates the buffers a batch's replies are written from.
    let allocator = ByteBufferAllocator()
    var pendingEvents: [Event] = []
    public let hub = SubscriberHub()
    public let metrics = ServerMetrics()
    /// Recovery notes and the admin token (when created at this start), for the start-up log.
    public private(set) var startupNotes: [String] = []
    public private(set) var createdAdminToken: String? = nil
    /// A batch waiting for the log, and who gets its replies. (Held as is, not wrapped in a closure: no
    /// allocation per batch beyond the caller's `then`.)
    struct PendingRelease {
        var batch: BatchResult
        var then: (_ replies: ByteBuffer) -> Void

        var sequence: UInt64 { batch.durableThrough }

        /// Hands over the replies, or on a log failure the replies with every write reply rewritten to
        /// `ERR UNAVAILABLE`.
        func release(_ result: Result<Void, StorageError>, metrics: ServerMetrics) {
            switch result {
            case .success: then(batch.replies)
            case .failure(let error):
                metrics.storageFailures.increment()
                let rewritten = EngineHost.rewriteWrites(
                    Array(batch.replies.readableBytesView), ranges: batch.writeRanges, error: error)
                then(ByteBuffer(bytes: rewritten))
            }
        }
    }

    /// Batches waiting for the log, in sequence order. (A struct, not a tuple: the runtime destroys an array of
    /// tuples element by element through generic metadata, which showed in profiles as much as matching did.)
    var releases: [PendingRelease] = []
    var releaseStart = 0
    /// True while a log callback is registered: at most one at a time, so a group commit costs one cross-thread
    /// wake-up however many batches (connections) it made durable.
    var callbackOutstanding = false
    /// True while a commit on the loop (``LogCommits/engineLoop``) is scheduled for this loop iteration.
    var commitScheduled = false
    /// Batches and requests run since the last commit decision (``LogCommits/adaptive``).
    var roundBatches = 0
    var roundRequests = 0
    /// Rounds committed on the loop and handed to the log thread (``LogCommits/adaptive``; tests, METRICS).
    public private(set) var roundsCommittedOnLoop = 0
    public private(set) var roundsHandedToLogThread = 0
    /// Held from start-up to ``shutdown()``: no other server or writing tool opens the directory meanwhile.
    let lock: DataDirectoryLock

    /// Recovers the engine from the data directory, opens the log, and creates the first admin at first start.
    public init(
        configuration: HostConfiguration, eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
        logger: Logger = Logger(label: "bidline.engine")
    ) async throws {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.directory = DataDirectory(configuration.dataDirectory)
        self.logger = logger
        lock = try DataDirectoryLock(directory)
        _ = try? SnapshotFile.removeTemporaryFiles(in: directory.snapshots)
        let recovered = try Recovery.recover(directory, truncateCorruption: configuration.truncateCorruption)
        engine = recovered.engine
        nextSequence = recovered.lastSequence + 1
        lastTimeMillis = max(recovered.lastTimeMillis, recovered.engine.state.clockMillis)
        startupNotes = recovered.notes
        startupNotes.append(
            "recovered \(recovered.engine.state.users.count) users, \(recovered.engine.state.listings.count) listings, "
                + "\(recovered.engine.state.bids.count) bids; replayed \(recovered.recordsReplayed) records; "
                + "next sequence \(recovered.lastSequence + 1); state hash \(recovered.engine.stateHash())")
        wal = try WALWriter(
            directory: directory.wal, nextSequence: recovered.lastSequence + 1,
            options: WALWriter.Options(
                durability: configuration.durability, segmentSizeLimit: configuration.segmentBytes,
                commitWindowMicroseconds: configuration.commitWindowMicroseconds,
                callerCommits: configuration.logCommits != .logThread),
            fileSystem: configuration.walFileSystem)
        if lastTimeMillis == 0 { lastTimeMillis = Self.wallClockMillis() }
        try await bootstrap()
    }

    /// First start: the `admin` user, whose token goes to `<data>/admin.token` (mode 0600). Also journals the
    /// configured auto-bid share when it differs from the engine's.
    func bootstrap() async throws {
        if let share = configuration.autoBidShare, share != engine.state.settings.autoBidShare {
            _ = try await journalAndApply(.changeSettings(SettingsChange(autoBidShare: share)))
        }
        guard engine.state.users.count == 0 else { return }
        let token = Tokens.generate()
        let outcome = try await journalAndApply(
            .addUser(NewUser(id: "admin", roles: .admin, verified: true, riskLevel: 5, tokenHash: Tokens.hash(token))))
        guard outcome.changedState else { throw RecoveryError.storage("could not create the admin user: \(outcome)") }
        let path = directory.adminToken.string
        _ = FileManager.default.createFile(
            atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        createdAdminToken = token
    }

    /// Applies one command outside a client batch (bootstrap, ticks), durably.
    func journalAndApply(_ command: Command) async throws -> Outcome {
        let outcome = try journal(command)
        try await wal.waitUntilDurable(through: nextSequence - 1)
        publishPendingEvents()
        return outcome
    }

    /// Milliseconds since the Unix epoch, from `CLOCK_REALTIME` (integer arithmetic only).
    static func wallClockMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// The engine time for the next command: the wall clock (never backwards) or the manual clock.
    func stampTime() -> Int64 {
        if configuration.clock == .system {
            lastTimeMillis = max(lastTimeMillis, batchClockMillis ?? Self.wallClockMillis())
        }
        return lastTimeMillis
    }

    /// Appends `command` to the log at the next sequence and applies it. Throws when the log refuses it (then
    /// nothing was applied).
    func journal(_ command: Command, at time: Int64? = nil) throws(StorageError) -> Outcome {
        let at = time ?? stampTime()
        payload.bytes.removeAll(keepingCapacity: true)
        command.encode(to: &payload)
        let refusal: StorageError? = payload.bytes.withUnsafeBytes { raw in
            do throws(StorageError) {
                try wal.enqueue(sequence: nextSequence, engineTimeMillis: at, payload: raw)
                return nil
            } catch {
                return error
            }
        }
        if let refusal { throw refusal }
        nextSequence += 1
        recordsSinceSnapshot += 1
        lastTimeMillis = max(lastTimeMillis, at)
        let outcome = engine.apply(command, at: at)
        if !engine.events.isEmpty {
            // Events go to subscribers once durable; with nobody subscribed (the common case under load) they
            // are dropped here. A subscription starts with the commands applied after it is in place.
            if hub.hasSubscribers { pendingEvents.append(contentsOf: engine.events) }
            engine.events.removeAll(keepingCapacity: true)
        }
        return outcome
    }

    // MARK: Batches

    /// The outcome of running a batch synchronously: its replies, the session after it, the sequence that must
    /// be durable before the replies are released, and where its write replies are (rewritten to
    /// `ERR UNAVAILABLE` if the log fails).
    public struct BatchResult: Sendable {
        /// The replies, copied once out of the host's reused reply buffer into the buffer that is written.
        public var replies: ByteBuffer
        public var session: Session
        public var durableThrough: UInt64
        /// The first write reply's bytes, and those of any later ones (kept apart so that the common batch of
        /// one write allocates no array).
        var firstWrite: Range<Int>?
        var laterWrites: [Range<Int>] = []

        /// Where the write replies are in `replies`, in order.
        public var writeRanges: [Range<Int>] { firstWrite.map { [$0] + laterWrites } ?? [] }
    }

    /// Runs a batch of one connection's requests in order, now, on the engine's loop. The caller releases the
    /// replies through ``release(_:then:)``. Batches with `SNAPSHOT` go through ``process(_:session:)``.
    public func run(_ items: [BatchItem], session: Session) -> BatchResult {
        var session = session
        replies.reset()
        // One clock read per batch: its commands are stamped with the same millisecond (system clock).
        batchClockMillis = configuration.clock == .system ? Self.wallClockMillis() : nil
        defer { batchClockMillis = nil }
        var firstWrite: Range<Int>? = nil
        var laterWrites: [Range<Int>] = []
        roundBatches += 1
        roundRequests += items.count
        for item in items {
            switch item {
            case .ready(let bytes):
                replies.bytes.append(contentsOf: bytes)
            case .request(let request):
                let start = replies.bytes.count
                guard handle(request, session: &session) else { continue }
                if firstWrite == nil {
                    firstWrite = start..<replies.bytes.count
                } else {
                    laterWrites.append(start..<replies.bytes.count)
                }
            }
        }
        publishPendingEventsWhenDurable()
        // One copy into a fresh NIO buffer (the one the socket write takes); `replies.bytes` stays uniquely owned,
        // so the next batch reuses its capacity instead of reallocating.
        var output = allocator.buffer(capacity: replies.bytes.count)
        output.writeBytes(replies.bytes)
        return BatchResult(
            replies: output, session: session, durableThrough: nextSequence - 1, firstWrite: firstWrite,
            laterWrites: laterWrites)
    }

    /// Calls `then` with the batch's replies once everything it wrote or could have observed is durable (at
    /// once when it already is); on a log failure its write replies become `ERR UNAVAILABLE`. `then` runs on
    /// the engine's loop.
    public func release(_ batch: BatchResult, then: @escaping (_ replies: ByteBuffer) -> Void) {
        if batch.durableThrough <= wal.durableSequence {
            then(batch.replies)
            maybeSnapshot()
            return
        }
        releases.append(PendingRelease(batch: batch, then: then))
        awaitLog()
    }

    /// Makes sure the batches in `releases` and the pending events hear when the log has made them durable.
    func awaitLog() {
        switch configuration.logCommits {
        case .engineLoop, .adaptive: scheduleCommit()
        case .logThread: registerLogCallback()
        }
    }

    /// Schedules one commit after the batches of this loop iteration (NIO runs tasks after the ready sockets).
    func scheduleCommit() {
        guard !commitScheduled else { return }
        commitScheduled = true
        eventLoop.execute {
            self.assumeIsolated { host in host.commitOnLoop() }
        }
    }

    /// Writes and syncs what this iteration's batches journaled, here on the loop, and releases them. When
    /// the log's I/O queue is busy (a retry, a waiter of its own), it waits for it with a callback instead.
    func commitOnLoop() {
        commitScheduled = false
        let through = nextSequence - 1
        let (batches, requests) = (roundBatches, roundRequests)
        (roundBatches, roundRequests) = (0, 0)
        guard through > wal.durableSequence || !releases.isEmpty else { return }
        if configuration.logCommits == .adaptive && requests > Self.adaptiveRequestsPerBatch * max(batches, 1) {
            // Pipelining clients: the loop has more to do than wait for the disk.
            roundsHandedToLogThread += 1
            registerLogCallback()
            return
        }
        guard let result = wal.commitPending() else {
            registerLogCallback()
            return
        }
        roundsCommittedOnLoop += 1
        releaseDurable(result, through: through)
    }

    /// ``LogCommits/adaptive``: rounds whose batches averaged more requests than this go to the log thread.
    static let adaptiveRequestsPerBatch = 2

    /// Registers one log callback for everything pending (one per group commit, not per batch).
    func registerLogCallback() {
        guard !callbackOutstanding else { return }
        let through = nextSequence - 1
        callbackOutstanding = true
        let loop = eventLoop
        wal.whenDurable(through: through) { result in
            loop.execute {
                self.assumeIsolated { host in host.logAdvanced(result, through: through) }
            }
        }
    }

    /// Releases the batches the log has made durable (or fails them when it cannot).
    func logAdvanced(_ result: Result<UInt64, StorageError>, through: UInt64) {
        callbackOutstanding = false
        releaseDurable(result, through: through)
    }

    /// Releases the batches durable through `wal.durableSequence`; on a failure, those up to `through` fail.
    func releaseDurable(_ result: Result<UInt64, StorageError>, through: UInt64) {
        let durable = wal.durableSequence
        while releaseStart < releases.count {
            let pending = releases[releaseStart]
            if pending.sequence <= durable {
                pending.release(.success(()), metrics: metrics)
            } else if case .failure(let error) = result, pending.sequence <= through {
                pending.release(.failure(error), metrics: metrics)
            } else {
                break
            }
            releaseStart += 1
        }
        if releaseStart == releases.count {
            releases.removeAll(keepingCapacity: true)
            releaseStart = 0
        } else if releaseStart > 1024 {
            releases.removeFirst(releaseStart)
            releaseStart = 0
        }
        publishPendingEvents()
        if !releases.isEmpty { awaitLog() }
        maybeSnapshot()
    }

    static func rewriteWrites(_ output: [UInt8], ranges: [Range<Int>], error: any Error) -> [UInt8] {
        var rewritten: [UInt8] = []
        var cursor = 0
        var unavailable = ReplyWriter(capacity: 128)
        unavailable.error(.unavailable, "storage cannot make the change durable: \(error)")
        for range in ranges {
            rewritten.append(contentsOf: output[cursor..<range.lowerBound])
            rewritten.append(contentsOf: unavailable.bytes)
            cursor = range.upperBound
        }
        rewritten.append(contentsOf: output[cursor...])
        return rewritten
    }

    /// Events are published once the log holds what produced them.
    func publishPendingEventsWhenDurable() {
        guard !pendingEvents.isEmpty else { return }
        if nextSequence - 1 <= wal.durableSequence { publishPendingEvents() } else { awaitLog() }
    }

    /// Runs a batch and waits for its durability (the path for batches that await, e.g. `SNAPSHOT`).
    public func process(_ items: [BatchItem], session: Session) async -> (replies: [UInt8], session: Session) {
        var session = session
        var output: [UInt8] = []
        var chunk: [BatchItem] = []
        var ranges: [Range<Int>] = []
        func flushChunk() {
            guard !chunk.isEmpty else { return }
            let result = run(chunk, session: session)
            session = result.session
            ranges += result.writeRanges.map { ($0.lowerBound + output.count)..<($0.upperBound + output.count) }
            output += result.replies.readableBytesView
            chunk.removeAll()
        }
        for item in items {
            if case .request(.snapshot) = item {
                flushChunk()
                var line = ReplyWriter(capacity: 128)
                do {
                    let taken = try await snapshot()
                    line.snapshotTaken(path: taken.path, sequence: taken.sequence)
                } catch {
                    line.error(.unavailable, "snapshot failed: \(error)")
                }
                output += line.bytes
            } else {
                chunk.append(item)
            }
        }
        flushChunk()
        do {
            try await wal.waitUntilDurable(through: nextSequence - 1)
        } catch {
            metrics.storageFailures.increment()
            output = Self.rewriteWrites(output, ranges: ranges, error: error)
        }
        publishPendingEvents()
        return (output, session)
    }

    func publishPendingEvents() {
        guard !pendingEvents.isEmpty else { return }
        hub.publish(pendingEvents, engine: engine)
        pendingEvents.removeAll(keepingCapacity: true)
    }

    // MARK: Ticks and snapshots

    /// Journals a tick when a deadline has passed (system clock; called about once a second).
    public func tickIfDue() async {
        guard configuration.clock == .system, let deadline = engine.nextDeadlineMillis else { return }
        let now = stampTime()
        guard now > deadline, wal.isAvailable else { return }
        _ = try? await journalAndApply(.tick)
    }

    /// Takes a snapshot: the state is captured as a value here (O(chunks): matching does not stop), then encoded,
    /// compressed and written on another task.
    public func snapshot() async throws -> (path: String, sequence: UInt64) {
        let sequence = nextSequence - 1
        if let lastSnapshot, lastSnapshot.sequence == sequence { return lastSnapshot }
        try await wal.waitUntilDurable(through: sequence)
        let captured = engine.state
        let directory = self.directory
        let keep = configuration.keepSnapshots
        let retention = configuration.walRetention
        snapshotInFlight = true
        defer { snapshotInFlight = false }
        let (info, retired) = try await Task.detached(priority: .utility) {
            // One pass produces the bytes and the state hash.
            let (bytes, digest) = captured.encodedWithDigest()
            let info = try SnapshotFile.write(
                payload: bytes, sequence: sequence,
                stateHash: SnapshotStateHash(bytes: digest + [UInt8](repeating: 0, count: 16)),
                to: directory.snapshots, options: SnapshotOptions(keepLast: keep))
            // Segments that even the oldest kept snapshot covers are never read by recovery again.
            var retired: [FilePath] = []
            if retention != .keep, let oldest = try SnapshotFile.list(in: directory.snapshots).first?.sequence {
                retired = try retention.apply(in: directory.wal, oldestKeptSnapshot: oldest)
            }
            return (info, retired)
        }.value
        if let last = retired.last {
            logger.info(
                "log segments \(retention == .archive ? "archived" : "deleted")",
                metadata: ["count": "\(retired.count)", "through": "\(last.lastComponent?.string ?? "?")"])
        }
        recordsSinceSnapshot = 0
        let result = (path: info.path.string, sequence: sequence)
        lastSnapshot = result
        wal.startNewSegment()
        logger.info("snapshot written", metadata: ["path": "\(info.path)", "sequence": "\(sequence)"])
        return result
    }

    func maybeSnapshot() {
        guard configuration.snapshotEveryRecords > 0, recordsSinceSnapshot >= configuration.snapshotEveryRecords,
            !snapshotInFlight
        else { return }
        snapshotInFlight = true
        Task { [weak self] in
            do { _ = try await self?.snapshot() } catch {
                self?.logger.error("automatic snapshot failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Flushes the log and takes a final snapshot (graceful shutdown).
    public func shutdown() async {
        do {
            try await wal.waitUntilDurable(through: nextSequence - 1)
            _ = try await snapshot()
        } catch {
            logger.error("shutdown snapshot failed", metadata: ["error": "\(error)"])
        }
        try? await wal.close()
        lock.release()
    }

    // MARK: Inspection (tests, tools)

    public var stateHash: String { engine.stateHash() }
    public var engineState: EngineState { engine.state }
    public var lastSequence: UInt64 { nextSequence - 1 }
}
