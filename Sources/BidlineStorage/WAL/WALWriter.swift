import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization
import SystemPackage

/// Appends records to the log with group commit: records that arrive while one write+sync runs go
/// into the next one, and a caller's `append` returns only after its record is durable.
///
/// Thread-safe (`Sendable`): callers on any task or thread append concurrently. Accepting a record
/// (sequence check, encoding into a reused buffer) happens under a mutex in the caller's context;
/// the blocking `pwrite` and `fdatasync` run on a dedicated serial dispatch queue, never on the Swift
/// concurrency pool. One `pwrite` and one `fdatasync` per group (plus segment creation on rollover).
///
/// Ordering: records carry consecutive sequence numbers; the writer refuses a record whose sequence
/// does not continue the log (``StorageError/sequenceOutOfOrder(expected:got:)``). The engine, a single
/// sequencer, calls ``enqueue(_:)`` synchronously in order and awaits ``waitUntilDurable(through:)``.
///
/// Failures: when a write or sync fails (ENOSPC, EIO), the records of that group and everything accepted
/// after it are kept in memory, their waiters fail with ``StorageError/unavailable(_:)``, and new records
/// are refused with the same error until a retry succeeds. Retries happen on ``recover()``, on the next
/// `append` (which awaits the retry first), and in the background when ``enqueue(_:)`` refuses a record.
/// A retry rewrites the kept records at the offsets they had (after a failed `fdatasync` too, since the
/// kernel may have dropped the dirty pages). In `.interval` mode a failed sync also takes back the records
/// written since the last good sync (``durableSequence`` returns to before them): they are rewritten and
/// synced by the retry before the log reopens, never assumed written by a second sync that succeeds.
public final class WALWriter: Sendable {
    /// When a record counts as durable, and so when `append` returns.
    public enum Durability: Sendable, Hashable {
        /// After `fdatasync` of its group (default): survives power loss.
        case fsync
        /// After `pwrite`; the segment is synced at most every `milliseconds` while data is unsynced.
        /// Survives a process crash; a power loss can lose the last interval.
        case interval(milliseconds: Int)
        /// After `pwrite`, never synced (load tests): survives a process crash only.
        case none
    }

    /// Writer configuration; every limit has a name and a default.
    public struct Options: Sendable {
        /// When a record counts as durable.
        public var durability: Durability
        /// A segment rolls over before a record would take it past this many bytes (default 64 MiB).
        /// A single record larger than the limit gets a segment of its own.
        public var segmentSizeLimit: Int
        /// The largest payload accepted, in bytes (default and maximum ``WALRecordFormat/maxPayloadLength``).
        public var maxPayloadLength: Int
        /// Bytes of accepted records waiting for the disk beyond which new records are refused with
        /// ``StorageError/pendingLimitExceeded(pendingBytes:limit:)`` (default 64 MiB).
        public var maxPendingBytes: Int
        /// Whether segments are zero-filled and synced before records go into them (default: yes, except
        /// in `.none` durability), so that each group's `fdatasync` overwrites allocated blocks instead
        /// of growing the file: about half the sync latency on ext4. Costs one spare segment of disk
        /// space and a background write of each segment's size; the first segment of a run is filled
        /// when the writer opens.
        public var preallocate: Bool
        /// The commit window, in microseconds (`.fsync` mode; default 300, 0 turns it off): while writers
        /// are concurrent — the last group held at least ``WALWriter/commitWindowMinimumGroup`` records —
        /// the next group's write+sync starts no sooner than this after the last one's began; records
        /// arriving meanwhile join it. It is waited out in 50 µs steps and ends early when the group is as
        /// large as the largest recent one or a step brought no record (every writer is then waiting on it).
        /// A lone writer is never held (its groups hold one record).
        ///
        /// Why: each `fdatasync` costs CPU (on this machine's virtual disk about 50 µs of kernel time,
        /// plus a wake-up of the thread it preempts), and with the load generator on the same two cores
        /// CPU is what runs out first. Fewer, fuller groups leave it to the requests: measured on this
        /// machine, 16 connections × 16 pipelined bids 255 k/s → 368 k/s with p99 3.1 → 1.5 ms, and 50
        /// unpipelined clients 40 k/s → 59 k/s with p99 4.8 → 1.5 ms (`docs/BENCHMARKS.md`). Like
        /// PostgreSQL's `commit_delay` with `commit_siblings`.
        public var commitWindowMicroseconds: Int
        /// Whether the owner commits on its own thread (default: no). Accepted records then do not start the
        /// I/O queue: the owner calls ``WALWriter/commitPending()`` when it has accepted a round of records
        /// (the write and sync run on its thread), or registers a waiter, which starts the queue. The commit
        /// window does not apply to `commitPending()`: a round is its group.
        public var callerCommits: Bool

