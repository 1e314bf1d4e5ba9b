import BidlineCore
import Foundation
import BidlineStorage
import SystemPackage

/// What start-up recovery found and rebuilt.
public struct RecoveredEngine: Sendable {
    public var engine: Engine
    /// The sequence of the last record applied (0 for an empty data directory).
    public var lastSequence: UInt64
    /// The engine time of the last record applied (0 when none).
    public var lastTimeMillis: Int64
    /// The snapshot recovery started from, if any.
    public var snapshotSequence: UInt64?
    public var recordsReplayed: Int
    /// Human-readable notes for the start-up log: rejected snapshots, a truncated torn tail.
    public var notes: [String]
}

/// Why recovery stopped.
public enum RecoveryError: Error, CustomStringConvertible {
    case snapshotUnreadable(path: String, reason: String)
    case snapshotHashMismatch(path: String, header: String, computed: String)
    case badRecord(sequence: UInt64, reason: String)
    case storage(String)
    /// The snapshot holds records the log does not: the log ends at `logEnd` (its newest segment is `segment`),
    /// before the snapshot's sequence. Starting would put a hole in the log (the writer continues after the
    /// snapshot). Seen when the log lost its tail after the snapshot was written (a power loss in `interval`
    /// or `none` mode, a hand-edited data directory).
    case snapshotBeyondLogEnd(snapshot: String, snapshotSequence: UInt64, segment: String, logEnd: UInt64)
    /// Records are missing between the snapshot and the log: the first record after the snapshot is
    /// `foundSequence` in `segment`, not `snapshotSequence + 1`.
    case gapAfterSnapshot(snapshot: String, snapshotSequence: UInt64, segment: String, foundSequence: UInt64)

    public var description: String {
        switch self {
        case .snapshotUnreadable(let path, let reason): "snapshot \(path) cannot be decoded: \(reason)"
        case .snapshotHashMismatch(let path, let header, let computed):
            "snapshot \(path) decodes to state hash \(computed), but its header says \(header)"
        case .badRecord(let sequence, let reason): "log record \(sequence) cannot be decoded: \(reason)"
        case .storage(let message): message
        case .snapshotBeyondLogEnd(let snapshot, let sequence, let segment, let logEnd):
            "snapshot \(snapshot) is at sequence \(sequence) but the log ends at \(logEnd) (\(segment)): records "
                + "\(logEnd + 1)...\(sequence) are in the snapshot only; refusing to start with a hole in the log"
        case .gapAfterSnapshot(let snapshot, let sequence, let segment, let found):
            "snapshot \(snapshot) is at sequence \(sequence) but the log continues with \(found) (\(segment)): "
                + "records \(sequence + 1)...\(found - 1) are missing"
        }
    }
}

