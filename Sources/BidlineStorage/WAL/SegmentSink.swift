import Dispatch
import SystemPackage

/// The I/O side of the log writer: the open segment file and the calls that write and sync it.
///
/// Confined to the writer's serial I/O queue (held in a `Mutex` that only that queue takes). Every
/// method reports failure as a value; after a failure the sink is left so that writing the unwritten
/// spans again (at the same offsets) is correct, which also covers a failed `fsync`: the data is
/// rewritten before the next `fsync`, never assumed to have reached the disk.
///
/// The same rule holds in `.interval` mode, where groups are acknowledged after `pwrite` and synced
/// later: the sink keeps a copy of everything written into the open segment since its last successful
/// sync (``Outcome/rewrite``). Linux reports a writeback error once and may drop the dirty pages, so after
/// a failed sync that copy is handed back to be written again at the same offsets, and synced, before
/// anything else; a sync that merely succeeds on the second try proves nothing.
struct SegmentSink {
    /// What one attempt to write a group achieved.
    struct Outcome: Sendable {
        /// The highest sequence now durable (under the durability mode), if this attempt advanced it.
        var durableThrough: UInt64?
        /// The failed call and the index of the first span that must be written again.
        var failure: (failure: IOFailure, resumeAt: Int)?
        /// After a failed sync in `.interval` mode: the records written into the open segment since its last
        /// successful sync (acknowledged, possibly lost by the kernel), as one span continuing that segment
        /// at the offset the sink was rewound to. They precede the failed group's unwritten spans and must be
        /// written again, and synced, before they count as durable.
        var rewrite: WALGroup?
        var bytesWritten = 0
        var synchronizations = 0
        var segmentsCreated = 0
        /// Of those, segments that were zero-filled in advance.
        var segmentsPreallocated = 0
        /// Time spent in data syncs of this attempt, and the longest one.
        var syncNanos: UInt64 = 0
        var syncNanosMax: UInt64 = 0
    }

    let directory: FilePath
    let fileSystem: any WALFileSystem
    let durability: WALWriter.Durability

    /// Supplies zero-filled segments (nil: segments are created empty and grow).
    let preallocator: SegmentPreallocator?

    private var handle: (any WALFileHandle)?
    private var segmentPath = FilePath()
    /// End of the data written into the open segment.
    private var offset: Int64 = 0
    /// Length of the open segment's zero-filled file (0 when it was created empty): bytes past `offset`
    /// up to here are zeros, cut off when the segment is finished.
    private var preallocatedLength: Int64 = 0
    /// Where the last span written into the open segment began: the point to rewind to after a failure.
    private var lastSpanStart: Int64 = 0
    /// Whether data was written since the last sync.
    private(set) var isDirty = false
    /// `.interval` mode: a copy of the records written into the open segment since its last successful sync
    /// (one span, never starting a segment), and the offset where they begin. Empty in the other modes:
    /// `.fsync` syncs every group before acknowledging it, and `.none` never syncs.
    private var unsynced = WALGroup()
    private var unsyncedStart: Int64 = 0
    private var lastSyncUptimeNanos: UInt64 = DispatchTime.now().uptimeNanoseconds
    /// Whether an interval sync is scheduled (`.interval` mode only).
    var intervalSyncScheduled = false

