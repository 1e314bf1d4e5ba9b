import CZstd
import SystemPackage

/// A verified snapshot: its header and the decompressed state.
public struct Snapshot: Sendable, Hashable {
    /// The file it was read from.
    public var path: FilePath
    /// The verified header.
    public var header: SnapshotHeader
    /// The encoded state, exactly `header.uncompressedLength` bytes.
    public var payload: [UInt8]
}

/// A snapshot that failed verification while looking for the newest valid one.
public struct SnapshotRejection: Sendable, Hashable {
    /// The file.
    public var path: FilePath
    /// Why it was rejected.
    public var error: StorageError
}

/// The result of looking for the newest snapshot that verifies.
public struct SnapshotSelection: Sendable, Hashable {
    /// The newest snapshot that verified, or `nil` if none did (start from an empty state).
    public var snapshot: Snapshot?
    /// Newer snapshots that were rejected, newest first (log each one).
    public var rejected: [SnapshotRejection]
}

/// Snapshot files `snapshot-<sequence, 20 digits>.zst` in a directory: writing, verifying, choosing, pruning.
///
/// Format: ``SnapshotHeader``. Every function here is synchronous and blocking; call it off the
/// matching path (a detached task or the snapshotter's own executor).
public enum SnapshotFile {
    /// Bytes read from the file per step while verifying and decompressing.
    public static let readChunkSize = 256 << 10
    /// The largest state a snapshot may declare (1 TiB), a bound on the allocation `read` makes.
    public static let maxUncompressedLength: UInt64 = 1 << 40
    /// The most bytes one byte of a zstd frame can decompress to: a block holds at most 128 KiB and takes at
    /// least 4 bytes (3 of header, 1 of run-length), so a frame of `n` bytes yields at most `n × 32768`. A header
    /// declaring more than its body can produce is damaged; `read` checks this before it allocates the state.
    public static let maxCompressionRatio: UInt64 = 32_768

    /// The file name for a snapshot at `sequence`, e.g. `snapshot-00000000000000001000.zst`.
    public static func fileName(sequence: UInt64) -> String {
        "snapshot-\(zeroPadded(sequence)).zst"
    }

    /// The sequence in a snapshot file name, or `nil` if `name` is not one (temporary files are not).
    public static func sequence(fromFileName name: String) -> UInt64? {
        parseSequence(name, prefix: "snapshot-", suffix: ".zst")
    }

    /// Writes `payload` as the snapshot at `sequence` (see ``SnapshotWriter`` for the crash-safe steps).
    @discardableResult
    public static func write(
        payload: [UInt8], sequence: UInt64, stateHash: SnapshotStateHash, to directory: FilePath,
        options: SnapshotOptions = SnapshotOptions()
    ) throws(StorageError) -> SnapshotInfo {
        let writer = try SnapshotWriter(
            directory: directory, sequence: sequence, stateHash: stateHash,
            uncompressedLength: UInt64(payload.count), options: options)
        try writer.write(payload)
        return try writer.finish()
    }

    /// Writes the concatenation of `chunks` as the snapshot at `sequence`, compressing as they come.
    @discardableResult
    public static func write(
        chunks: some Sequence<[UInt8]>, sequence: UInt64, stateHash: SnapshotStateHash, to directory: FilePath,
        options: SnapshotOptions = SnapshotOptions()
    ) throws(StorageError) -> SnapshotInfo {
        let writer = try SnapshotWriter(
            directory: directory, sequence: sequence, stateHash: stateHash, options: options)
        for chunk in chunks { try writer.write(chunk) }
        return try writer.finish()
    }

    /// Reads and verifies only the header (cheap; does not check the body).
    public static func readHeader(at path: FilePath) throws(StorageError) -> SnapshotHeader {
        let descriptor = try open(path)
        defer { try? descriptor.close() }
        return try readVerifiedHeader(descriptor, path: path).header
    }

    /// Reads, verifies and decompresses the snapshot at `path`.
    ///
    /// Verifies the header checksum, the file length, the body CRC32C, zstd's content checksum, and the
    /// decompressed length; throws ``StorageError/corruptSnapshot(file:damage:)`` on any mismatch.
    public static func read(at path: FilePath) throws(StorageError) -> Snapshot {
        let descriptor = try open(path)
        defer { try? descriptor.close() }
        let (header, _) = try readVerifiedHeader(descriptor, path: path)
        let expected = Int(header.uncompressedLength)
        var produced = 0
        // One byte of slack: output beyond `expected` proves a length mismatch instead of stalling.
        let payload = try [UInt8](unsafeUninitializedCapacity: expected + 1) {
            (buffer, initializedCount) throws(StorageError) in
            var output = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            try streamBody(descriptor, header: header, path: path) { (decompressor, input) throws(SnapshotDamage) in
                while input.pos < input.size {
                    let before = (input.pos, output.pos)
                    if let failure = decompressor.decompress(&input, &output) {
                        throw .decompressionFailed(failure)
                    }
                    if output.pos > expected {
                        throw .uncompressedLengthMismatch(
                            expected: header.uncompressedLength, actual: UInt64(output.pos))
                    }
                    if before == (input.pos, output.pos) { throw .decompressionFailed("no progress") }
                }
            }
            produced = output.pos
            initializedCount = output.pos
        }
        guard produced == expected else {
            throw .corruptSnapshot(
                file: path.string,
                damage: .uncompressedLengthMismatch(expected: header.uncompressedLength, actual: UInt64(produced)))
        }
        return Snapshot(path: path, header: header, payload: payload)
    }

