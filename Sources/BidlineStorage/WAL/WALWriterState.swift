/// The log writer's bookkeeping, guarded by its mutex: accepted records, waiters, and the commit cycle.
///
/// Pure state transitions, no I/O: the writer's I/O queue takes work from here (`takeWork`), performs it
/// with the `SegmentSink`, and reports back (`complete…`), which returns the continuations to resume
/// outside the lock.
struct WALWriterState {
    enum Phase {
        /// Accepting records.
        case open
        /// A write or sync failed; records are refused until a retry succeeds.
        case unavailable(IOFailure)
        /// Closed; everything is refused.
        case closed
    }

    /// A caller waiting for its record to become durable: a suspended task or a callback.
    ///
    /// A task is held by its continuation directly (no closure to allocate per record); the continuation is
    /// unsafe (not checked) because this is the per-record path of independent appenders: each waiter is
    /// registered once and resumed exactly once, by `resumeAll` (success or failure) or at once.
    struct Waiter: Sendable {
        enum Target: Sendable {
            case task(UnsafeContinuation<UInt64, any Error>)
            case callback(@Sendable (Result<UInt64, StorageError>) -> Void)
        }

        var sequence: UInt64
        var target: Target

        init(sequence: UInt64, continuation: UnsafeContinuation<UInt64, any Error>) {
            self.sequence = sequence
            self.target = .task(continuation)
        }

        init(sequence: UInt64, notify: @escaping @Sendable (Result<UInt64, StorageError>) -> Void) {
            self.sequence = sequence
            self.target = .callback(notify)
        }

        func notify(_ result: Result<UInt64, StorageError>) {
            switch target {
            case .task(let continuation): continuation.resume(with: result.mapError { $0 as any Error })
            case .callback(let callback): callback(result)
            }
        }
    }

    /// A caller of `recover()`, answered by the first retry that starts after it asked (or by any success).
    struct RecoveryWaiter: Sendable {
        var attempt: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// What the I/O queue does next.
    enum Work: Sendable {
        case idle
        /// Hold the pending group this long (the commit window), then ask again.
        case wait(nanoseconds: UInt64)
        case write(WALGroup, isRetry: Bool)
        case synchronize(isRetry: Bool)
        case close
    }

    /// Continuations to resume once the lock is released.
    struct Wakeups: Sendable {
        var durable: [Waiter] = []
        var failed: [Waiter] = []
        var failure: StorageError = .closed
        var recovery: [RecoveryWaiter] = []
        var recoveryFailure: StorageError?
        var close: [CheckedContinuation<Void, any Error>] = []
        var closeFailure: StorageError?

        func resumeAll() {
            for waiter in durable { waiter.notify(.success(waiter.sequence)) }
            for waiter in failed { waiter.notify(.failure(failure)) }
            for waiter in recovery {
                if let recoveryFailure {
                    waiter.continuation.resume(throwing: recoveryFailure)
                } else {
                    waiter.continuation.resume()
                }
            }
            for continuation in close {
                if let closeFailure { continuation.resume(throwing: closeFailure) } else { continuation.resume() }
            }
        }
    }

    let segmentSizeLimit: Int
    let maxPayloadLength: Int
    let maxPendingBytes: Int
    /// The commit window in nanoseconds (0: off; see ``WALWriter/Options/commitWindowMicroseconds``).
    let commitWindowNanos: UInt64
    /// Accepted records wait for the owner's `commitPending()` (or a waiter) instead of starting the queue.
    let callerCommits: Bool
    /// When the last group's write began, and how many records it held.
    var lastGroupStartNanos: UInt64 = 0
    var lastGroupRecords = 0
    /// The largest recent group, decaying by 1/16 per group: how many writers there are, about.
    var peakGroupRecords = 0
    /// Records pending when the commit window last made the group wait (nil: it has not waited yet).
    var pendingAtLastWait: Int?