    init(
        directory: FilePath, fileSystem: any WALFileSystem, durability: WALWriter.Durability,
        preallocator: SegmentPreallocator?
    ) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.durability = durability
        self.preallocator = preallocator
    }

    /// Writes the group's spans in order, creating segments where a span starts one, then syncs
    /// (in `.fsync` mode, and for a retry in `.interval` mode: rewritten data counts only once synced).
    /// Stops at the first failure.
    mutating func write(_ group: WALGroup, isRetry: Bool = false) -> Outcome {
        var outcome = Outcome()
        let syncsGroup = durability == .fsync || (isRetry && durability != .none)
        // The span written into the open segment by this call and not yet synced.
        var unsynced: Int? = nil
        for index in group.spans.indices {
            let span = group.spans[index]
            if span.startsSegment {
                if let failure = finishSegment(&outcome) {
                    if outcome.rewrite != nil {
                        // `.interval`: this group's spans so far are in the rewrite; the rest is unwritten.
                        outcome.failure = (failure, index)
                    } else if let unsynced {
                        rewind()
                        outcome.failure = (failure, unsynced)
                    } else {
                        outcome.failure = (failure, index)
                    }
                    return outcome
                }
                if let unsynced { outcome.durableThrough = group.spans[unsynced].lastSequence }
                unsynced = nil
                if let failure = createSegment(firstSequence: span.firstSequence, &outcome) {
                    outcome.failure = (failure, index)
                    return outcome
                }
            }
            guard let handle else { preconditionFailure("a span continues a segment that is not open") }
            do {
                try group.bytes.withUnsafeBytes { bytes in
                    try handle.write(UnsafeRawBufferPointer(rebasing: bytes[span.byteStart..<span.byteEnd]), at: offset)
                }
            } catch {
                discard(from: offset, through: offset + Int64(span.byteEnd - span.byteStart))
                outcome.failure = (IOFailure(.write, path: segmentPath.string, errno: asErrno(error)), index)
                return outcome
            }
            if case .interval = durability { keepUnsynced(span, of: group) }
            lastSpanStart = offset
            offset += Int64(span.byteEnd - span.byteStart)
            outcome.bytesWritten += span.byteEnd - span.byteStart
            isDirty = true
            unsynced = index
            if !syncsGroup { outcome.durableThrough = span.lastSequence }
        }
        if syncsGroup, let unsynced {
            if let failure = synchronize(&outcome) {
                if outcome.rewrite != nil {
                    outcome.failure = (failure, group.spans.count)
                } else {
                    rewind()
                    outcome.failure = (failure, unsynced)
                }
                return outcome
            }
            outcome.durableThrough = group.spans[unsynced].lastSequence
        }
        return outcome
    }

    /// Syncs the open segment if it has unsynced data; the outcome carries the sync's count and time.
    mutating func synchronize() -> (failure: IOFailure?, outcome: Outcome) {
        var outcome = Outcome()
        let failure = isDirty ? synchronize(&outcome) : nil
        return (failure, outcome)
    }

    /// In `.interval(ms)` mode, syncs if data is unsynced and the interval has passed since the last sync.
    mutating func synchronizeIfDue() -> (failure: IOFailure?, outcome: Outcome) {
        guard case .interval(let milliseconds) = durability, isDirty else { return (nil, Outcome()) }
        let elapsed = DispatchTime.now().uptimeNanoseconds &- lastSyncUptimeNanos
        guard elapsed >= UInt64(milliseconds) * 1_000_000 else { return (nil, Outcome()) }
        return synchronize()
    }

    /// Syncs (unless `.none`) and closes the open segment.
    mutating func close() -> IOFailure? {
        var outcome = Outcome()
        return finishSegment(&outcome)
    }

    /// Syncs the open segment. On failure in `.interval` mode, hands the unsynced copy back as
    /// `outcome.rewrite` and moves the write position back to where it begins.
    private mutating func synchronize(_ outcome: inout Outcome) -> IOFailure? {
        guard let handle else { return nil }
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            try handle.synchronize(dataOnly: true)
        } catch {
            if !unsynced.isEmpty {
                // Not zeroed (unlike an unacknowledged group): the pages may still hold the acknowledged data,
                // which a crash before the rewrite would then keep. The rewrite goes to the same offsets.
                var rewrite = WALGroup()
                swap(&rewrite, &unsynced)
                outcome.rewrite = rewrite
                offset = unsyncedStart
                lastSpanStart = offset
                // Nothing the sink wrote is outstanding now: the state holds the copy for the retry.
                isDirty = false
            }
            return IOFailure(.sync, path: segmentPath.string, errno: asErrno(error))
        }
        unsynced.removeAll()
        let took = DispatchTime.now().uptimeNanoseconds &- started
        outcome.syncNanos &+= took
        outcome.syncNanosMax = max(outcome.syncNanosMax, took)
        outcome.synchronizations += 1
        isDirty = false
        lastSyncUptimeNanos = DispatchTime.now().uptimeNanoseconds
        return nil
    }

    /// Syncs (unless `.none`) and closes the open segment, if any.
    private mutating func finishSegment(_ outcome: inout Outcome) -> IOFailure? {
        guard let handle else { return nil }
        if durability != .none && isDirty {
            if let failure = synchronize(&outcome) { return failure }
        }
        // The unused zeros of a preallocated segment are cut off (not synced: a reader treats a zero
        // tail as the segment's end either way).
        if preallocatedLength > offset { try? handle.truncate(to: offset) }
        preallocatedLength = 0
        // The data is synced; a failing close cannot lose it, so its error is not reported.
        try? handle.close()
        self.handle = nil
        isDirty = false
        return nil
    }

    /// Creates the segment file, writes and syncs its header, and syncs the directory (unless `.none`).
    private mutating func createSegment(firstSequence: UInt64, _ outcome: inout Outcome) -> IOFailure? {
        let path = directory.appending(WALSegment.fileName(firstSequence: firstSequence))
        var created: (any WALFileHandle)?
        var createdLength: Int64 = 0
        if let spare = preallocator?.take() {
            do {
                try fileSystem.renameFile(at: spare.path, to: path)
                created = spare.handle
                createdLength = spare.length
            } catch {
                try? spare.handle.close()
                try? FileOps.remove(spare.path)
            }
        }
        // Prepare the one after this (in the background; no effect while one is ready or under way).
        defer { preallocator?.prepareInBackground() }
        if created == nil {
            do {
                created = try fileSystem.createFile(at: path)
            } catch {
                return IOFailure(.open, path: path.string, errno: asErrno(error))
            }
        }
        guard let created else { preconditionFailure("segment file neither taken nor created") }
        var operation = IOFailure.Operation.write
        do {
            let header = WALSegment.encodeHeader(firstSequence: firstSequence)
            try header.withUnsafeBytes { try created.write($0, at: 0) }
            if durability != .none {
                operation = .sync
                try created.synchronize(dataOnly: false)
                operation = .syncDirectory
                try fileSystem.synchronizeDirectory(at: directory)
                outcome.synchronizations += 1
            }
        } catch {
            try? created.close()
            return IOFailure(
                operation, path: operation == .syncDirectory ? directory.string : path.string,
                errno: asErrno(error))
        }
        handle = created
        segmentPath = path
        offset = Int64(WALSegment.headerSize)
        preallocatedLength = createdLength
        lastSpanStart = offset
        isDirty = false
        unsynced.removeAll()
        outcome.segmentsCreated += 1
        if createdLength > 0 { outcome.segmentsPreallocated += 1 }
        return nil
    }

    /// `.interval` mode: appends a copy of `span` (just written at `offset`) to the unsynced copy.
    private mutating func keepUnsynced(_ span: WALGroup.Span, of group: WALGroup) {
        if unsynced.isEmpty {
            unsyncedStart = offset
            unsynced.spans.append(
                .init(
                    firstSequence: span.firstSequence, lastSequence: span.lastSequence, byteStart: 0, byteEnd: 0,
                    startsSegment: false))
        }
        unsynced.bytes.append(contentsOf: group.bytes[span.byteStart..<span.byteEnd])
        unsynced.spans[0].lastSequence = span.lastSequence
        unsynced.spans[0].byteEnd = unsynced.bytes.count
    }

    /// Discards the last span written into the open segment, so that it is written again at the same offset.
    private mutating func rewind() {
        discard(from: lastSpanStart, through: offset)
        offset = lastSpanStart
    }

    /// Removes what a failed or discarded write may have left in `from..<through`: in a preallocated
    /// segment by writing zeros back (keeping the blocks allocated), else, or if that fails, by
    /// truncating the file at `from`.
    private mutating func discard(from start: Int64, through end: Int64) {
        guard let handle else { return }
        if end <= preallocatedLength && end > start {
            let zeros = [UInt8](repeating: 0, count: Int(end - start))
            let zeroed: Bool = zeros.withUnsafeBytes { bytes in
                do {
                    try handle.write(bytes, at: start)
                    return true
                } catch {
                    return false
                }
            }
            if zeroed { return }
        }
        try? handle.truncate(to: start)
        preallocatedLength = min(preallocatedLength, start)
    }
}
