import ArgumentParser
import BidlineCore
import BidlineServer
import BidlineStorage
import Dispatch
import Foundation
import SystemPackage

extension Wal {
    /// `bidline wal inspect --data-dir D`: records as lines.
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

        @OptionGroup var dataDirectory: DataDirectoryOption
        var directory: String { dataDirectory.path }

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
                Terminal.error(
                    "run `bidline wal verify --data-dir \(directory)` for the full report (docs/OPERATIONS.md)")
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