    var phase = Phase.open
    var closeRequested = false
    var closeRetryAttempted = false
    /// The sequence the next accepted record must carry.
    var nextSequence: UInt64
    /// Every record up to this one is durable (per the durability mode).
    var durableSequence: UInt64
    /// Records accepted but not yet handed to the I/O queue.
    var pending = WALGroup()
    /// Buffers of a finished group, reused for the next one.
    var spare: WALGroup?
    /// Records of failed attempts, written first by the next retry; non-empty only while unavailable.
    var retained = WALGroup()
    var retryRequested = false
    /// Retries started so far; numbers the attempts that `RecoveryWaiter`s wait for.
    var retryAttemptsStarted = 0
    /// Whether a run of the I/O queue is scheduled or running.
    var ioRunning = false
    /// Logical length of the segment the next record goes to, to decide where segments roll over.
    var segmentBytes = WALSegment.headerSize
    var needsNewSegment = true
    /// Sorted by sequence.
    var waiters: [Waiter] = []
    var recoveryWaiters: [RecoveryWaiter] = []
    var closeWaiters: [CheckedContinuation<Void, any Error>] = []
    var statistics = WALWriterStatistics()

    init(nextSequence: UInt64, options: WALWriter.Options) {
        self.nextSequence = nextSequence
        self.durableSequence = nextSequence - 1
        self.segmentSizeLimit = options.segmentSizeLimit
        self.maxPayloadLength = options.maxPayloadLength
        self.maxPendingBytes = options.maxPendingBytes
        self.commitWindowNanos =
            options.durability == .fsync ? UInt64(max(0, options.commitWindowMicroseconds)) * 1000 : 0
        self.callerCommits = options.callerCommits
    }

    // MARK: Accepting records

    /// Marks the I/O queue as running; returns whether the caller must start it.
    mutating func claimIO() -> Bool {
        if ioRunning { return false }
        ioRunning = true
        return true
    }

    /// After accepting records: whether the caller must start the I/O queue for them. Never when the
    /// owner commits on its own thread (``WALWriter/Options/callerCommits``); it calls `commitPending()`.
    mutating func claimIOForAcceptedRecords() -> Bool {
        callerCommits ? false : claimIO()
    }

    /// Why records cannot be accepted now, if they cannot; a refusal while unavailable requests a retry.
    mutating func refusal(additionalBytes: Int) -> (error: StorageError, startIO: Bool)? {
        if closeRequested { return (.closed, false) }
        switch phase {
        case .closed:
            return (.closed, false)
        case .unavailable(let failure):
            retryRequested = true
            return (.unavailable(failure), claimIO())
        case .open:
            if !pending.isEmpty && pending.bytes.count + additionalBytes > maxPendingBytes {
                return (.pendingLimitExceeded(pendingBytes: pending.bytes.count, limit: maxPendingBytes), false)
            }
            return nil
        }
    }

    /// Checks a batch before accepting any of it: sequence continuity and payload limits.
    func validate(_ records: some Collection<WALRecord>, assignSequences: Bool) -> StorageError? {
        var expected = nextSequence
        for record in records {
            if !assignSequences && record.sequence != expected {
                return .sequenceOutOfOrder(expected: expected, got: record.sequence)
            }
            if record.payload.count > maxPayloadLength {
                return .payloadTooLarge(length: record.payload.count, limit: maxPayloadLength)
            }
            expected += 1
        }
        return nil
    }

    /// Encodes one record into the pending group at `nextSequence`, opening a new segment span if the
    /// record would push the current segment past its limit (a segment always takes at least one record).
    mutating func encode(engineTimeMillis: Int64, payload: UnsafeRawBufferPointer) {
        let sequence = nextSequence
        let recordLength = WALRecordFormat.headerSize + payload.count
        let overflows = segmentBytes + recordLength > segmentSizeLimit && segmentBytes > WALSegment.headerSize
        if needsNewSegment || overflows {
            pending.spans.append(
                .init(
                    firstSequence: sequence, lastSequence: sequence, byteStart: pending.bytes.count,
                    byteEnd: pending.bytes.count, startsSegment: true))
            segmentBytes = WALSegment.headerSize
            needsNewSegment = false
        } else if pending.spans.isEmpty {
            pending.spans.append(
                .init(
                    firstSequence: sequence, lastSequence: sequence, byteStart: pending.bytes.count,
                    byteEnd: pending.bytes.count, startsSegment: false))
        }
        WALRecordFormat.encode(
            sequence: sequence, engineTimeMillis: engineTimeMillis, payload: payload, into: &pending.bytes)
        let last = pending.spans.count - 1
        pending.spans[last].lastSequence = sequence
        pending.spans[last].byteEnd = pending.bytes.count
        segmentBytes += recordLength
        nextSequence += 1
    }

