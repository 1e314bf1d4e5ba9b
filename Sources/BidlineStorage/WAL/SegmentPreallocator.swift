import Dispatch
import Synchronization
import SystemPackage

/// Keeps one zero-filled, synced spare file ready to become the next log segment.
///
/// Why: `fdatasync` after an appending write must also write the file's new size and block map (on
/// ext4 an inode write: a second I/O and a second wait); after an overwrite of blocks that were
/// written and synced before, it writes only the data. Measured on this machine's disk: 4 KiB
/// `O_DSYNC` appends 170 µs each, overwrites 83 µs (`docs/BENCHMARKS.md`). PostgreSQL zero-fills its
/// WAL segments for the same reason (`wal_init_zero`).
///
/// The spare is `wal-preallocated.tmp` in the log directory (a name ``WALSegment/list(in:)`` ignores):
/// written with zeros to the segment size on a background queue, synced, and kept open. When the
/// writer starts a segment it renames the spare into place; the next spare is then prepared in the
/// background. If the spare is not ready (a rollover soon after another, or a failed preparation such
/// as a full disk), the segment is created empty and grows as before: slower syncs, same correctness.
/// A leftover spare from an earlier run is never trusted: it is removed and prepared again.
final class SegmentPreallocator: Sendable {
    /// A prepared spare: its path and the open handle (writes are positional). Unchecked: a spare has one
    /// owner at a time, handed over through the mutex (preparing queue, then the writer's I/O queue).
    struct Spare: @unchecked Sendable {
        let path: FilePath
        let handle: any WALFileHandle
        let length: Int64
    }

    /// The spare file's name inside the log directory.
    static let spareName = "wal-preallocated.tmp"
    /// Zeros are written in pieces of this size.
    static let chunkSize = 1 << 20

    private enum State {
        case idle
        case preparing
        case ready(Spare)
        case closed
    }

    let directory: FilePath
    let fileSystem: any WALFileSystem
    /// Bytes of each spare (the segment size limit).
    let length: Int64
    /// Whether to sync the zeros (not in `.none` durability, where nothing is synced).
    let synchronizes: Bool

    private let state = Mutex<State>(.idle)
    private let queue = DispatchQueue(label: "bidline.wal.preallocate", qos: .utility)
    /// Spares prepared and preparations that failed, for the writer's statistics.
    private let counts = Mutex<(prepared: Int, failed: Int)>((0, 0))

    var spareCount: (prepared: Int, failed: Int) { counts.withLock { $0 } }

    var sparePath: FilePath { directory.appending(Self.spareName) }

    init(directory: FilePath, fileSystem: any WALFileSystem, length: Int64, synchronizes: Bool) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.length = length
        self.synchronizes = synchronizes
    }

    /// Removes a leftover spare and prepares a new one on the caller's thread (so that the first segment
    /// of a run is preallocated too). A failure is not an error: the first segment then grows.
    func prepareNow() {
        let start = state.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .preparing
            return true
        }
        if start { finishPreparation(makeSpare()) }
    }

    /// Starts preparing a spare in the background unless one is ready, under way, or the allocator is closed.
    func prepareInBackground() {
        let start = state.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .preparing
            return true
        }
        guard start else { return }
        queue.async { self.finishPreparation(self.makeSpare()) }
    }

    /// The ready spare, if there is one; the caller now owns its file and handle.
    func take() -> Spare? {
        state.withLock { state in
            guard case .ready(let spare) = state else { return nil }
            state = .idle
            return spare
        }
    }

    /// Stops preparing spares and removes a ready one (waits for a preparation under way to finish).
    func close() {
        queue.sync {}
        let spare: Spare? = state.withLock { state in
            defer { state = .closed }
            if case .ready(let spare) = state { return spare }
            return nil
        }
        if let spare {
            try? spare.handle.close()
            try? FileOps.remove(spare.path)
        }
    }

    private func finishPreparation(_ spare: Spare?) {
        counts.withLock { counts in
            if spare != nil { counts.prepared += 1 } else { counts.failed += 1 }
        }
        let orphan: Spare? = state.withLock { state in
            guard case .preparing = state else { return spare }  // closed meanwhile
            if let spare { state = .ready(spare) } else { state = .idle }
            return nil
        }
        if let orphan {
            try? orphan.handle.close()
            try? FileOps.remove(orphan.path)
        }
    }

    /// Creates the spare, fills it with zeros, syncs it; on any failure removes it and returns `nil`.
    private func makeSpare() -> Spare? {
        let path = sparePath
        try? FileOps.remove(path)
        let handle: any WALFileHandle
        do { handle = try fileSystem.createFile(at: path) } catch { return nil }
        do {
            let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 4096)
            defer { zeros.deallocate() }
            zeros.initializeMemory(as: UInt8.self, repeating: 0)
            var offset: Int64 = 0
            while offset < length {
                let count = Int(min(Int64(Self.chunkSize), length - offset))
                try handle.write(UnsafeRawBufferPointer(rebasing: zeros[0..<count]), at: offset)
                offset += Int64(count)
            }
            if synchronizes { try handle.synchronize(dataOnly: false) }
        } catch {
            try? handle.close()
            try? FileOps.remove(path)
            return nil
        }
        return Spare(path: path, handle: handle, length: length)
    }
}
