import BidlineCore
import BidlineProtocol
import BidlineStorage
import Foundation
import Logging
import NIOCore
import NIOPosix
import SystemPackage

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
    /// The event loop's executor: the actor runs on the loop, so connections call it without a hop.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { eventLoop.executor.asUnownedSerialExecutor() }
    /// The settings it was started with.
    public let configuration: HostConfiguration
    /// The data directory's paths.
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
    /// The push subscriptions events are published to once durable.
    public let hub = SubscriberHub()
    /// The metrics registry `METRICS` and the metrics endpoint render.
    public let metrics = ServerMetrics()
    /// Recovery notes and the admin token (when created at this start), for the start-up log.
    public private(set) var startupNotes: [String] = []
    public private(set) var createdAdminToken: String? = nil
    /// Batches waiting for the log, in sequence order. (A struct, not a tuple: the runtime destroys an array of
    /// tuples element by element through generic metadata, which showed in profiles as much as matching did.)
    var releases: [PendingRelease] = []
    var releaseStart = 0
    /// True while a log callback is registered: at most one at a time, so a group commit costs one cross-thread
    /// wake-up however many batches (connections) it made durable.
    var callbackOutstanding = false
    /// Where each round of batches is committed (``LogCommits``), and the rounds counted so far.
    var scheduler: CommitScheduler
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
        scheduler = CommitScheduler(
            mode: configuration.logCommits, commitWindowMicroseconds: configuration.commitWindowMicroseconds)
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
                commitWindowMicroseconds: scheduler.commitWindowMicroseconds,
                callerCommits: scheduler.callerCommits),
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
        /// The connection's session after the batch (`AUTH` and `SUBSCRIBE` change it).
        public var session: Session
        /// The sequence the log must have made durable before the replies may leave.
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
        scheduler.batchRan(requests: items.count)
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

    // MARK: Inspection (tests, tools)

    /// The engine state's hash (the one recovery and snapshots report).
    public var stateHash: String { engine.stateHash() }
    /// The engine state now (a copy-on-write value).
    public var engineState: EngineState { engine.state }
    /// The sequence number of the last journaled command (durable or not yet).
    public var lastSequence: UInt64 { nextSequence - 1 }
    /// Rounds of batches the engine loop wrote and synced itself (``LogCommits/engineLoop``, ``LogCommits/adaptive``).
    public var roundsCommittedOnLoop: Int { scheduler.roundsCommittedOnLoop }
    /// Rounds of batches handed to the log thread by ``LogCommits/adaptive``.
    public var roundsHandedToLogThread: Int { scheduler.roundsHandedToLogThread }
}