    /// Registers a waiter, keeping `waiters` sorted (appends are the common, O(1) case).
    mutating func addWaiter(_ waiter: Waiter) {
        if let last = waiters.last, last.sequence > waiter.sequence {
            var low = 0
            var high = waiters.count
            while low < high {
                let middle = (low + high) / 2
                if waiters[middle].sequence <= waiter.sequence { low = middle + 1 } else { high = middle }
            }
            waiters.insert(waiter, at: low)
        } else {
            waiters.append(waiter)
        }
    }

    // MARK: The I/O cycle

    /// The next piece of work for the I/O queue; `.idle` releases the queue.
    /// `holdsWindow`: whether the commit window applies (the I/O queue; not a caller's `commitPending()`).
    mutating func takeWork(now: UInt64, holdsWindow: Bool = true) -> Work {
        switch phase {
        case .closed:
            ioRunning = false
            return .idle
        case .unavailable:
            let closeRetry = closeRequested && !closeRetryAttempted
            if retryRequested || closeRetry {
                retryRequested = false
                retryAttemptsStarted += 1
                if closeRetry { closeRetryAttempted = true }
                if !retained.isEmpty {
                    var group = WALGroup()
                    swap(&group, &retained)
                    return .write(group, isRetry: true)
                }
                return .synchronize(isRetry: true)
            }
            if closeRequested { return .close }
            ioRunning = false
            return .idle
        case .open:
            if !pending.isEmpty {
                // Commit window: while writers are concurrent (the last group held several records), the
                // next group starts no sooner than the window after the last one, so that it gathers more.
                // It waits in steps and ends early once the group is as large as the largest recent one (with
                // writers that each wait for their record, all are back) or a step brought no record (all
                // writers are waiting on this group): holding it longer would gain nothing.
                let elapsed = now &- lastGroupStartNanos
                let count = pending.recordCount
                let concurrent = lastGroupRecords >= WALWriter.commitWindowMinimumGroup
                let worthWaiting = count < peakGroupRecords && pendingAtLastWait != count
                if holdsWindow && commitWindowNanos > 0 && concurrent && !closeRequested && elapsed < commitWindowNanos
                    && worthWaiting
                {
                    pendingAtLastWait = count
                    return .wait(nanoseconds: min(commitWindowNanos - elapsed, WALWriter.commitWindowStepNanos))
                }
                pendingAtLastWait = nil
                lastGroupStartNanos = now
                lastGroupRecords = count
                peakGroupRecords = max(count, peakGroupRecords - peakGroupRecords / 16)
                var group = spare ?? WALGroup()
                spare = nil
                group.removeAll()
                swap(&group, &pending)
                return .write(group, isRetry: false)
            }
            if closeRequested { return .close }
            ioRunning = false
            return .idle
        }
    }

    /// Records the result of writing `group`; on failure keeps its unwritten part for a retry.
    mutating func completeWrite(_ group: WALGroup, outcome: SegmentSink.Outcome, isRetry: Bool) -> Wakeups {
        var wakeups = Wakeups()
        statistics.bytesWritten += outcome.bytesWritten
        statistics.synchronizations += outcome.synchronizations
        statistics.syncNanosTotal &+= outcome.syncNanos
        statistics.syncNanosMax = max(statistics.syncNanosMax, outcome.syncNanosMax)
        statistics.segmentsCreated += outcome.segmentsCreated
        statistics.segmentsPreallocated += outcome.segmentsPreallocated
        if var durable = outcome.durableThrough {
            // Records a failed sync may have lost are not acknowledged, even if written by this very group.
            if let lost = outcome.rewrite?.firstSequence { durable = min(durable, lost - 1) }
            if durable > durableSequence {
                statistics.recordsWritten += Int(durable - durableSequence)
                durableSequence = durable
            }
        }
        wakeups.durable = takeWaiters(through: durableSequence)
        if let (failure, resumeAt) = outcome.failure {
            fail(
                failure, rewrite: outcome.rewrite, unwritten: group.suffix(fromSpan: resumeAt), finishedRetry: isRetry,
                into: &wakeups)
            return wakeups
        }
        statistics.groupsWritten += 1
        if isRetry { recovered(into: &wakeups) }
        // Kept for reuse; cleared in `takeWork`, once the I/O queue no longer holds a reference.
        if spare == nil { spare = group }
        return wakeups
    }

