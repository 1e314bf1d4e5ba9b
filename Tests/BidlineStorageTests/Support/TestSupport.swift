import Dispatch
import Foundation
import Synchronization
import SystemPackage

@testable import BidlineStorage

/// A small deterministic generator (SplitMix64), so that test data is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}

/// The payload the tests write for `sequence`: recognisable and of varying length.
func samplePayload(_ sequence: UInt64, length: Int? = nil) -> [UInt8] {
    var generator = SplitMix64(seed: sequence)
    return generator.bytes(length ?? Int(sequence % 53))
}

/// The whole content of a file.
func fileBytes(_ path: FilePath) throws -> [UInt8] {
    var buffer: [UInt8] = []
    let length = try FileOps.readWholeFile(path, into: &buffer)
    return Array(buffer[0..<length])
}

/// Replaces a file's content.
func writeFile(_ path: FilePath, _ bytes: [UInt8]) throws {
    let descriptor = try FileDescriptor.open(
        path, .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
    defer { try? descriptor.close() }
    _ = try descriptor.writeAll(bytes)
}

/// The record offsets in a segment file's bytes (walking the length fields).
func recordOffsets(inSegment bytes: [UInt8]) -> [Int] {
    var offsets: [Int] = []
    var offset = WALSegment.headerSize
    while offset + WALRecordFormat.headerSize <= bytes.count {
        offsets.append(offset)
        let length = bytes.withUnsafeBytes {
            UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        }
        offset += WALRecordFormat.headerSize + Int(length)
    }
    return offsets
}

/// Writes records `1...count` (payloads from `samplePayload`) with a writer and closes it.
func writeSampleLog(
    in directory: FilePath, count: Int, options: WALWriter.Options = WALWriter.Options(durability: .none),
    payloadLength: ((UInt64) -> Int)? = nil
) async throws {
    let writer = try WALWriter(directory: directory, nextSequence: 1, options: options)
    let records = (1...UInt64(count)).map { sequence in
        WALRecord(
            sequence: sequence, engineTimeMillis: 1_700_000_000_000 + Int64(sequence),
            payload: samplePayload(sequence, length: payloadLength?(sequence)))
    }
    try await writer.append(batch: records)
    try await writer.close()
}

/// A file system that fails on demand and can hold a data sync until released, wrapping the real one.
final class FaultyFileSystem: WALFileSystem {
    struct Faults {
        /// Writes fail with this error, after writing `bytesBeforeWriteFailure` bytes of the request.
        var writeError: Errno?
        var bytesBeforeWriteFailure = 0
        /// Data syncs (`fdatasync`) fail with this error.
        var syncError: Errno?
        /// The next data sync fails with this error, later ones succeed: how Linux reports a writeback error
        /// (once, to the next `fsync`; the one after succeeds although the data never reached the disk).
        var syncErrorOnce: Errno?
        /// Whether a failing data sync drops what was written to that file since its last successful sync:
        /// the file's bytes (and length) go back to what they were then, as when the kernel discards the
        /// dirty pages of a failed writeback. Data written before that sync is then on "disk" only if the
        /// writer writes it again. Writes are tracked (an undo copy per write) only while this is set;
        /// truncations are not undone.
        var dropsUnsyncedWritesOnSyncFailure = false
        /// Creating a file fails with this error.
        var createError: Errno?
        /// The next data sync blocks until `releaseSync()`.
        var holdNextSync = false
        /// Writes into segment files, and into the preallocated spare (`wal-preallocated.tmp`).
        var writeCalls = 0
        var spareWriteCalls = 0
        var dataSyncCalls = 0
        /// Renames (putting a preallocated spare in place) fail with this error.
        var renameError: Errno?
    }

    let faults = Mutex(Faults())
    private let real = POSIXFileSystem()
    private let held = DispatchSemaphore(value: 0)
    private let entered = DispatchSemaphore(value: 0)

    func createFile(at path: FilePath) throws(Errno) -> any WALFileHandle {
        if let error = faults.withLock({ $0.createError }) { throw error }
        let inner = try real.createFile(at: path)
        let reader: FileDescriptor
        do { reader = try FileDescriptor.open(path, .readOnly) } catch { throw asErrno(error) }
        let handle = FaultyFileHandle(
            inner: inner, reader: reader, fileSystem: self,
            isSpare: path.lastComponent?.string == SegmentPreallocator.spareName)
        handles.withLock { $0[path.string] = handle }
        return handle
    }

    func renameFile(at source: FilePath, to destination: FilePath) throws(Errno) {
        if let error = faults.withLock({ $0.renameError }) { throw error }
        try real.renameFile(at: source, to: destination)
        // A spare put in place is a segment from now on: its writes count as segment writes.
        handles.withLock { handles in
            if let handle = handles.removeValue(forKey: source.string) {
                handle.isSpare.withLock { $0 = false }
                handles[destination.string] = handle
            }
        }
    }

    /// The handles created, by their current path.
    private let handles = Mutex<[String: FaultyFileHandle]>([:])

    func synchronizeDirectory(at path: FilePath) throws(Errno) {
        try real.synchronizeDirectory(at: path)
    }

    /// Stops failing.
    func heal() {
        faults.withLock { faults in
            faults.writeError = nil
            faults.syncError = nil
            faults.syncErrorOnce = nil
            faults.createError = nil
            faults.renameError = nil
        }
    }

    /// Waits (off the Swift concurrency pool) until the held sync has begun.
    func waitUntilSyncIsHeld() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.entered.wait()
                continuation.resume()
            }
        }
    }

    /// Lets the held sync proceed.
    func releaseSync() {
        held.signal()
    }

    /// Called before each data sync; throws the error the sync fails with, if it fails.
    fileprivate func beforeDataSync() throws(Errno) {
        let (hold, error) = faults.withLock { faults in
            faults.dataSyncCalls += 1
            let hold = faults.holdNextSync
            faults.holdNextSync = false
            let once = faults.syncErrorOnce
            faults.syncErrorOnce = nil
            return (hold, faults.syncError ?? once)
        }
        if hold {
            entered.signal()
            held.wait()
        }
        if let error { throw error }
    }
}