/// Start-up recovery: the newest snapshot that verifies, then every log record after its sequence.
public enum Recovery {
    /// Rebuilds the engine from `directory`. A torn tail is truncated (reported in `notes`); a bad record
    /// elsewhere stops recovery with an error naming the file and offset, unless `truncateCorruption`.
    ///
    /// The snapshot and the log must meet: the log's next record after the snapshot's sequence `S` is `S + 1`,
    /// or the log ends exactly at `S`, or it has no segments at all (every one retired); the writer then
    /// continues at `S + 1`. A log that ends before `S` (``RecoveryError/snapshotBeyondLogEnd``) or continues
    /// after a gap (``RecoveryError/gapAfterSnapshot``) stops recovery, naming both files.
    /// `toSequence` stops replay early (for `bidline wal replay --to-seq`); `progress` is called every
    /// 65,536 records with the last sequence applied.
    public static func recover(
        _ directory: DataDirectory, truncateCorruption: Bool = false, readOnly: Bool = false,
        toSequence: UInt64? = nil, progress: ((UInt64) -> Void)? = nil
    ) throws -> RecoveredEngine {
        var notes: [String] = []
        var engine = Engine()
        var snapshotSequence: UInt64? = nil
        var lastSequence: UInt64 = 0
        var lastTime: Int64 = 0
        let selection = try SnapshotFile.loadNewestValid(in: directory.snapshots, maxSequence: toSequence)
        for rejected in selection.rejected {
            notes.append("snapshot \(rejected.path.string) rejected: \(rejected.error)")
        }
        if let snapshot = selection.snapshot {
            let state: EngineState
            do {
                state = try EngineState(decoding: snapshot.payload)
            } catch {
                throw RecoveryError.snapshotUnreadable(path: snapshot.path.string, reason: "\(error)")
            }
            let computed = SnapshotStateHash(engineHash: state)
            guard computed == snapshot.header.stateHash else {
                throw RecoveryError.snapshotHashMismatch(
                    path: snapshot.path.string, header: "\(snapshot.header.stateHash)", computed: "\(computed)")
            }
            engine = Engine(state: state)
            snapshotSequence = snapshot.header.sequence
            lastSequence = snapshot.header.sequence
            notes.append("loaded snapshot \(snapshot.path.string) at sequence \(snapshot.header.sequence)")
        }
        var replayed = 0
        guard FileManager.default.fileExists(atPath: directory.wal.string) else {
            return RecoveredEngine(
                engine: engine, lastSequence: lastSequence, lastTimeMillis: lastTime, snapshotSequence: snapshotSequence,
                recordsReplayed: 0, notes: notes)
        }
        let reader = WALReader(
            directory: directory.wal, options: WALReader.Options(readOnly: readOnly, truncateCorruption: truncateCorruption))
        struct Stop: Error {}
        let report: WALReadReport
        do {
            // From 1 without a snapshot: a log whose older segments are gone must not be replayed onto an empty state.
            report = try reader.forEachRecord(from: (snapshotSequence ?? 0) + 1) { view in
                if let toSequence, view.sequence > toSequence { throw Stop() }
                guard view.sequence > lastSequence else { return }
                var bytes = BinaryReader(Array(view.payload))
                let command: Command
                do {
                    command = try Command(from: &bytes)
                } catch {
                    throw RecoveryError.badRecord(sequence: view.sequence, reason: "\(error)")
                }
                _ = engine.apply(command, at: view.engineTimeMillis)
                engine.events.removeAll(keepingCapacity: true)
                lastSequence = view.sequence
                lastTime = view.engineTimeMillis
                replayed += 1
                if replayed & 0xFFFF == 0 { progress?(lastSequence) }
            }
        } catch is Stop {
            return RecoveredEngine(
                engine: engine, lastSequence: lastSequence, lastTimeMillis: lastTime, snapshotSequence: snapshotSequence,
                recordsReplayed: replayed, notes: notes)
        } catch let error as StorageError {
            if let snapshot = selection.snapshot {
                try checkMeeting(snapshot, readError: error, log: directory.wal)
            }
            throw RecoveryError.storage("\(error)")
        }
        if let truncation = report.truncation { notes.append("\(truncation)") }
        if let snapshot = selection.snapshot {
            try checkMeeting(snapshot, report: report)
        }
        if lastTime == 0, let snapshotSequence, snapshotSequence > 0 { lastTime = 0 }
        return RecoveredEngine(
            engine: engine, lastSequence: lastSequence, lastTimeMillis: lastTime, snapshotSequence: snapshotSequence,
            recordsReplayed: replayed, notes: notes)
    }

    /// After a successful read from the snapshot's sequence `S` + 1: the records read (from the segment that
    /// should hold `S + 1`, to the log's end) must reach `S`. The reader has checked that they are continuous.
    private static func checkMeeting(_ snapshot: Snapshot, report: WALReadReport) throws {
        let sequence = snapshot.header.sequence
        guard let newest = report.segments.last else { return }  // no segments: every one retired
        // A segment without records ends where its header says it begins.
        let logEnd = report.lastSequence ?? (report.segments.first.map { $0.firstSequence - 1 } ?? 0)
        if logEnd < sequence {
            throw RecoveryError.snapshotBeyondLogEnd(
                snapshot: snapshot.path.string, snapshotSequence: sequence, segment: newest.path, logEnd: logEnd)
        }
    }

    /// After a failed read from the snapshot's sequence `S` + 1: a log that begins after `S + 1`, or that
    /// jumps over `S + 1` from one segment to the next, has a gap after the snapshot.
    private static func checkMeeting(_ snapshot: Snapshot, readError: StorageError, log: FilePath) throws {
        let sequence = snapshot.header.sequence
        switch readError {
        case .missingRecords(_, let firstAvailable):
            let segment = log.appending(WALSegment.fileName(firstSequence: firstAvailable)).string
            throw RecoveryError.gapAfterSnapshot(
                snapshot: snapshot.path.string, snapshotSequence: sequence, segment: segment,
                foundSequence: firstAvailable)
        case .corruptLog(let file, 0, .sequenceMismatch(let expected, let found))
        where expected <= sequence + 1 && found > sequence + 1:
            // A segment that should continue the log at or before `S + 1` starts after it.
            throw RecoveryError.gapAfterSnapshot(
                snapshot: snapshot.path.string, snapshotSequence: sequence, segment: file, foundSequence: found)
        default:
            return
        }
    }
}
