import ArgumentParser
import BidlineCore
import BidlineServer
import BidlineStorage
import Dispatch
import Foundation
import SystemPackage

/// `bidline wal`: the write-ahead log ops tool (the counterpart of `redis-check-aof`). Every subcommand works on a
/// stopped server's data directory and, except `append-test`, changes nothing in it.
struct Wal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal",
        abstract: "Read, check and replay the write-ahead log of a data directory (offline, read-only).",
        discussion: """
            DIR is a data directory, as given to `bidline serve --data-dir`: it holds wal/ (log segments) and \
            snapshots/. See docs/OPERATIONS.md for what to do with each finding.
            """,
        subcommands: [Inspect.self, Verify.self, Replay.self, AppendTest.self])
}

/// An error the tools report as one line (`Error: …`) with exit code 1.
struct ToolError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Opens `path` as a data directory; throws if it is not a directory.
func openDataDirectory(_ path: String) throws -> DataDirectory {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ToolError("\(path) is not a directory")
    }
    return DataDirectory(FilePath(path))
}

/// Whether a directory exists at `path`.
func directoryExists(_ path: FilePath) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path.string, isDirectory: &isDirectory) && isDirectory.boolValue
}

/// The segments of `directory`, or none when the directory does not exist.
func logSegments(in directory: FilePath) throws -> [(firstSequence: UInt64, path: FilePath)] {
    guard directoryExists(directory) else { return [] }
    return try WALSegment.list(in: directory)
}

/// The last valid sequence of the log, read from its newest segments only (cheap), or `nil` when it has no record.
func lastLogSequence(in directory: FilePath) throws -> UInt64? {
    let segments = try logSegments(in: directory)
    for segment in segments.reversed() {
        let report = try WALReader(directory: directory, options: .init(readOnly: true))
            .forEachRecord(from: segment.firstSequence) { _ in }
        if let last = report.lastSequence { return last }
    }
    return nil
}

