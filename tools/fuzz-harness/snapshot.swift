// libFuzzer harness for the snapshot decoder: arbitrary bytes as a snapshot file (`SnapshotFile.read`, then
// `EngineState(decoding:)` of what it returns) must give a state or a reported error, never a crash or an
// out-of-bounds read (ASan). Each input is tried three ways:
//   1. as it is (the checksums stand in the way of most mutations, as they do on disk);
//   2. with the header's lengths and both CRC32Cs recomputed, so that mutations of the body reach zstd
//      (whose own XXH64 content checksum still guards the state bytes) and of the header reach its checks;
//   3. the bytes after the 80-byte header as an encoded engine state, straight into `EngineState(decoding:)`.
// Built and run by `tools/fuzz snapshot SECONDS`.
import BidlineCore
import BidlineStorage
import SystemPackage

let snapshotDirectory = makeScratchDirectory("snapshot")
/// Not a snapshot file name, so that the name-versus-header sequence check does not refuse every mutation.
let snapshotPath = snapshotDirectory.appending("input.zst")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSnapshot(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    readChecked(input)
    if size >= SnapshotHeader.size {
        var repaired = Array(input)
        repairHeader(&repaired)
        repaired.withUnsafeBytes { readChecked($0) }
        decodeChecked(Array(input[SnapshotHeader.size...]))
    } else {
        decodeChecked(Array(input))
    }
    return 0
}

/// Reads `bytes` as a snapshot file; a verified payload must decode to a state or a `DecodingError`.
func readChecked(_ bytes: UnsafeRawBufferPointer) {
    replaceFile(snapshotPath, with: bytes)
    let snapshot: Snapshot
    do {
        snapshot = try SnapshotFile.read(at: snapshotPath)
    } catch {
        switch error {
        case .corruptSnapshot(let file, _): invariant(file == snapshotPath.string, "damage reported in \(file)")
        default: fatalError("unexpected error reading a snapshot: \(error)")
        }
        return
    }
    invariant(UInt64(snapshot.payload.count) == snapshot.header.uncompressedLength, "payload length differs")
    decodeChecked(snapshot.payload)
}

/// Decodes `bytes` as an engine state; a decoded state must also hash (encode) without trapping.
func decodeChecked(_ bytes: [UInt8]) {
    let state: EngineState
    do {
        state = try EngineState(decoding: bytes)
    } catch is DecodingError {
        return
    } catch {
        fatalError("a non-decoding error escaped the state decoder: \(error)")
    }
    _ = state.hash
}

/// Makes the header's compressed length match the input and recomputes the body and header CRC32Cs
/// (layout in `snapshots/FORMAT.md`: compressedLength at 32, bodyCRC at 72, headerCRC at 76 over 0..<76).
func repairHeader(_ bytes: inout [UInt8]) {
    func store(_ value: some FixedWidthInteger, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (index, byte) in raw.enumerated() { bytes[offset + index] = byte }
        }
    }
    store(UInt64(bytes.count - SnapshotHeader.size), at: 32)
    store(CRC32C.checksum(bytes[SnapshotHeader.size...]), at: 72)
    store(CRC32C.checksum(bytes[0..<76]), at: 76)
}
