import ArgumentParser
import BidlineCore
import BidlineServer
import BidlineStorage
import Dispatch
import Foundation
import SystemPackage

extension Wal {
    /// `bidline wal replay --data-dir D`: rebuilds the state offline and prints its summary.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the state from the newest snapshot and the log (read-only) and print a summary.",
            discussion: """
                The same recovery as start-up, without touching any file: prints users, listings, bids, the last \
                sequence, the state hash (compare it with a live server's) and the reconciliation result. \
                A progress bar is drawn on stderr when it is a terminal. Exit status 1 when recovery fails or the \
                books do not reconcile.
                """)

        @OptionGroup var dataDirectory: DataDirectoryOption
        var directory: String { dataDirectory.path }

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