extension Wal {
    /// `bidline wal inspect DIR`: records as lines.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print log records as readable lines: sequence, engine time (UTC), verb, arguments, outcome.",
            discussion: """
                Each line: SEQ TIME VERB key=value… -> OUTCOME. To name users and show outcomes, the records are \
                applied to a shadow engine started from the newest snapshot before --from-seq (or from an empty \
                state when the log starts at sequence 1); rejected commands are in the log too and show as \
                `-> rejected CODE`. Without such a starting point, or with --raw, users print as #INDEX and \
                outcomes are left out. Filters combine with AND; a summary goes to stderr. Exit status 1 when the \
                log is corrupt (the records before the damage are printed).
                """)

        @Argument(help: "Data directory (holding wal/ and snapshots/).")
        var directory: String

        @Option(name: .customLong("from-seq"), help: "First sequence to print.")
        var fromSequence: UInt64?

        @Option(name: .customLong("to-seq"), help: "Last sequence to print.")
        var toSequence: UInt64?

        @Option(help: "Only records naming this user as an argument: its id, or #INDEX.")
        var user: String?

        @Option(help: "Only records concerning this listing (L7), directly or through a claim or transfer offer.")
        var listing: String?

        @Option(help: "Only records of this verb (BID, DEPOSIT, LOAN.NEW, …); repeat for several.")
        var verb: [String] = []

        @Option(help: "Stop after printing this many records.")
        var limit: Int?

        @Flag(help: "Do not replay: users as #INDEX, no outcomes (fast; needs no snapshot).")
        var raw = false

        func validate() throws {
            if let fromSequence, let toSequence, fromSequence > toSequence {
                throw ValidationError("--from-seq must not exceed --to-seq")
            }
            if listing != nil && Self.parseListing(listing!) == nil {
                throw ValidationError("--listing must look like L7")
            }
            for name in verb where Command.Tag.allCases.first(where: { $0.verb == name.uppercased() }) == nil {
                let known = Command.Tag.allCases.map(\.verb).joined(separator: ", ")
                throw ValidationError("unknown verb '\(name)'; log records have: \(known)")
            }
            if let limit, limit < 0 { throw ValidationError("--limit must not be negative") }
        }

        static func parseListing(_ text: String) -> ListingID? {
            let digits = text.first == "L" || text.first == "l" ? text.dropFirst() : Substring(text)
            return UInt32(digits).map(ListingID.init)
        }

        func run() throws {
            let data = try openDataDirectory(directory)
            let segments = try logSegments(in: data.wal)
            guard let firstLogSequence = segments.first?.firstSequence else {
                Terminal.error("no log segments in \(data.wal.string)")
                return
            }
            let verbs = Set(verb.compactMap { name in Command.Tag.allCases.first { $0.verb == name.uppercased() } })
            let listingFilter = listing.flatMap(Self.parseListing)
            let firstWanted = max(fromSequence ?? 1, 1)

            // The shadow engine: the state just before the first record read.
            var shadow: Engine? = nil
            var readFrom: UInt64? = firstWanted > firstLogSequence ? firstWanted : nil
            if !raw {
                let needed = max(firstWanted, firstLogSequence) - 1
                let selection = try SnapshotFile.loadNewestValid(in: data.snapshots, maxSequence: needed)
                if let snapshot = selection.snapshot, snapshot.header.sequence + 1 >= firstLogSequence {
                    shadow = Engine(state: try EngineState(decoding: snapshot.payload))
                    readFrom = snapshot.header.sequence + 1
                    Terminal.error("names and outcomes from snapshot \(snapshot.path.string) + replay")
                } else if firstLogSequence == 1 {
                    shadow = Engine()
                    readFrom = nil
                } else {
                    Terminal.error(
                        "no snapshot at or before sequence \(needed) that the log continues: users shown as #INDEX, "
                            + "no outcomes")
                }
            }
            if shadow == nil, let user, !user.hasPrefix("#") {
                throw ValidationError("--user \(user) needs names; without a replay use --user #INDEX")
            }

            struct Stop: Error {}
            var shown = 0
            var scanned = 0
            let reader = WALReader(directory: data.wal, options: .init(readOnly: true))
            let report: WALReadReport
            do {
                report = try reader.forEachRecord(from: readFrom) { view in
                    if let toSequence, view.sequence > toSequence { throw Stop() }
                    if let limit, shown >= limit { throw Stop() }
                    let command: Command
                    do {
                        command = try Command(decoding: Array(view.payload))
                    } catch {
                        if view.sequence >= firstWanted {
                            print(
                                "\(view.sequence) \(CommandText.timestamp(millis: view.engineTimeMillis)) ? "
                                    + "undecodable payload of \(view.payload.count) bytes: \(error)")
                            shown += 1
                        }
                        if shadow != nil {
                            Terminal.error("record \(view.sequence) does not decode; names and outcomes stop here")
                            shadow = nil
                        }
                        return
                    }
                    let outcome = shadow?.apply(command, at: view.engineTimeMillis)
                    shadow?.events.removeAll(keepingCapacity: true)
                    guard view.sequence >= firstWanted else { return }
                    scanned += 1
                    if !verbs.isEmpty && !verbs.contains(command.tag) { return }
                    let text = CommandText { index in shadow?.user(index)?.id ?? "#\(index.raw)" }
                    if let user {
                        var names = CommandText.users(in: command).map(text.userName)
                        names += CommandText.users(in: command).map { "#\($0.raw)" }
                        if case .addUser(let new) = command { names.append(new.id) }
                        if case .applied(.user(let index)) = outcome { names.append("#\(index.raw)") }
                        if !names.contains(user) { return }
                    }
                    if let listingFilter,
                        CommandText.listing(of: command, outcome: outcome, in: shadow?.state) != listingFilter
                    {
                        return
                    }
                    var line = "\(view.sequence) \(CommandText.timestamp(millis: view.engineTimeMillis)) "
                    line += command.tag.verb
                    let arguments = text.arguments(command)
                    if !arguments.isEmpty { line += " " + arguments }
                    if let outcome { line += " -> " + text.outcome(outcome) }
                    print(line)
                    shown += 1
                }
            } catch is Stop {
                Terminal.error("\(shown) records shown of \(scanned) read")
                return
            } catch let error as StorageError {
                Terminal.error("\(shown) records shown of \(scanned) read")
                Terminal.error("stopped: \(error)")
                Terminal.error("run `bidline wal verify \(directory)` for the full report (docs/OPERATIONS.md)")
                throw ExitCode.failure
            }
            Terminal.error(
                "\(shown) records shown of \(scanned) read; log ends at sequence \(report.lastSequence ?? 0)")
            if let truncation = report.truncation {
                Terminal.error("note: \(truncation); start-up truncates it automatically")
            }
        }
    }
}