    /// Verifies and decompresses the snapshot at `path`, handing the state to `consume` in chunks.
    ///
    /// For states too large to hold twice: decode as the chunks arrive. Verification completes only at
    /// the end, so if this throws, discard whatever was decoded from the chunks.
    @discardableResult
    public static func read(
        at path: FilePath, consume: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> SnapshotHeader {
        let descriptor = try open(path)
        defer { try? descriptor.close() }
        let (header, _) = try readVerifiedHeader(descriptor, path: path)
        let chunkSize = ZstdDecompressor.recommendedOutputSize
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { chunk.deallocate() }
        var total: UInt64 = 0
        var consumerError: (any Error)?
        do {
            try streamBody(descriptor, header: header, path: path) { (decompressor, input) throws(SnapshotDamage) in
                while true {
                    var output = ZSTD_outBuffer(dst: chunk.baseAddress, size: chunk.count, pos: 0)
                    let before = input.pos
                    if let failure = decompressor.decompress(&input, &output) { throw .decompressionFailed(failure) }
                    total += UInt64(output.pos)
                    if total > header.uncompressedLength {
                        throw .uncompressedLengthMismatch(expected: header.uncompressedLength, actual: total)
                    }
                    if output.pos > 0 {
                        do { try consume(UnsafeRawBufferPointer(rebasing: chunk[0..<output.pos])) } catch {
                            consumerError = error
                            throw .decompressionFailed("consumer stopped")
                        }
                    }
                    // Done with this input once it is consumed and zstd has no more output buffered.
                    if input.pos == input.size && output.pos < output.size { return }
                    if output.pos == 0 && input.pos == before { throw .decompressionFailed("no progress") }
                }
            }
        } catch {
            // The consumer's own error explains the stop better than the damage it caused.
            throw consumerError ?? error
        }
        guard total == header.uncompressedLength else {
            throw StorageError.corruptSnapshot(
                file: path.string,
                damage: .uncompressedLengthMismatch(expected: header.uncompressedLength, actual: total))
        }
        return header
    }

    /// Fully verifies the snapshot at `path` without keeping the state; returns its header.
    @discardableResult
    public static func verify(at path: FilePath) throws(StorageError) -> SnapshotHeader {
        do {
            return try read(at: path) { _ in }
        } catch let error as StorageError {
            throw error
        } catch {
            preconditionFailure("the verifying consumer does not throw")
        }
    }

    /// The snapshot files in `directory`, oldest first (temporary files excluded).
    public static func list(in directory: FilePath) throws(StorageError) -> [(sequence: UInt64, path: FilePath)] {
        let names: [String]
        do { names = try FileOps.listDirectory(directory) } catch { throw .io(error) }
        return names.compactMap { name in sequence(fromFileName: name).map { ($0, directory.appending(name)) } }
            .sorted { $0.sequence < $1.sequence }
    }

    /// Reads the newest snapshot in `directory` (at or below `maxSequence`, if given) that verifies,
    /// falling back to older ones; the rejected ones are returned for logging. A missing directory
    /// counts as empty.
    public static func loadNewestValid(
        in directory: FilePath, maxSequence: UInt64? = nil
    ) throws(StorageError) -> SnapshotSelection {
        let candidates: [(sequence: UInt64, path: FilePath)]
        do throws(StorageError) {
            candidates = try list(in: directory)
        } catch {
            if case .io(let failure) = error, failure.errno == .noSuchFileOrDirectory {
                return SnapshotSelection(snapshot: nil, rejected: [])
            }
            throw error
        }
        var rejected: [SnapshotRejection] = []
        for candidate in candidates.reversed() where candidate.sequence <= maxSequence ?? .max {
            do {
                return SnapshotSelection(snapshot: try read(at: candidate.path), rejected: rejected)
            } catch {
                rejected.append(SnapshotRejection(path: candidate.path, error: error))
            }
        }
        return SnapshotSelection(snapshot: nil, rejected: rejected)
    }

    /// Removes all but the `keepLast` newest snapshots; returns the removed paths.
    @discardableResult
    public static func prune(in directory: FilePath, keepLast: Int) throws(StorageError) -> [FilePath] {
        precondition(keepLast >= 1, "keep at least one snapshot")
        let all = try list(in: directory)
        guard all.count > keepLast else { return [] }
        let doomed = all.dropLast(keepLast).map(\.path)
        do {
            for path in doomed { try FileOps.remove(path) }
        } catch {
            throw .io(error)
        }
        return doomed
    }

    /// Removes temporary files left by snapshot writes that a crash interrupted; returns their paths.
    /// Call at start-up, before any snapshot is being written.
    @discardableResult
    public static func removeTemporaryFiles(in directory: FilePath) throws(StorageError) -> [FilePath] {
        let names: [String]
        do { names = try FileOps.listDirectory(directory) } catch { throw .io(error) }
        let temporary = names.filter { name in
            name.hasSuffix(".tmp") && sequence(fromFileName: String(name.dropLast(4))) != nil
        }.map { directory.appending($0) }
        do {
            for path in temporary { try FileOps.remove(path) }
        } catch {
            throw .io(error)
        }
        return temporary
    }

    // MARK: Internals

    private static func open(_ path: FilePath) throws(StorageError) -> FileDescriptor {
        do {
            return try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
        } catch {
            throw .io(IOFailure(.open, path: path.string, errno: asErrno(error)))
        }
    }

    /// Reads the header and checks it and the file length (and the name, for a snapshot file name).
    private static func readVerifiedHeader(
        _ descriptor: FileDescriptor, path: FilePath
    ) throws(StorageError) -> (header: SnapshotHeader, fileLength: Int64) {
        let fileLength: Int64
        var bytes = [UInt8](repeating: 0, count: SnapshotHeader.size)
        var count = 0
        do {
            fileLength = try descriptor.seek(offset: 0, from: .end)
            count = try bytes.withUnsafeMutableBytes { try descriptor.read(fromAbsoluteOffset: 0, into: $0) }
        } catch {
            throw .io(IOFailure(.read, path: path.string, errno: asErrno(error)))
        }
        let parsed = bytes.withUnsafeBytes { SnapshotHeader.parse(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        let header: SnapshotHeader
        switch parsed {
        case .success(let value): header = value
        case .failure(let damage): throw .corruptSnapshot(file: path.string, damage: damage)
        }
        let expectedLength = Int64(SnapshotHeader.size) + Int64(clamping: header.compressedLength)
        guard fileLength == expectedLength else {
            throw .corruptSnapshot(
                file: path.string, damage: .lengthMismatch(expected: expectedLength, actual: fileLength))
        }
        // Found by fuzzing (docs/TESTING.md): a header whose checksum verifies but whose length is wrong made
        // `read` allocate up to 1 TiB before the body could disprove it.
        let producible = header.compressedLength.multipliedReportingOverflow(by: maxCompressionRatio)
        let limit = min(maxUncompressedLength, producible.overflow ? .max : producible.partialValue)
        guard header.uncompressedLength <= limit else {
            throw .corruptSnapshot(
                file: path.string,
                damage: .uncompressedLengthMismatch(expected: header.uncompressedLength, actual: limit))
        }
        if let name = path.lastComponent?.string, let nameSequence = sequence(fromFileName: name),
            nameSequence != header.sequence
        {
            throw .corruptSnapshot(
                file: path.string,
                damage: .sequenceNameMismatch(nameSequence: nameSequence, headerSequence: header.sequence))
        }
        return (header, fileLength)
    }

    /// Reads the body in chunks, checksumming each and handing it to `decode`. After a decode failure the
    /// rest is still checksummed, so that a damaged body is reported as a checksum mismatch (the cause)
    /// rather than as the decompression error it provoked.
    private static func streamBody(
        _ descriptor: FileDescriptor, header: SnapshotHeader, path: FilePath,
        decode: (ZstdDecompressor, inout ZSTD_inBuffer) throws(SnapshotDamage) -> Void
    ) throws(StorageError) {
        let decompressor = try ZstdDecompressor()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: readChunkSize, alignment: 16)
        defer { chunk.deallocate() }
        var checksum = CRC32C()
        var decodeFailure: SnapshotDamage?
        var offset = Int64(SnapshotHeader.size)
        let end = offset + Int64(header.compressedLength)
        while offset < end {
            let want = Int(min(Int64(chunk.count), end - offset))
            let count: Int
            do {
                count = try descriptor.read(
                    fromAbsoluteOffset: offset, into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<want]))
            } catch {
                throw .io(IOFailure(.read, path: path.string, errno: asErrno(error)))
            }
            if count == 0 {
                throw .corruptSnapshot(file: path.string, damage: .lengthMismatch(expected: end, actual: offset))
            }
            let bytes = UnsafeRawBufferPointer(rebasing: chunk[0..<count])
            checksum.update(bytes)
            if decodeFailure == nil {
                var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
                do { try decode(decompressor, &input) } catch { decodeFailure = error }
            }
            offset += Int64(count)
        }
        guard checksum.value == header.bodyChecksum else {
            throw .corruptSnapshot(file: path.string, damage: .bodyChecksumMismatch)
        }
        if let decodeFailure { throw .corruptSnapshot(file: path.string, damage: decodeFailure) }
        guard decompressor.frameComplete else {
            throw .corruptSnapshot(file: path.string, damage: .decompressionFailed("incomplete frame"))
        }
    }
}