        /// Options with the defaults above.
        public init(
            durability: Durability = .fsync, segmentSizeLimit: Int = 64 << 20,
            maxPayloadLength: Int = WALRecordFormat.maxPayloadLength, maxPendingBytes: Int = 64 << 20,
            preallocate: Bool? = nil, commitWindowMicroseconds: Int = WALWriter.defaultCommitWindowMicroseconds,
            callerCommits: Bool = false
        ) {
            self.callerCommits = callerCommits
            self.durability = durability
            self.segmentSizeLimit = segmentSizeLimit
            self.maxPayloadLength = maxPayloadLength
            self.maxPendingBytes = maxPendingBytes
            self.preallocate = preallocate ?? (durability != .none)
            self.commitWindowMicroseconds = commitWindowMicroseconds
        }
    }

    /// The default ``Options/commitWindowMicroseconds``.
    public static let defaultCommitWindowMicroseconds = 300
    /// Groups of at least this many records count as concurrent writers for the commit window.
    public static let commitWindowMinimumGroup = 2
    /// The commit window is waited out in steps of this many nanoseconds; a step that brings no new record
    /// ends it.
    static let commitWindowStepNanos: UInt64 = 50_000

    /// The directory holding the segments.
    public let directory: FilePath
    /// The configuration the writer was opened with.
    public let options: Options

    private let state: Mutex<WALWriterState>
    private let sink: Mutex<SegmentSink>
    private let preallocator: SegmentPreallocator?
    private let ioQueue = DispatchQueue(label: "bidline.wal.io", qos: .userInitiated)

    /// Opens a writer whose first record will have `nextSequence`, in a new segment `wal-<nextSequence>.log`.
    ///
    /// Run ``WALReader`` over the directory first (it truncates a torn tail) and pass its last sequence
    /// plus one (or 1 for an empty log). Creates `directory` if missing. Throws
    /// ``StorageError/segmentConflict(file:)`` if a segment already holds records at or after
    /// `nextSequence`; an existing `wal-<nextSequence>.log` without records is replaced.
    public init(
        directory: FilePath, nextSequence: UInt64, options: Options = Options(),
        fileSystem: any WALFileSystem = POSIXFileSystem()
    ) throws(StorageError) {
        precondition(nextSequence >= 1, "sequence numbers start at 1")
        precondition(
            options.segmentSizeLimit >= WALSegment.headerSize + WALRecordFormat.headerSize,
            "segment size limit too small")
        precondition(
            options.maxPayloadLength >= 0 && options.maxPayloadLength <= WALRecordFormat.maxPayloadLength,
            "payload limit outside the record format's range")
        precondition(options.maxPendingBytes > 0, "pending limit must be positive")
        if case .interval(let milliseconds) = options.durability {
            precondition(milliseconds > 0, "sync interval must be positive")
        }
        do { try FileOps.createDirectoryIfMissing(directory) } catch { throw .io(error) }
        for (firstSequence, path) in try WALSegment.list(in: directory) where firstSequence >= nextSequence {
            let size: Int64?
            do { size = try FileOps.fileSize(path) } catch { throw .io(error) }
            if firstSequence > nextSequence {
                throw .segmentConflict(file: path.string)
            }
            if (size ?? 0) > Int64(WALSegment.headerSize) {
                // A preallocated segment created just before a crash holds zeros after its header.
                let holdsRecords: Bool
                do { holdsRecords = try FileOps.hasNonZeroBytes(path, from: Int64(WALSegment.headerSize)) } catch {
                    throw .io(error)
                }
                if holdsRecords { throw .segmentConflict(file: path.string) }
            }
        }
        let preallocator =
            options.preallocate
            ? SegmentPreallocator(
                directory: directory, fileSystem: fileSystem, length: Int64(options.segmentSizeLimit),
                synchronizes: options.durability != .none)
            : nil
        preallocator?.prepareNow()
        self.directory = directory
        self.options = options
        self.preallocator = preallocator
        self.state = Mutex(WALWriterState(nextSequence: nextSequence, options: options))
        self.sink = Mutex(
            SegmentSink(
                directory: directory, fileSystem: fileSystem, durability: options.durability,
                preallocator: preallocator))
    }

