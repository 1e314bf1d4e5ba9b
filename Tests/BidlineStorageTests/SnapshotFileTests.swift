import BidlineTestSupport
import SystemPackage
import Testing

@testable import BidlineStorage

@Suite struct SnapshotFileTests {
    /// A state that is partly compressible (repeated structure) and partly not (random bytes).
    private func sampleState(seed: UInt64, length: Int) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        while bytes.count < length {
            bytes.append(contentsOf: Array("user=\(bytes.count % 977) balance=1000 ".utf8))
            bytes.append(contentsOf: generator.bytes(24))
        }
        return Array(bytes.prefix(length))
    }

    @Test(arguments: [0, 1, 1000, 700_000])
    func snapshotRoundTrips(length: Int) async throws {
        try await withTemporaryDirectory { directory in
            let state = sampleState(seed: UInt64(length), length: length)
            let hash = SnapshotStateHash(bytes: (0..<32).map { UInt8($0) })
            let info = try SnapshotFile.write(payload: state, sequence: 42, stateHash: hash, to: directory)
            #expect(info.path == directory.appending("snapshot-00000000000000000042.zst"))
            #expect(info.header.uncompressedLength == UInt64(length))
            let snapshot = try SnapshotFile.read(at: info.path)
            #expect(snapshot.payload == state)
            #expect(snapshot.header == info.header)
            #expect(snapshot.header.stateHash == hash)
            #expect(try SnapshotFile.readHeader(at: info.path) == info.header)

            var streamed: [UInt8] = []
            try SnapshotFile.read(at: info.path) { streamed.append(contentsOf: $0) }
            #expect(streamed == state)
            #expect(try FileOps.fileSize(info.path) == Int64(SnapshotHeader.size) + Int64(info.header.compressedLength))
        }
    }

    @Test func chunkedWritesEqualOneShotContent() async throws {
        try await withTemporaryDirectory { directory in
            let state = sampleState(seed: 3, length: 300_000)
            let chunks = stride(from: 0, to: state.count, by: 4093).map {
                Array(state[$0..<min($0 + 4093, state.count)])
            }
            let info = try SnapshotFile.write(
                chunks: chunks, sequence: 7, stateHash: SnapshotStateHash(99), to: directory)
            #expect(try SnapshotFile.read(at: info.path).payload == state)
            #expect(info.header.stateHash.bytes == [99] + [UInt8](repeating: 0, count: 31))
        }
    }

    @Test func headerLayoutMatchesTheDocumentedFormat() async throws {
        try await withTemporaryDirectory { directory in
            let info = try SnapshotFile.write(
                payload: [1, 2, 3], sequence: 0x0102, stateHash: SnapshotStateHash(5), to: directory)
            let bytes = try fileBytes(info.path)
            #expect(Array(bytes[0..<8]) == Array("BIDLSNP1".utf8))
            #expect(bytes[8..<12] == [1, 0, 0, 0])  // format version
            #expect(bytes[12..<16] == [1, 0, 0, 0])  // zstd
            #expect(bytes[16..<24] == [2, 1, 0, 0, 0, 0, 0, 0])
            #expect(bytes[24..<32] == [3, 0, 0, 0, 0, 0, 0, 0])
            #expect(bytes[40] == 5)
            #expect(CRC32C.checksum(bytes[80...]) == info.header.bodyChecksum)
            #expect(bytes[80..<84] == [0x28, 0xB5, 0x2F, 0xFD])  // the zstd frame magic
        }
    }

    /// A flipped bit anywhere in a snapshot is rejected, and loading falls back to the older snapshot.
    @Test func aFlippedBitIsRejectedAndLoadingFallsBackToAnOlderSnapshot() async throws {
        try await withTemporaryDirectory { directory in
            let older = sampleState(seed: 1, length: 20_000)
            let newer = sampleState(seed: 2, length: 20_000)
            try SnapshotFile.write(payload: older, sequence: 100, stateHash: SnapshotStateHash(1), to: directory)
            let info = try SnapshotFile.write(
                payload: newer, sequence: 200, stateHash: SnapshotStateHash(2), to: directory)
            let original = try fileBytes(info.path)
            #expect(try SnapshotFile.loadNewestValid(in: directory).snapshot?.payload == newer)

            // Every byte of the header, then a spread of body bytes including the first and last.
            let positions =
                Array(0..<SnapshotHeader.size) + Array(stride(from: SnapshotHeader.size, to: original.count, by: 37))
                + [original.count - 1]
            for position in positions {
                var damaged = original
                damaged[position] ^= 1 << UInt8(position % 8)
                try writeFile(info.path, damaged)
                let error = #expect(throws: StorageError.self) { try SnapshotFile.read(at: info.path) }
                guard case .corruptSnapshot(let file, _) = error else {
                    Issue.record("unexpected error \(String(describing: error))")
                    continue
                }
                #expect(file == info.path.string)
                let selection = try SnapshotFile.loadNewestValid(in: directory)
                #expect(selection.snapshot?.header.sequence == 100)
                #expect(selection.snapshot?.payload == older)
                #expect(selection.rejected.map(\.path) == [info.path])
            }
            try writeFile(info.path, original)
            #expect(try SnapshotFile.loadNewestValid(in: directory).snapshot?.header.sequence == 200)
        }
    }

    @Test func bodyDamageIsReportedAsAChecksumMismatch() async throws {
        try await withTemporaryDirectory { directory in
            let info = try SnapshotFile.write(
                payload: sampleState(seed: 5, length: 5000), sequence: 1, stateHash: .zero, to: directory)
            var bytes = try fileBytes(info.path)
            bytes[SnapshotHeader.size + 20] ^= 0xFF
            try writeFile(info.path, bytes)
            #expect(throws: StorageError.corruptSnapshot(file: info.path.string, damage: .bodyChecksumMismatch)) {
                try SnapshotFile.read(at: info.path)
            }
            try writeFile(info.path, Array(bytes.dropLast(1)))
            #expect(
                throws: StorageError.corruptSnapshot(
                    file: info.path.string,
                    damage: .lengthMismatch(expected: Int64(bytes.count), actual: Int64(bytes.count - 1)))
            ) { try SnapshotFile.read(at: info.path) }
        }
    }

    @Test func pruningKeepsTheNewestAndTemporaryFilesAreIgnored() async throws {
        try await withTemporaryDirectory { directory in
            for sequence in [10, 20, 30, 40] as [UInt64] {
                try SnapshotFile.write(payload: [UInt8(sequence)], sequence: sequence, stateHash: .zero, to: directory)
            }
            // An interrupted write leaves a temporary file; it is never listed or loaded.
            let abandoned = try SnapshotWriter(directory: directory, sequence: 50, stateHash: .zero)
            try abandoned.write([1, 2, 3])
            let temporary = directory.appending("snapshot-00000000000000000060.zst.tmp")
            try writeFile(temporary, [0, 1, 2])
            #expect(try SnapshotFile.list(in: directory).map(\.sequence) == [10, 20, 30, 40])
            #expect(try SnapshotFile.loadNewestValid(in: directory).snapshot?.payload == [40])
            #expect(try SnapshotFile.loadNewestValid(in: directory, maxSequence: 35).snapshot?.payload == [30])

            let removed = try SnapshotFile.prune(in: directory, keepLast: 2)
            #expect(
                removed.map(\.string)
                    == [10, 20].map { directory.appending(SnapshotFile.fileName(sequence: $0)).string })
            #expect(try SnapshotFile.list(in: directory).map(\.sequence) == [30, 40])
            #expect(try SnapshotFile.removeTemporaryFiles(in: directory).count == 2)
            abandoned.abort()

            try SnapshotFile.write(
                payload: [50], sequence: 50, stateHash: .zero, to: directory, options: .init(keepLast: 1))
            #expect(try SnapshotFile.list(in: directory).map(\.sequence) == [50])
        }
    }

    @Test func anEmptyOrMissingDirectoryHasNoSnapshot() async throws {
        try await withTemporaryDirectory { (directory) async throws(any Error) in
            #expect(try SnapshotFile.loadNewestValid(in: directory).snapshot == nil)
            #expect(try SnapshotFile.loadNewestValid(in: directory.appending("absent")).snapshot == nil)
        }
    }

    @Test func stateHashBytesRoundTrip() {
        let bytes = (0..<32).map { UInt8(255 - $0) }
        #expect(SnapshotStateHash(bytes: bytes).bytes == bytes)
        #expect(SnapshotStateHash(bytes: [0xAB]).description == "ab" + String(repeating: "0", count: 62))
        #expect(SnapshotStateHash(0x0102).bytes.prefix(3) == [2, 1, 0])
    }

    /// Regression (found by `tools/fuzz snapshot`, docs/TESTING.md): a header whose checksum verifies but that
    /// declares more state than its body can decompress to is refused before `read` allocates for it.
    @Test(arguments: [UInt64(1) << 39, 1 << 24])
    func aLengthTheBodyCannotProduceIsRefusedBeforeAllocating(declared: UInt64) async throws {
        try await withTemporaryDirectory { directory in
            let info = try SnapshotFile.write(
                payload: [1, 2, 3], sequence: 9, stateHash: SnapshotStateHash(1), to: directory)
            var header = info.header
            header.uncompressedLength = declared  // more than 32768 × the few bytes of its body
            var bytes = try fileBytes(info.path)
            bytes.replaceSubrange(0..<SnapshotHeader.size, with: header.encoded())
            try writeFile(info.path, bytes)
            let limit = header.compressedLength * SnapshotFile.maxCompressionRatio
            #expect(
                throws: StorageError.corruptSnapshot(
                    file: info.path.string,
                    damage: .uncompressedLengthMismatch(expected: declared, actual: limit))
            ) { try SnapshotFile.read(at: info.path) }
        }
    }
}
