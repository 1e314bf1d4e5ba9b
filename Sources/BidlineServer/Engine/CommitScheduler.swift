import BidlineStorage

/// Decides where each round of batches is written and synced (``LogCommits``): a value the engine host feeds
/// with the batches it runs and asks, once per loop iteration, where to commit. It does no I/O and reads no
/// clock, so its decisions are unit-tested apart from the log.
///
/// A *round* is what the engine loop runs between two commit decisions: the batches of every connection that
/// was ready in one loop iteration. Every operation is O(1) and allocation-free (it sits on the batch path).
struct CommitScheduler: Sendable {
    /// Where the host waits for the log to make a round durable.
    enum Wait: Sendable, Equatable {
        /// Write and sync on the engine loop after this iteration's batches (schedule a ``decide(hasWork:)``).
        case commitOnLoop
        /// A commit on the loop is already scheduled for this iteration: nothing more to do.
        case alreadyScheduled
        /// Register a log callback: the log's thread writes, syncs and hands the durable batches back.
        case logCallback
    }

    /// What to do with the round that just ended.
    enum Decision: Sendable, Equatable {
        /// Nothing was journaled or waits for a release: no commit.
        case nothing
        /// Write and sync the round here, on the engine loop.
        case engineLoop
        /// Hand the round to the log thread (the batches were pipelined: the loop has more to do than wait).
        case logThread
    }

    /// ``LogCommits/adaptive``: rounds whose batches averaged more requests than this go to the log thread.
    static let adaptiveRequestsPerBatch = 2

    /// The configured policy.
    let mode: LogCommits
    /// The log's commit window in microseconds (applies to groups the log thread writes in `fsync` mode).
    let commitWindowMicroseconds: Int
    /// Batches and requests run since the last decision.
    private(set) var roundBatches = 0
    private(set) var roundRequests = 0
    /// True while a commit on the loop is scheduled for this loop iteration.
    private(set) var commitScheduled = false
    /// Rounds committed on the loop and handed to the log thread (tests, METRICS).
    private(set) var roundsCommittedOnLoop = 0
    private(set) var roundsHandedToLogThread = 0

    init(mode: LogCommits, commitWindowMicroseconds: Int = WALWriter.defaultCommitWindowMicroseconds) {
        self.mode = mode
        self.commitWindowMicroseconds = commitWindowMicroseconds
    }

    /// Whether the engine loop may write and sync the log itself (``WALWriter/Options/callerCommits``).
    var callerCommits: Bool { mode != .logThread }

    /// Counts a batch of `requests` items run in the current round.
    mutating func batchRan(requests: Int) {
        roundBatches += 1
        roundRequests += requests
    }

    /// How to wait for the log when batches or events are waiting for durability.
    mutating func wait() -> Wait {
        switch mode {
        case .logThread:
            return .logCallback
        case .engineLoop, .adaptive:
            if commitScheduled { return .alreadyScheduled }
            commitScheduled = true
            return .commitOnLoop
        }
    }

    /// Ends the round (the scheduled commit runs): where to commit it. `hasWork` is whether anything was journaled
    /// but not yet durable, or waits to be released. Resets the round's counts whatever it decides.
    mutating func decide(hasWork: Bool) -> Decision {
        commitScheduled = false
        let (batches, requests) = (roundBatches, roundRequests)
        (roundBatches, roundRequests) = (0, 0)
        guard hasWork else { return .nothing }
        if mode == .adaptive && requests > Self.adaptiveRequestsPerBatch * max(batches, 1) {
            roundsHandedToLogThread += 1
            return .logThread
        }
        return .engineLoop
    }

    /// Counts a round the loop did write and sync (after ``decide(hasWork:)`` said ``Decision/engineLoop`` and
    /// the log's I/O queue was free).
    mutating func committedOnLoop() {
        roundsCommittedOnLoop += 1
    }
}