/// One write since the last successful sync, and what it overwrote (for ``Faults/dropsUnsyncedWritesOnSyncFailure``).
struct UnsyncedWrite {
    var offset: Int64
    var previousBytes: [UInt8]
    var previousLength: Int64
}

/// `@unchecked Sendable`: used by one thread at a time (the `WALFileHandle` contract); the state shared with
/// the tests is behind mutexes.
final class FaultyFileHandle: WALFileHandle, @unchecked Sendable {
    let inner: any WALFileHandle
    /// A read-only descriptor on the same file, to save what writes overwrite.
    let reader: FileDescriptor
    let fileSystem: FaultyFileSystem
    let isSpare: Mutex<Bool>
    /// Oldest first; emptied by each successful sync.
    let unsyncedWrites = Mutex<[UnsyncedWrite]>([])

    init(inner: any WALFileHandle, reader: FileDescriptor, fileSystem: FaultyFileSystem, isSpare: Bool) {
        self.inner = inner
        self.reader = reader
        self.fileSystem = fileSystem
        self.isSpare = Mutex(isSpare)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(Errno) {
        let (error, partial, tracks) = fileSystem.faults.withLock { faults in
            if isSpare.withLock({ $0 }) { faults.spareWriteCalls += 1 } else { faults.writeCalls += 1 }
            return (faults.writeError, faults.bytesBeforeWriteFailure, faults.dropsUnsyncedWritesOnSyncFailure)
        }
        if tracks { try saveForUndo(offset: offset, count: bytes.count) }
        if let error {
            let count = min(partial, bytes.count)
            if count > 0 { try inner.write(UnsafeRawBufferPointer(rebasing: bytes[0..<count]), at: offset) }
            throw error
        }
        try inner.write(bytes, at: offset)
    }

    func truncate(to length: Int64) throws(Errno) {
        try inner.truncate(to: length)
    }

    func synchronize(dataOnly: Bool) throws(Errno) {
        if dataOnly {
            do throws(Errno) {
                try fileSystem.beforeDataSync()
            } catch {
                if fileSystem.faults.withLock({ $0.dropsUnsyncedWritesOnSyncFailure }) { try dropUnsyncedWrites() }
                throw error
            }
        }
        try inner.synchronize(dataOnly: dataOnly)
        unsyncedWrites.withLock { $0.removeAll() }
    }

    func close() throws(Errno) {
        try? reader.close()
        try inner.close()
    }

    /// Saves the bytes `count` bytes at `offset` hold now, and the file's length.
    private func saveForUndo(offset: Int64, count: Int) throws(Errno) {
        do {
            let length = try reader.seek(offset: 0, from: .end)
            var previous = [UInt8](repeating: 0, count: count)
            let read = try previous.withUnsafeMutableBytes { try reader.read(fromAbsoluteOffset: offset, into: $0) }
            previous.removeSubrange(read...)
            unsyncedWrites.withLock {
                $0.append(UnsyncedWrite(offset: offset, previousBytes: previous, previousLength: length))
            }
        } catch {
            throw asErrno(error)
        }
    }

    /// Puts back what the writes since the last successful sync overwrote, newest first.
    private func dropUnsyncedWrites() throws(Errno) {
        let writes = unsyncedWrites.withLock { writes in
            defer { writes.removeAll() }
            return writes
        }
        for write in writes.reversed() {
            do {
                try write.previousBytes.withUnsafeBytes { try inner.write($0, at: write.offset) }
            } catch {
                throw asErrno(error)
            }
            try inner.truncate(to: write.previousLength)
        }
    }
}

/// Polls `condition` until it holds, at most `attempts` times, 5 ms apart; for effects of background
/// timers. Asserts on the outcome only, never on how long it took.
func eventually(attempts: Int = 2000, _ condition: () -> Bool) async -> Bool {
    for _ in 0..<attempts {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 5_000_000)
    }
    return condition()
}
