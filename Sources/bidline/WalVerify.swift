import ArgumentParser
import BidlineCore
import BidlineServer
import BidlineStorage
import Dispatch
import Foundation
import SystemPackage

extension Wal {
    /// `bidline wal verify --data-dir D`: checks every byte; exit status 0 good, 1 bad.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the log and snapshots of a data directory; exit status 0 when good, 1 when not.",
            discussion: """
                Read-only. Checks every segment header and record (CRC32C, lengths, versions), sequence \
                continuity within and across segments, that every record decodes as a command, every snapshot \
                (header, body checksum, zstd checksum, decoded state and its hash), and that the log reaches back \
                to the snapshot recovery would start from. A torn tail (an interrupted last write) is reported as \
                a warning: start-up truncates it and nothing acknowledged is lost. Damage anywhere else names the \
                file and offset, and what `bidline serve --truncate-corrupt-log` would cut.
                """)

        @OptionGroup var dataDirectory: DataDirectoryOption
        var directory: String { dataDirectory.path }

        @Flag(help: "Check snapshot headers and body checksums only, without decoding the states (faster).")
        var quick = false

        func run() throws {
            let data = try openDataDirectory(directory)
            var findings = Findings()
            guard directoryExists(data.wal) || directoryExists(data.snapshots) else {
                print("\(directory): no wal/ and no snapshots/: not a data directory")
                throw ExitCode.failure
            }
            let log = verifyLog(data, &findings)
            print("")
            let start = verifySnapshots(data, &findings)
            print("")
            checkCoverage(log: log, start: start, &findings)
            for warning in findings.warnings { print("warning: \(warning)") }
            for problem in findings.problems { print("PROBLEM: \(problem)") }
            if findings.problems.isEmpty {
                let count = findings.warnings.count
                print("result: OK" + (count == 0 ? "" : " (\(count) warning\(count == 1 ? "" : "s"))"))
            } else {
                let count = findings.problems.count
                print("result: BAD (\(count) problem\(count == 1 ? "" : "s")); see docs/OPERATIONS.md")
                throw ExitCode.failure
            }
        }

        struct Findings {
            var problems: [String] = []
            var warnings: [String] = []
        }

        /// What the log pass found.
        struct LogSummary {
            var firstSequence: UInt64?
            var lastSequence: UInt64?
        }

        /// Verifies the log with ``WALVerifier`` (every record must also decode as a command) and prints the
        /// report: one line per segment, then its warnings and problems into `findings`.
        func verifyLog(_ data: DataDirectory, _ findings: inout Findings) -> LogSummary {
            print("log: \(data.wal.string)")
            let report = WALVerifier.verify(directory: data.wal) { payload in
                (try? Command(decoding: Array(payload))) != nil
            }
            for name in report.discardedFiles {
                findings.warnings.append(
                    "\(name): cut off by an earlier --truncate-corrupt-log; not read (keep or archive it)")
            }
            if report.firstSequence == nil && report.isClean {
                print("  no segments")
                return LogSummary()
            }
            findings.problems += report.problems.map(\.description)
            let unlisted = report.undecodableCount - WALVerifier.undecodableListLimit
            if unlisted > 0 { findings.problems.append("… \(unlisted) more undecodable records") }
            for segment in report.segments {
                let name = FilePath(segment.path).lastComponent?.string ?? segment.path
                let range = segment.lastSequence.map { "records \(segment.firstSequence)-\($0)" } ?? "no records"
                var line = "  \(name)  \(range) (\(segment.recordCount))  \(segment.fileLength) bytes"
                if segment.unusedLength > 0 {
                    line +=
                        "  (records end at offset \(segment.validLength); the other \(segment.unusedLength) "
                        + "bytes are preallocated zeros, not yet used)"
                } else if segment.validLength < segment.fileLength {
                    line += "  (valid up to offset \(segment.validLength))"
                }
                print(line)
            }
            if let torn = report.tornTail {
                findings.warnings.append(
                    "\(torn): an interrupted last write, never acknowledged; start-up truncates it")
            }
            if let repair = report.repair { findings.warnings.append(Self.describe(repair)) }
            if !report.segments.isEmpty {
                print("  \(report.recordCount) records, checksums and sequence OK")
            }
            return LogSummary(firstSequence: report.firstSequence, lastSequence: report.lastSequence)
        }

        /// Says what `--truncate-corrupt-log` would cut and discard.
        static func describe(_ repair: WALRepairPreview) -> String {
            let (cut, later) = (repair.cut, repair.discardedSegments)
            var text = "`bidline serve --truncate-corrupt-log` would cut \(cut.file) at offset \(cut.offset) "
            text += "(\(cut.bytesRemoved) bytes)"
            if later.count > 3 {
                text += " and rename \(later.count) later segments (\(later.first!) … \(later.last!)) to *.discarded"
            } else if !later.isEmpty {
                text += " and rename \(later.joined(separator: ", ")) to *.discarded"
            }
            text += "; the log would end at sequence \(repair.lastSequence) and every record after it is lost"
            return text
        }

        /// Verifies every snapshot; returns the sequence recovery would start from (the newest valid one, or 0).
        func verifySnapshots(_ data: DataDirectory, _ findings: inout Findings) -> UInt64 {
            print("snapshots: \(data.snapshots.string)")
            guard directoryExists(data.snapshots) else {
                print("  none")
                return 0
            }
            let snapshots: [(sequence: UInt64, path: FilePath)]
            do {
                snapshots = try SnapshotFile.list(in: data.snapshots)
            } catch {
                findings.problems.append("cannot list \(data.snapshots.string): \(error)")
                return 0
            }
            if let names = try? FileManager.default.contentsOfDirectory(atPath: data.snapshots.string) {
                for name in names.sorted() where name.hasSuffix(".tmp") {
                    findings.warnings.append("\(name): left by an interrupted snapshot write; start-up removes it")
                }
            }
            if snapshots.isEmpty { print("  none") }
            var newestValid: UInt64 = 0
            for (sequence, path) in snapshots {
                let name = path.lastComponent?.string ?? path.string
                do {
                    let header: SnapshotHeader
                    var detail = ""
                    if quick {
                        header = try SnapshotFile.verify(at: path)
                    } else {
                        let snapshot = try SnapshotFile.read(at: path)
                        header = snapshot.header
                        let state: EngineState
                        do {
                            state = try EngineState(decoding: snapshot.payload)
                        } catch {
                            throw ToolError("checksums OK but the state does not decode: \(error)")
                        }
                        guard SnapshotStateHash(engineHash: state) == header.stateHash else {
                            throw ToolError("checksums OK but the decoded state's hash differs from the header's")
                        }
                        detail =
                            "  users \(state.users.count), listings \(state.listings.count), bids \(state.bids.count)"
                    }
                    print(
                        "  \(name)  seq \(sequence)  \(formatBytes(header.compressedLength)) "
                            + "(state \(formatBytes(header.uncompressedLength)))\(detail)  OK")
                    newestValid = max(newestValid, sequence)
                } catch {
                    print("  \(name)  BAD")
                    findings.problems.append("snapshot \(path.string): \(error)")
                }
            }
            return newestValid
        }

        /// The log must continue the snapshot that recovery would start from.
        func checkCoverage(log: LogSummary, start: UInt64, _ findings: inout Findings) {
            let from = start == 0 ? "an empty state" : "the snapshot at sequence \(start)"
            guard let first = log.firstSequence else {
                print("recovery: from \(from); no log to replay")
                return
            }
            if first > start + 1 {
                findings.problems.append(
                    "the log starts at sequence \(first) but recovery starts from \(from): records "
                        + "\(start + 1)-\(first - 1) are missing (restore the archived segments or an older snapshot)")
                return
            }
            if let last = log.lastSequence {
                if last > start {
                    print("recovery: from \(from), then replay records \(start + 1)-\(last)")
                } else {
                    print("recovery: from \(from); nothing to replay (the log ends at sequence \(last))")
                }
            }
        }
    }
}
