import Foundation
import SystemPackage

/// Checks a log directory completely, read-only, and says what it found (the engine of `bidline wal verify`).
///
/// Every segment header and record is read (CRC32C, lengths, versions) and the sequence must continue within and
/// across segments. Nothing is changed: a torn tail is reported, not cut, and what
/// ``WALReader/Options/truncateCorruption`` would cut is worked out by a second read-only pass.
public enum WALVerifier {
    /// At most this many undecodable records are listed one by one; the rest are counted.
    public static let undecodableListLimit = 20

    /// Verifies the log in `directory` (a data directory's `wal/`); a missing directory is an empty log.
    ///
    /// `decodes` is asked about each record's payload (valid only during the call) when given: a record whose
    /// checksum is valid but whose payload it rejects is a problem (recovery would stop there). Reads every byte
    /// once, twice when there is damage; never writes.
    public static func verify(
        directory: FilePath, decodes: ((UnsafeRawBufferPointer) -> Bool)? = nil
    ) -> WALVerifyReport {
        var report = WALVerifyReport(directory: directory.string)
        guard isDirectory(directory) else { return report }
        let segments: [(firstSequence: UInt64, path: FilePath)]
        do {
            segments = try WALSegment.list(in: directory)
        } catch {
            report.problems.append(.unreadable("cannot list \(directory.string): \(error)"))
            return report
        }
        if let names = try? FileManager.default.contentsOfDirectory(atPath: directory.string) {
            report.discardedFiles = names.sorted().filter { $0.hasSuffix(".discarded") }
        }
        report.firstSequence = segments.first?.firstSequence
        guard !segments.isEmpty else { return report }

        var segmentIndex = 0
        var offset = Int64(WALSegment.headerSize)
        var undecodable: [WALVerifyProblem] = []
        do {
            let read = try WALReader(directory: directory, options: .init(readOnly: true)).forEachRecord { view in
                while segmentIndex + 1 < segments.count && segments[segmentIndex + 1].firstSequence <= view.sequence {
                    segmentIndex += 1
                    offset = Int64(WALSegment.headerSize)
                }
                if let decodes, !decodes(view.payload) {
                    report.undecodableCount += 1
                    if undecodable.count < undecodableListLimit {
                        undecodable.append(
                            .undecodable(
                                file: segments[segmentIndex].path.string, offset: offset, sequence: view.sequence))
                    }
                }
                offset += Int64(WALRecordFormat.headerSize + view.payload.count)
            }
            report.segments = read.segments
            report.recordCount = read.segments.map(\.recordCount).reduce(0, +)
            report.lastSequence = read.lastSequence
            report.tornTail = read.truncation
            report.problems += undecodable
        } catch let error as StorageError {
            report.problems += undecodable
            switch error {
            case .corruptLog(let file, 0, .sequenceMismatch(let expected, let found)) where found > expected:
                report.problems.append(.gap(file: file, expected: expected, found: found))
                report.repair = repairPreview(directory: directory, segments: segments)
            case .corruptLog(let file, let offset, let damage):
                report.problems.append(.corrupt(file: file, offset: offset, damage: damage))
                report.repair = repairPreview(directory: directory, segments: segments)
            default:
                report.problems.append(.unreadable("\(error)"))
            }
        } catch {
            report.problems += undecodable
            report.problems.append(.unreadable("\(error)"))
        }
        return report
    }

    /// What `--truncate-corrupt-log` would cut and discard, from a read-only pass that cuts at the damage.
    static func repairPreview(
        directory: FilePath, segments: [(firstSequence: UInt64, path: FilePath)]
    ) -> WALRepairPreview? {
        let options = WALReader.Options(readOnly: true, truncateCorruption: true)
        guard let read = try? WALReader(directory: directory, options: options).forEachRecord({ _ in }),
            let cut = read.truncation
        else { return nil }
        let later = segments.drop { $0.path.string != cut.file }.dropFirst()
            .map { $0.path.lastComponent?.string ?? $0.path.string }
        return WALRepairPreview(cut: cut, discardedSegments: Array(later), lastSequence: read.lastSequence ?? 0)
    }

    static func isDirectory(_ path: FilePath) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path.string, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

/// What ``WALVerifier/verify(directory:decodes:)`` found in one log directory.
public struct WALVerifyReport: Sendable, Hashable {
    /// The log directory verified.
    public var directory: String
    /// The segments read, oldest first; empty when the pass stopped at a problem.
    public var segments: [WALSegmentSummary] = []
    /// Valid records in the log (0 when the pass stopped at a problem).
    public var recordCount = 0
    /// The sequence the oldest segment starts at, or `nil` when there is no segment.
    public var firstSequence: UInt64?
    /// The last valid record's sequence; `nil` when the log holds none or the pass stopped at a problem.
    public var lastSequence: UInt64?
    /// An interrupted last write (never acknowledged; start-up cuts it): a warning, not a problem.
    public var tornTail: WALTruncation?
    /// Files that an earlier `--truncate-corrupt-log` set aside (`*.discarded`); not read.
    public var discardedFiles: [String] = []
    /// Records with a valid checksum that do not decode, counted (at most 20 are listed in `problems`).
    public var undecodableCount = 0
    /// What is wrong, in the order found; empty when the log is good.
    public var problems: [WALVerifyProblem] = []
    /// With damage: what `--truncate-corrupt-log` would cut, and what would be lost.
    public var repair: WALRepairPreview?

    /// True when nothing is wrong (a torn tail and discarded files are warnings only).
    public var isClean: Bool { problems.isEmpty }

    /// An empty report for `directory`.
    public init(directory: String) {
        self.directory = directory
    }
}

/// One thing wrong with a log; each case names the file, and the offset where it has one.
public enum WALVerifyProblem: Sendable, Hashable, CustomStringConvertible {
    /// A damaged segment header or record that is not the torn tail.
    case corrupt(file: String, offset: Int64, damage: WALDamage)
    /// A segment starts after the sequence the log had reached: records `expected..<found` are missing.
    case gap(file: String, expected: UInt64, found: UInt64)
    /// A record whose checksum is valid but whose payload does not decode (recovery stops there).
    case undecodable(file: String, offset: Int64, sequence: UInt64)
    /// The directory or a file could not be read.
    case unreadable(String)

    /// One line, for example `corrupt log wal/…log at offset 4321: payload checksum mismatch`.
    public var description: String {
        switch self {
        case .corrupt(let file, let offset, let damage): "corrupt log \(file) at offset \(offset): \(damage)"
        case .gap(let file, let expected, let found):
            "gap in the log: \(file) starts at sequence \(found) where \(expected) was expected "
                + "(records \(expected)-\(found - 1) are missing)"
        case .undecodable(let file, let offset, let sequence):
            "\(file) at offset \(offset): record \(sequence) has a valid checksum but does not decode as a command "
                + "(recovery stops there)"
        case .unreadable(let text): text
        }
    }
}

/// What `bidline serve --truncate-corrupt-log` would do to a damaged log.
public struct WALRepairPreview: Sendable, Hashable {
    /// The cut (not applied).
    public var cut: WALTruncation
    /// The file names of the later segments it would rename to `*.discarded`.
    public var discardedSegments: [String]
    /// Where the log would end; every record after it is lost.
    public var lastSequence: UInt64
}
