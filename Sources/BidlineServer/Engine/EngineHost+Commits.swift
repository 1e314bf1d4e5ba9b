import BidlineCore
import BidlineProtocol
import BidlineStorage
import NIOCore

/// The release path: batches wait for the log here, and leave in sequence order once it has made them durable.
/// Where each round is committed is the ``CommitScheduler``'s decision.
extension EngineHost {
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
        switch scheduler.wait() {
        case .commitOnLoop:
            // One commit after the batches of this loop iteration (NIO runs tasks after the ready sockets).
            eventLoop.execute {
                self.assumeIsolated { host in host.commitOnLoop() }
            }
        case .alreadyScheduled: break
        case .logCallback: registerLogCallback()
        }
    }

    /// Writes and syncs what this iteration's batches journaled, here on the loop, and releases them. When
    /// the log's I/O queue is busy (a retry, a waiter of its own), it waits for it with a callback instead.
    func commitOnLoop() {
        let through = nextSequence - 1
        switch scheduler.decide(hasWork: through > wal.durableSequence || !releases.isEmpty) {
        case .nothing:
            return
        case .logThread:
            // Pipelining clients: the loop has more to do than wait for the disk.
            registerLogCallback()
        case .engineLoop:
            guard let result = wal.commitPending() else {
                registerLogCallback()
                return
            }
            scheduler.committedOnLoop()
            releaseDurable(result, through: through)
        }
    }

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
}