    // MARK: Observing

    /// The sequence number the next record must carry.
    public var nextSequence: UInt64 { state.withLock { $0.nextSequence } }

    /// Every record up to and including this sequence is durable (`nextSequence - 1` when caught up).
    ///
    /// Normally only grows. In `.interval` mode, where records count as durable once written, a failed sync
    /// moves it back to the last synced record until the retry has rewritten and synced the rest.
    public var durableSequence: UInt64 { state.withLock { $0.durableSequence } }

    /// Whether records are accepted now (false while unavailable after a disk failure, and once closed).
    public var isAvailable: Bool {
        state.withLock { state in
            if case .open = state.phase { return !state.closeRequested }
            return false
        }
    }

    /// Whether a run of the I/O queue (or a `commitPending()`) is scheduled or running (tests).
    var isCommitting: Bool { state.withLock { $0.ioRunning } }

    /// Counters since the writer was opened.
    public var statistics: WALWriterStatistics {
        var statistics = state.withLock { $0.statistics }
        if let counts = preallocator?.spareCount {
            statistics.sparesPrepared = counts.prepared
            statistics.sparePreparationsFailed = counts.failed
        }
        return statistics
    }

    // MARK: Appending

    /// Appends the records and returns once all are durable.
    ///
    /// Their sequences must continue the log. If the log is unavailable, first awaits a retry of the
    /// kept records (``recover()``) and throws ``StorageError/unavailable(_:)`` if it fails; the records
    /// are then not accepted. Accepts all or none of `records`.
    public func append(batch records: some Collection<WALRecord>) async throws {
        guard !records.isEmpty else { return }
        if !isAvailable { try await recover() }
        _ = try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<UInt64, any Error>) in
            let result = accept(records, assignSequences: false, waiter: continuation)
            finishAccept(result, continuation)
        }
    }

    /// Appends one record with the given sequence and returns once it is durable.
    public func append(payload: [UInt8], sequence: UInt64, engineTimeMillis: Int64) async throws {
        try await append(
            batch: CollectionOfOne(WALRecord(sequence: sequence, engineTimeMillis: engineTimeMillis, payload: payload)))
    }

    /// Appends one record at the next sequence (assigned by the writer) and returns that sequence once
    /// the record is durable. For independent appenders that do not sequence themselves.
    @discardableResult
    public func append(payload: [UInt8], engineTimeMillis: Int64) async throws -> UInt64 {
        if !isAvailable { try await recover() }
        let record = WALRecord(sequence: 0, engineTimeMillis: engineTimeMillis, payload: payload)
        return try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<UInt64, any Error>) in
            let result = accept(CollectionOfOne(record), assignSequences: true, waiter: continuation)
            finishAccept(result, continuation)
        }
    }

    /// Accepts the records without waiting (synchronously, in the caller's order) and returns the last
    /// sequence accepted; await ``waitUntilDurable(through:)`` before releasing their replies.
    ///
    /// Throws, accepting none of them, on a sequence gap, an oversized payload, a full pending buffer,
    /// or while unavailable (which also starts a background retry). An empty batch returns
    /// `nextSequence - 1`.
    @discardableResult
    public func enqueue(_ records: some Collection<WALRecord>) throws(StorageError) -> UInt64 {
        let result = accept(records, assignSequences: false, waiter: nil)
        if result.startIO { startIO() }
        if let error = result.error { throw error }
        return result.lastSequence
    }

    /// Accepts one record whose payload is borrowed (copied into the group buffer; no allocation when the
    /// buffer has capacity). Same rules as ``enqueue(_:)``.
    public func enqueue(
        sequence: UInt64, engineTimeMillis: Int64, payload: UnsafeRawBufferPointer
    ) throws(StorageError) {
        let result: (error: StorageError?, startIO: Bool) = state.withLock { state in
            if let refusal = state.refusal(additionalBytes: WALRecordFormat.headerSize + payload.count) {
                return (refusal.error, refusal.startIO)
            }
            if sequence != state.nextSequence {
                return (.sequenceOutOfOrder(expected: state.nextSequence, got: sequence), false)
            }
            if payload.count > state.maxPayloadLength {
                return (.payloadTooLarge(length: payload.count, limit: state.maxPayloadLength), false)
            }
            state.encode(engineTimeMillis: engineTimeMillis, payload: payload)
            return (nil, state.claimIOForAcceptedRecords())
        }
        if result.startIO { startIO() }
        if let error = result.error { throw error }
    }

    /// Accepts one record at the next sequence, which it assigns and returns, without waiting: for
    /// independent appenders that do not sequence themselves and wait with ``whenDurable(through:_:)``.
    /// Same refusals as ``enqueue(_:)`` (except sequence gaps, which cannot happen).
    @discardableResult
    public func enqueue(payload: UnsafeRawBufferPointer, engineTimeMillis: Int64) throws(StorageError) -> UInt64 {
        let result: (sequence: UInt64, error: StorageError?, startIO: Bool) = state.withLock { state in
            if let refusal = state.refusal(additionalBytes: WALRecordFormat.headerSize + payload.count) {
                return (0, refusal.error, refusal.startIO)
            }
            if payload.count > state.maxPayloadLength {
                return (0, .payloadTooLarge(length: payload.count, limit: state.maxPayloadLength), false)
            }
            let sequence = state.nextSequence
            state.encode(engineTimeMillis: engineTimeMillis, payload: payload)
            return (sequence, nil, state.claimIOForAcceptedRecords())
        }
        if result.startIO { startIO() }
        if let error = result.error { throw error }
        return result.sequence
    }

    /// Returns once every record up to `sequence` is durable.
    ///
    /// Throws ``StorageError/unavailable(_:)`` if a write or sync fails first (the record is kept and
    /// retried, but its caller cannot rely on it), ``StorageError/closed`` after close, and
    /// ``StorageError/sequenceOutOfOrder(expected:got:)`` for a sequence not yet accepted.
    public func waitUntilDurable(through sequence: UInt64) async throws {
        _ = try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<UInt64, any Error>) in
            register(WALWriterState.Waiter(sequence: sequence, continuation: continuation))
        }
    }

    /// Calls `callback` once every record up to `sequence` is durable, or with the error that stops it (same
    /// errors as ``waitUntilDurable(through:)``). The callback runs on the log's I/O queue (or at once, on the
    /// caller's thread, when the answer is already known): keep it short, e.g. hand off to an event loop.
    /// No task is created: this is the allocation-light path for a sequencer that releases replies in batches,
    /// and for event-driven appenders (``enqueue(payload:engineTimeMillis:)`` then this).
    public func whenDurable(
        through sequence: UInt64, _ callback: @escaping @Sendable (Result<UInt64, StorageError>) -> Void
    ) {
        register(WALWriterState.Waiter(sequence: sequence, notify: callback))
    }

    /// Registers `waiter`, or answers it at once when the outcome is already known.
    /// A waiter starts the I/O queue when records are pending and nothing runs it (with
    /// ``Options/callerCommits`` nobody else may): nobody waits on a commit that no one will make.
    private func register(_ waiter: WALWriterState.Waiter) {
        let sequence = waiter.sequence
        let (immediate, start): (Result<UInt64, StorageError>?, Bool) = state.withLock { state in
            if sequence <= state.durableSequence { return (.success(sequence), false) }
            if sequence >= state.nextSequence {
                return (.failure(.sequenceOutOfOrder(expected: state.nextSequence, got: sequence)), false)
            }
            switch state.phase {
            case .closed: return (.failure(.closed), false)
            case .unavailable(let failure): return (.failure(.unavailable(failure)), false)
            case .open:
                state.addWaiter(waiter)
                return (nil, !state.pending.isEmpty && state.claimIO())
            }
        }
        if start { startIO() }
        if let immediate { waiter.notify(immediate) }
    }

    /// Writes and syncs the pending records now, on the calling thread (no commit window), and returns how
    /// far the log is durable, or the error that stops it; `nil` when the I/O queue is running (it takes
    /// the records, and waiters hear from it). For an owner that accepts records on one thread and can block it
    /// for one write+sync per round of work, like Redis's `appendfsync always` before it replies
    /// (``Options/callerCommits``): no thread hand-off and no wake-up per group. Waiters are notified here.
    public func commitPending() -> Result<UInt64, StorageError>? {
        guard state.withLock({ $0.claimIO() }) else { return nil }
        runIO(holdsWindow: false)
        return state.withLock { state in
            switch state.phase {
            case .open: return .success(state.durableSequence)
            case .unavailable(let failure): return .failure(.unavailable(failure))
            case .closed: return .failure(.closed)
            }
        }
    }

    /// Makes the next record start a new segment (called after a snapshot, so that the segments wholly
    /// covered by it can be archived). Returns the first sequence of that segment. No effect while the
    /// current segment has no records yet.
    @discardableResult
    public func startNewSegment() -> UInt64 {
        state.withLock { state in
            if state.segmentBytes > WALSegment.headerSize { state.needsNewSegment = true }
            return state.nextSequence
        }
    }

    // MARK: Recovery and shutdown

    /// Retries the failed writes now if the log is unavailable, and returns once the log accepts records
    /// again; throws ``StorageError/unavailable(_:)`` if the retry fails. Returns at once when available.
    public func recover() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let (immediate, start): (Result<Void, StorageError>?, Bool) = state.withLock { state in
                if state.closeRequested { return (.failure(.closed), false) }
                switch state.phase {
                case .open: return (.success(()), false)
                case .closed: return (.failure(.closed), false)
                case .unavailable:
                    state.recoveryWaiters.append(
                        .init(attempt: state.retryAttemptsStarted + 1, continuation: continuation))
                    state.retryRequested = true
                    return (nil, state.claimIO())
                }
            }
            if start { startIO() }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    /// Writes what is pending, syncs (unless `.none`) and closes the segment; later calls are refused
    /// with ``StorageError/closed``. If the log is unavailable, makes one more retry; throws
    /// ``StorageError/unavailable(_:)`` if records remain unwritten (they were never acknowledged).
    public func close() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let (closed, start): (Bool, Bool) = state.withLock { state in
                if case .closed = state.phase { return (true, false) }
                state.closeRequested = true
                state.closeWaiters.append(continuation)
                return (false, state.claimIO())
            }
            if start { startIO() }
            if closed { continuation.resume() }
        }
    }

    // MARK: Internals

    private struct Acceptance {
        var error: StorageError?
        var lastSequence: UInt64
        var startIO: Bool
    }

    /// Validates and encodes the records under the lock; registers the waiter for the last one.
    private func accept(
        _ records: some Collection<WALRecord>, assignSequences: Bool,
        waiter: UnsafeContinuation<UInt64, any Error>?
    ) -> Acceptance {
        let bytes = records.reduce(0) { $0 + WALRecordFormat.headerSize + $1.payload.count }
        return state.withLock { state in
            if records.isEmpty { return Acceptance(lastSequence: state.nextSequence - 1, startIO: false) }
            if let refusal = state.refusal(additionalBytes: bytes) {
                return Acceptance(error: refusal.error, lastSequence: 0, startIO: refusal.startIO)
            }
            if let error = state.validate(records, assignSequences: assignSequences) {
                return Acceptance(error: error, lastSequence: 0, startIO: false)
            }
            for record in records {
                record.payload.withUnsafeBytes {
                    state.encode(engineTimeMillis: record.engineTimeMillis, payload: $0)
                }
            }
            let last = state.nextSequence - 1
            guard let waiter else { return Acceptance(lastSequence: last, startIO: state.claimIOForAcceptedRecords()) }
            state.addWaiter(.init(sequence: last, continuation: waiter))
            return Acceptance(lastSequence: last, startIO: state.claimIO())
        }
    }

    private func finishAccept(_ result: Acceptance, _ continuation: UnsafeContinuation<UInt64, any Error>) {
        if result.startIO { startIO() }
        if let error = result.error { continuation.resume(throwing: error) }
    }

    private func startIO() {
        ioQueue.async { self.runIO(holdsWindow: true) }
    }

    /// The commit loop, on the I/O queue: take the pending group, write and sync it, wake its waiters,
    /// repeat until there is nothing to do.
    private func runIO(holdsWindow: Bool) {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            switch state.withLock({ $0.takeWork(now: now, holdsWindow: holdsWindow) }) {
            case .idle:
                scheduleIntervalSyncIfNeeded()
                return
            case .wait(let nanoseconds):
                var request = timespec(tv_sec: 0, tv_nsec: Int(nanoseconds))
                nanosleep(&request, nil)
            case .write(let group, let isRetry):
                let outcome = sink.withLock { $0.write(group, isRetry: isRetry) }
                state.withLock { $0.completeWrite(group, outcome: outcome, isRetry: isRetry) }.resumeAll()
                if outcome.failure == nil {
                    let (failure, synced) = sink.withLock { $0.synchronizeIfDue() }
                    if failure != nil || synced.synchronizations > 0 {
                        state.withLock { $0.completeSynchronize(failure, outcome: synced, isRetry: false) }.resumeAll()
                    }
                }
            case .synchronize(let isRetry):
                let (failure, synced) = sink.withLock { $0.synchronize() }
                state.withLock { $0.completeSynchronize(failure, outcome: synced, isRetry: isRetry) }.resumeAll()
            case .close:
                let failure = sink.withLock { $0.close() }
                preallocator?.close()
                state.withLock { $0.completeClose(failure) }.resumeAll()
            }
        }
    }

    /// In `.interval` mode, makes sure unsynced data is synced within the interval even when no more
    /// records arrive.
    private func scheduleIntervalSyncIfNeeded() {
        guard case .interval(let milliseconds) = options.durability else { return }
        let schedule = sink.withLock { sink in
            guard sink.isDirty && !sink.intervalSyncScheduled else { return false }
            sink.intervalSyncScheduled = true
            return true
        }
        guard schedule else { return }
        ioQueue.asyncAfter(deadline: .now() + .milliseconds(milliseconds)) {
            let (failure, synced) = self.sink.withLock { sink in
                sink.intervalSyncScheduled = false
                return sink.synchronize()
            }
            if failure != nil || synced.synchronizations > 0 {
                self.state.withLock { $0.completeSynchronize(failure, outcome: synced, isRetry: false) }.resumeAll()
            }
        }
    }
}

/// Counters of a ``WALWriter`` since it was opened.
public struct WALWriterStatistics: Sendable, Hashable {
    /// Records that became durable.
    public var recordsWritten = 0
    /// Bytes written into segments (records only, not segment headers).
    public var bytesWritten = 0
    /// Groups (commit cycles) written successfully: fewer than records when group commit batches.
    public var groupsWritten = 0
    /// `fdatasync`/`fsync` calls that succeeded.
    public var synchronizations = 0
    /// Segment files created.
    public var segmentsCreated = 0
    /// Of those, segments that were zero-filled in advance (see ``WALWriter/Options/preallocate``).
    public var segmentsPreallocated = 0
    /// Spare segments zero-filled and synced, and preparations that failed (e.g. a full disk).
    public var sparesPrepared = 0
    public var sparePreparationsFailed = 0
    /// Write or sync attempts that failed.
    public var failedAttempts = 0
    /// Total and longest time spent in data syncs (`fdatasync`) of log groups, in nanoseconds.
    public var syncNanosTotal: UInt64 = 0
    public var syncNanosMax: UInt64 = 0

    /// All zero.
    public init() {}
}
