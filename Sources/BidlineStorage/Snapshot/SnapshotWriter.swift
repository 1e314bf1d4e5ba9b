import SystemPackage

/// Options for writing snapshots.
public struct SnapshotOptions: Sendable, Hashable {
    /// The zstd level (default 1, the fastest standard level: snapshots favour encode speed over size).
    public var compressionLevel: Int32
    /// After a successful write, keep only this many newest snapshots (`nil`: keep all).
    public var keepLast: Int?

    /// Options with the defaults above.
    public init(compressionLevel: Int32 = 1, keepLast: Int? = nil) {
        precondition(keepLast.map { $0 >= 1 } ?? true, "keep at least one snapshot")
        self.compressionLevel = compressionLevel
        self.keepLast = keepLast
    }
}

/// Writes one snapshot file in a streaming fashion: the encoded state is fed in chunks and compressed
/// as it arrives (`ZSTD_compressStream2`), so the whole state is never held twice in memory.
///
/// Crash safety: the file is written as `snapshot-<seq>.zst.tmp`, its header is filled in last, then it
/// is `fsync`ed, renamed to `snapshot-<seq>.zst` and the directory is `fsync`ed; a crash leaves either
/// the complete snapshot or a temporary file that readers ignore. Not thread-safe: one task feeds it.
/// Dropping an unfinished writer removes its temporary file.
public final class SnapshotWriter {
    /// The directory the snapshot is written to.
    public let directory: FilePath
    /// The sequence the state was captured at.
    public let sequence: UInt64
    /// The state hash recorded in the header.
    public let stateHash: SnapshotStateHash
    /// The options it was opened with.
    public let options: SnapshotOptions

    private let temporaryPath: FilePath
    private var descriptor: FileDescriptor?
    private let compressor: ZstdCompressor
    private var fileOffset = Int64(SnapshotHeader.size)
    private var bodyChecksum = CRC32C()
    private var uncompressedLength: UInt64 = 0
    private var finished = false

    /// Opens `snapshot-<sequence>.zst.tmp` in `directory` (created if missing). Passing the state's
    /// length, if known, lets zstd record it in the frame.
    public init(
        directory: FilePath, sequence: UInt64, stateHash: SnapshotStateHash, uncompressedLength: UInt64? = nil,
        options: SnapshotOptions = SnapshotOptions()
    ) throws(StorageError) {
        self.directory = directory
        self.sequence = sequence
        self.stateHash = stateHash
        self.options = options
        temporaryPath = directory.appending(SnapshotFile.fileName(sequence: sequence) + ".tmp")
        compressor = try ZstdCompressor(level: options.compressionLevel, pledgedSize: uncompressedLength)
        do { try FileOps.createDirectoryIfMissing(directory) } catch { throw .io(error) }
        do {
            descriptor = try FileDescriptor.open(
                temporaryPath, .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw .io(IOFailure(.open, path: temporaryPath.string, errno: asErrno(error)))
        }
    }

    deinit {
        if !finished { abort() }
    }

    /// Compresses and writes the next chunk of the encoded state.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        precondition(!finished, "snapshot already finished")
        uncompressedLength += UInt64(bytes.count)
        try compressor.compress(bytes, end: false) { (chunk) throws(StorageError) in try writeBody(chunk) }
    }

    /// Compresses and writes the next chunk of the encoded state.
    public func write(_ bytes: [UInt8]) throws(StorageError) {
        try restoringErrorType(StorageError.self) { try bytes.withUnsafeBytes { try write($0) } }
    }

    /// Ends the frame, writes the header, syncs, renames into place and syncs the directory; then prunes
    /// to ``SnapshotOptions/keepLast`` if set. Returns where the snapshot is and its header.
    @discardableResult
    public func finish() throws(StorageError) -> SnapshotInfo {
        precondition(!finished, "snapshot already finished")
        try compressor.compress(UnsafeRawBufferPointer(start: nil, count: 0), end: true) {
            (chunk) throws(StorageError) in try writeBody(chunk)
        }
        let header = SnapshotHeader(
            sequence: sequence, stateHash: stateHash, uncompressedLength: uncompressedLength,
            compressedLength: UInt64(fileOffset - Int64(SnapshotHeader.size)), bodyChecksum: bodyChecksum.value,
            compression: .zstd)
        guard let descriptor else { preconditionFailure("snapshot file not open") }
        let finalPath = directory.appending(SnapshotFile.fileName(sequence: sequence))
        var operation = IOFailure.Operation.write
        do {
            try header.encoded().withUnsafeBytes { bytes in
                var written = 0
                while written < bytes.count {
                    let count = try descriptor.write(
                        toAbsoluteOffset: Int64(written), UnsafeRawBufferPointer(rebasing: bytes[written...]))
                    if count == 0 { throw Errno.noSpace }
                    written += count
                }
            }
            operation = .sync
            try FileOps.synchronize(descriptor, dataOnly: false)
            operation = .close
            self.descriptor = nil
            try descriptor.close()
        } catch {
            abort()
            throw .io(IOFailure(operation, path: temporaryPath.string, errno: asErrno(error)))
        }
        do {
            try FileOps.rename(temporaryPath, to: finalPath)
        } catch {
            abort()
            throw .io(error)
        }
        finished = true
        do {
            try FileOps.synchronizeDirectory(directory)
        } catch {
            throw .io(IOFailure(.syncDirectory, path: directory.string, errno: error))
        }
        if let keepLast = options.keepLast { _ = try SnapshotFile.prune(in: directory, keepLast: keepLast) }
        return SnapshotInfo(path: finalPath, header: header)
    }

    /// Abandons the snapshot: closes and removes the temporary file. Safe to call more than once.
    public func abort() {
        if let descriptor {
            try? descriptor.close()
            self.descriptor = nil
        }
        if !finished { try? FileOps.remove(temporaryPath) }
        finished = true
    }

    private func writeBody(_ chunk: UnsafeRawBufferPointer) throws(StorageError) {
        guard let descriptor else { preconditionFailure("snapshot file not open") }
        bodyChecksum.update(chunk)
        var written = 0
        do {
            while written < chunk.count {
                let count = try descriptor.write(
                    toAbsoluteOffset: fileOffset + Int64(written), UnsafeRawBufferPointer(rebasing: chunk[written...]))
                if count == 0 { throw Errno.noSpace }
                written += count
            }
        } catch {
            throw .io(IOFailure(.write, path: temporaryPath.string, errno: asErrno(error)))
        }
        fileOffset += Int64(written)
    }
}

/// Where a snapshot was written, and its header.
public struct SnapshotInfo: Sendable, Hashable {
    /// The snapshot file.
    public var path: FilePath
    /// Its header.
    public var header: SnapshotHeader
}