extension Wal {
    /// `bidline wal verify DIR`: checks every byte; exit status 0 good, 1 bad.
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

        @Argument(help: "Data directory (holding wal/ and snapshots/).")
        var directory: String

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

        func verifyLog(_ data: DataDirectory, _ findings: inout Findings) -> LogSummary {
            print("log: \(data.wal.string)")
            let segments: [(firstSequence: UInt64, path: FilePath)]
            do {
                segments = try logSegments(in: data.wal)
            } catch {
                findings.problems.append("cannot list \(data.wal.string): \(error)")
                return LogSummary()
            }
            if let names = try? FileManager.default.contentsOfDirectory(atPath: data.wal.string) {
                for name in names.sorted() where name.hasSuffix(".discarded") {
                    findings.warnings.append(
                        "\(name): cut off by an earlier --truncate-corrupt-log; not read (keep or archive it)")
                }
            }
            guard !segments.isEmpty else {
                print("  no segments")
                return LogSummary()
            }
            var segmentIndex = 0
            var offset = WALSegment.headerSize
            var undecodable = 0
            do {
                let report = try WALReader(directory: data.wal, options: .init(readOnly: true)).forEachRecord { view in
                    while segmentIndex + 1 < segments.count && segments[segmentIndex + 1].firstSequence <= view.sequence
                    {
                        segmentIndex += 1
                        offset = WALSegment.headerSize
                    }
                    if (try? Command(decoding: Array(view.payload))) == nil {
                        undecodable += 1
                        if undecodable <= 20 {
                            findings.problems.append(
                                "\(segments[segmentIndex].path.string) at offset \(offset): record \(view.sequence) "
                                    + "has a valid checksum but does not decode as a command (recovery stops there)")
                        }
                    }
                    offset += WALRecordFormat.headerSize + view.payload.count
                }
                for segment in report.segments {
                    let name = FilePath(segment.path).lastComponent?.string ?? segment.path
                    let range = segment.lastSequence.map { "records \(segment.firstSequence)-\($0)" } ?? "no records"
                    var line = "  \(name)  \(range) (\(segment.recordCount))  \(segment.fileLength) bytes"
                    if segment.unusedLength > 0 {
                        line += "  (records end at offset \(segment.validLength); the other \(segment.unusedLength) bytes"
                            + " are preallocated zeros, not yet used)"
                    } else if segment.validLength < segment.fileLength {
                        line += "  (valid up to offset \(segment.validLength))"
                    }
                    print(line)
                }
                if undecodable > 20 { findings.problems.append("… \(undecodable - 20) more undecodable records") }
                if let truncation = report.truncation {
                    findings.warnings.append(
                        "\(truncation): an interrupted last write, never acknowledged; start-up truncates it")
                }
                print("  \(report.segments.map(\.recordCount).reduce(0, +)) records, checksums and sequence OK")
                return LogSummary(firstSequence: segments.first?.firstSequence, lastSequence: report.lastSequence)
            } catch let error as StorageError {
                switch error {
                case .corruptLog(let file, let offset, let damage):
                    findings.problems.append("corrupt log \(file) at offset \(offset): \(damage)")
                    describeCut(data, segments: segments, file: file, &findings)
                default:
                    findings.problems.append("\(error)")
                }
            } catch {
                findings.problems.append("\(error)")
            }
            return LogSummary(firstSequence: segments.first?.firstSequence, lastSequence: nil)
        }