    /// Records the result of a sync that was not part of a group write (interval tick or retry).
    mutating func completeSynchronize(
        _ failure: IOFailure?, outcome: SegmentSink.Outcome, isRetry: Bool
    ) -> Wakeups {
        var wakeups = Wakeups()
        // Syncs outside a group's write (`.interval` mode, retries) count and are timed like the others.
        statistics.synchronizations += outcome.synchronizations
        statistics.syncNanosTotal &+= outcome.syncNanos
        statistics.syncNanosMax = max(statistics.syncNanosMax, outcome.syncNanosMax)
        if let failure {
            fail(failure, rewrite: outcome.rewrite, unwritten: WALGroup(), finishedRetry: isRetry, into: &wakeups)
        } else if isRetry {
            recovered(into: &wakeups)
        }
        return wakeups
    }

    /// Records the close: what was still unwritten is reported to the closers.
    mutating func completeClose(_ failure: IOFailure?) -> Wakeups {
        var wakeups = Wakeups()
        if case .unavailable(let unwritten) = phase, !retained.isEmpty {
            wakeups.closeFailure = .unavailable(unwritten)
        } else if let failure {
            wakeups.closeFailure = .unavailable(failure)
        }
        phase = .closed
        ioRunning = false
        wakeups.close = closeWaiters
        closeWaiters.removeAll()
        wakeups.failed = waiters
        waiters.removeAll()
        wakeups.failure = .closed
        wakeups.recovery = recoveryWaiters
        wakeups.recoveryFailure = .closed
        recoveryWaiters.removeAll()
        return wakeups
    }

    /// Enters (or stays in) the unavailable phase: keeps the records to write again for a retry, in sequence
    /// order (`rewrite`, the records already retained, `unwritten`, then everything pending), and fails every
    /// waiter, none of whose records are durable. A failed retry also answers the `recover()` callers that were
    /// waiting for it.
    ///
    /// `rewrite` (`.interval` mode, after a failed sync) holds records that were written and acknowledged but
    /// may since have been lost: they count as durable no longer, and `durableSequence` goes back to before
    /// them, until a retry has written them again and synced.
    mutating func fail(
        _ failure: IOFailure, rewrite: WALGroup? = nil, unwritten: WALGroup, finishedRetry: Bool,
        into wakeups: inout Wakeups
    ) {
        var kept = rewrite ?? WALGroup()
        if let first = rewrite?.firstSequence, first <= durableSequence {
            statistics.recordsWritten -= Int(durableSequence - first + 1)
            durableSequence = first - 1
        }
        kept.append(contentsOf: retained)
        kept.append(contentsOf: unwritten)
        kept.append(contentsOf: pending)
        pending.removeAll()
        retained = kept
        phase = .unavailable(failure)
        statistics.failedAttempts += 1
        wakeups.failed.append(contentsOf: waiters)
        waiters.removeAll()
        wakeups.failure = .unavailable(failure)
        if finishedRetry {
            let attempt = retryAttemptsStarted
            wakeups.recovery = recoveryWaiters.filter { $0.attempt <= attempt }
            recoveryWaiters.removeAll { $0.attempt <= attempt }
            wakeups.recoveryFailure = .unavailable(failure)
        }
    }

    private mutating func recovered(into wakeups: inout Wakeups) {
        if case .unavailable = phase, retained.isEmpty { phase = .open }
        retryRequested = false
        wakeups.recovery = recoveryWaiters
        wakeups.recoveryFailure = nil
        recoveryWaiters.removeAll()
    }

    /// Removes and returns the waiters whose records are durable.
    private mutating func takeWaiters(through sequence: UInt64) -> [Waiter] {
        var count = 0
        while count < waiters.count && waiters[count].sequence <= sequence { count += 1 }
        guard count > 0 else { return [] }
        let done = Array(waiters[..<count])
        waiters.removeFirst(count)
        return done
    }
}
