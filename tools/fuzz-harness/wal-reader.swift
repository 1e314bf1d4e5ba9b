// libFuzzer harness: arbitrary bytes as a log segment must give records or a reported corruption (a
// `StorageError` naming the file and an offset inside it), never a crash or an out-of-bounds read (ASan).
// Built and run by `tools/fuzz wal-reader SECONDS`.
import BidlineStorage
import SystemPackage

let walDirectory = makeScratchDirectory("wal-reader")
let walSegment = walDirectory.appending(WALSegment.fileName(firstSequence: 1))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWALReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    replaceFile(walSegment, with: UnsafeRawBufferPointer(start: data, count: size))
    // 1. Read-only, as `bidline wal verify` does: records in order, or damage inside the file.
    let verified = readChecked(WALReader(directory: walDirectory, options: .init(readOnly: true)), fileLength: size)
    // 2. As start-up with the operator's `truncateCorruption`: any damage is cut; what is left must then read
    //    clean and keep exactly the records the first pass delivered before the damage. (For one input in four,
    //    chosen by length so that a rerun of an input does the same: it triples the cost of an input.)
    guard size % 4 == 0 else { return 0 }
    let repaired = readChecked(
        WALReader(directory: walDirectory, options: .init(truncateCorruption: true)), fileLength: size)
    if let repaired {
        let again = readChecked(WALReader(directory: walDirectory, options: .init(readOnly: true)), fileLength: size)
        invariant(again?.report.truncation == nil, "a repaired segment still needs a cut")
        invariant(again?.sequences == repaired.sequences, "a repaired segment reads differently")
        if let verified { invariant(verified.sequences == repaired.sequences, "verify and repair disagree") }
    }
    return 0
}

/// Reads the log, checks what came back, and returns the sequences delivered and the report
/// (`nil` when the reader refused the log with a corruption report, which is then checked).
func readChecked(_ reader: WALReader, fileLength: Int) -> (sequences: [UInt64], report: WALReadReport)? {
    var sequences: [UInt64] = []
    do {
        let report = try reader.forEachRecord { record in
            if let last = sequences.last {
                invariant(record.sequence == last + 1, "sequence \(record.sequence) after \(last)")
            }
            invariant(record.payload.count <= WALRecordFormat.maxPayloadLength, "oversized payload delivered")
            // Touch every payload byte: an out-of-bounds view is caught by ASan here.
            var sum: UInt8 = 0
            for byte in record.payload { sum &+= byte }
            _ = sum
            sequences.append(record.sequence)
        }
        invariant(report.recordsDelivered == sequences.count, "report counts \(report.recordsDelivered) records")
        invariant(report.lastSequence == sequences.last, "report's last sequence differs")
        for segment in report.segments {
            invariant(segment.validLength <= segment.fileLength, "valid length past the file's end")
        }
        if let truncation = report.truncation {
            invariant(truncation.offset >= 0 && truncation.offset <= Int64(fileLength), "cut outside the file")
        }
        return (sequences, report)
    } catch let error as StorageError {
        switch error {
        case .corruptLog(let file, let offset, _):
            invariant(file == walSegment.string, "corruption reported in \(file)")
            invariant(offset >= 0 && offset < Int64(max(fileLength, 1)), "corruption offset \(offset) outside the file")
        default:
            fatalError("unexpected error reading a segment: \(error)")
        }
        return nil
    } catch {
        fatalError("a non-storage error escaped the reader: \(error)")
    }
}