        /// Says what `--truncate-corrupt-log` would cut and discard (from a read-only pass that cuts there).
        func describeCut(
            _ data: DataDirectory, segments: [(firstSequence: UInt64, path: FilePath)], file: String,
            _ findings: inout Findings
        ) {
            let options = WALReader.Options(readOnly: true, truncateCorruption: true)
            guard let report = try? WALReader(directory: data.wal, options: options).forEachRecord({ _ in }),
                let cut = report.truncation
            else { return }
            let later = segments.drop { $0.path.string != cut.file }.dropFirst()
                .map { $0.path.lastComponent?.string ?? $0.path.string }
            var text = "`bidline serve --truncate-corrupt-log` would cut \(cut.file) at offset \(cut.offset) "
            text += "(\(cut.bytesRemoved) bytes)"
            if later.count > 3 {
                text += " and rename \(later.count) later segments (\(later.first!) … \(later.last!)) to *.discarded"
            } else if !later.isEmpty {
                text += " and rename \(later.joined(separator: ", ")) to *.discarded"
            }
            text += "; the log would end at sequence \(report.lastSequence ?? 0) and every record after it is lost"
            findings.warnings.append(text)
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

extension Wal {
    /// `bidline wal replay DIR`: rebuilds the state offline and prints its summary.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the state from the newest snapshot and the log (read-only) and print a summary.",
            discussion: """
                The same recovery as start-up, without touching any file: prints users, listings, bids, the last \
                sequence, the state hash (compare it with a live server's) and the reconciliation result. \
                A progress bar is drawn on stderr when it is a terminal. Exit status 1 when recovery fails or the \
                books do not reconcile.
                """)

        @Argument(help: "Data directory (holding wal/ and snapshots/).")
        var directory: String

        @Option(name: .customLong("to-seq"), help: "Stop after this sequence (uses a snapshot at or before it).")
        var toSequence: UInt64?

        func run() throws {
            let data = try openDataDirectory(directory)
            let logEnd = try lastLogSequence(in: data.wal)
            var bar = ProgressBar(label: "replay", total: min(toSequence ?? .max, logEnd ?? 0))
            let started = DispatchTime.now().uptimeNanoseconds
            let recovered: RecoveredEngine
            do {
                recovered = try Recovery.recover(data, readOnly: true, toSequence: toSequence) { bar.update($0) }
            } catch {
                bar.finish()
                throw ToolError("replay failed: \(error)")
            }
            bar.update(recovered.lastSequence)
            bar.finish()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            for note in recovered.notes { print("note: \(note)") }
            let state = recovered.engine.state
            print("data directory: \(directory)")
            if let snapshot = recovered.snapshotSequence {
                print("snapshot: sequence \(snapshot)")
            } else {
                print("snapshot: none (from an empty state)")
            }
            let rate = seconds > 0 ? Int(Double(recovered.recordsReplayed) / seconds) : 0
            print("replayed: \(recovered.recordsReplayed) records in \(formatSeconds(seconds)) (\(rate) records/s)")
            print("sequence: \(recovered.lastSequence)")
            if let toSequence, let logEnd, toSequence > logEnd {
                print("note: the log ends at sequence \(logEnd), before --to-seq \(toSequence)")
            }
            print("engine time: \(CommandText.timestamp(millis: state.clockMillis))")
            print("users: \(state.users.count)")
            var byStatus: [ListingStatus: Int] = [:]
            for listing in state.listings { byStatus[listing.status, default: 0] += 1 }
            let statuses = ListingStatus.allCases.compactMap { status in
                byStatus[status].map { "\(status.wireText) \($0)" }
            }
            print(
                "listings: \(state.listings.count)" + (statuses.isEmpty ? "" : " (\(statuses.joined(separator: ", ")))")
            )
            print("bids: \(state.bids.count)")
            print("claims: \(state.claims.count), transfer offers: \(state.offers.count)")
            print("ledger entries: \(state.entries.count)")
            print("state hash: \(recovered.engine.stateHash())")
            let report = recovered.engine.reconcile()
            if report.balanced {
                print(
                    "reconcile: balanced (\(report.entries) entries, \(report.accounts) accounts, total \(report.totalCents))"
                )
            } else {
                print("reconcile: NOT BALANCED")
                for problem in report.problems.prefix(50) { print("  \(problem)") }
                throw ExitCode.failure
            }
        }
    }
}

extension Wal {
    /// `bidline wal append-test DIR`: the child of the kill -9 test (hidden).
    struct AppendTest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "append-test",
            abstract: "Append test records and print each sequence once it is durable (crash tests).",
            discussion: """
                Repairs a torn tail, continues the log of DIR/wal, and appends --count records from --appenders \
                concurrent tasks through the group-commit writer. After a record is durable it writes the line \
                `SEQ APPENDER COUNTER` to stdout with write(2). Payload: the command DEPOSIT #APPENDER \
                (COUNTER+1 cents) ref=aAPPENDERcCOUNTERxxx…, padded to --payload-bytes (32-78).
                """,
            shouldDisplay: false)

        @Argument(help: "Data directory (the log goes to DIR/wal).")
        var directory: String

        @Option(help: "Records to append.")
        var count = 10_000

        @Option(help: "Concurrent appenders.")
        var appenders = 8

        @Option(name: .customLong("payload-bytes"), help: "Payload bytes per record (32-78).")
        var payloadBytes = 64

        @Option(name: .customLong("segment-bytes"), help: "Segment size limit.")
        var segmentBytes = 64 << 20

        @Option(help: "fsync, interval=MS or none.")
        var durability = "fsync"

        func validate() throws {
            guard count >= 0, appenders >= 1, appenders <= 1_000, (32...78).contains(payloadBytes) else {
                throw ValidationError("--count ≥ 0, --appenders 1-1000, --payload-bytes 32-78")
            }
            guard Serve.parseDurability(durability) != nil else { throw ValidationError("bad --durability") }
        }

        /// The payload of record `counter` of `appender`: an encoded `DEPOSIT` (so that the log stays readable by
        /// every tool) of `counter + 1` cents to user #APPENDER with `ref=a<APPENDER>c<COUNTER>` padded with `x`
        /// to make the payload exactly `length` bytes (14 bytes of command + the ref).
        static func payload(appender: Int, counter: Int, length: Int) -> [UInt8] {
            let base = "a\(appender)c\(counter)"
            let ref = base + String(repeating: "x", count: max(0, length - 14 - base.utf8.count))
            let command = Command.deposit(UserIndex(appender), Money(cents: Int64(counter) + 1), ref: Ref(ref))
            return command.encoded
        }

        func run() async throws {
            let data = DataDirectory(FilePath(directory))
            let lock = try DataDirectoryLock(data)
            defer { lock.release() }
            try FileManager.default.createDirectory(atPath: data.wal.string, withIntermediateDirectories: true)
            let report = try WALReader(directory: data.wal).forEachRecord { _ in }
            if let truncation = report.truncation { Terminal.error("append-test: \(truncation)") }
            let next = (report.lastSequence ?? 0) + 1
            let options = WALWriter.Options(
                durability: Serve.parseDurability(durability)!, segmentSizeLimit: segmentBytes)
            let writer = try WALWriter(directory: data.wal, nextSequence: next, options: options)
            let (count, appenders, payloadBytes) = (self.count, self.appenders, self.payloadBytes)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for appender in 0..<appenders {
                    group.addTask {
                        let share = count / appenders + (appender < count % appenders ? 1 : 0)
                        for counter in 0..<share {
                            let payload = Self.payload(appender: appender, counter: counter, length: payloadBytes)
                            let sequence = try await writer.append(
                                payload: payload, engineTimeMillis: 1_700_000_000_000 + Int64(counter))
                            // One write(2) of a line shorter than PIPE_BUF: atomic, so lines of concurrent
                            // appenders never interleave.
                            Terminal.write("\(sequence) \(appender) \(counter)\n", to: .standardOutput)
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await writer.close()
        }
    }
}
