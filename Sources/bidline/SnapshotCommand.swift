import ArgumentParser
import BidlineCore
import BidlineServer
import BidlineStorage
import Dispatch
import Foundation
import SystemPackage

/// `bidline snapshot`: take, inspect and list snapshots of a data directory offline.
struct SnapshotTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Take, inspect and list snapshots of a data directory (offline).",
        discussion: """
            A running server takes snapshots itself (every --snapshot-every records, on the admin SNAPSHOT \
            command and at shutdown); these tools are for a stopped server. See docs/OPERATIONS.md.
            """,
        subcommands: [Take.self, Inspect.self, List.self])
}

extension SnapshotTool {
    /// `bidline snapshot take --data-dir D`.
    struct Take: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the state (newest snapshot + log, read-only) and write a snapshot at the last sequence.",
            discussion: """
                For a stopped server: a shorter replay at the next start, or a snapshot to archive. The log is not \
                changed (a torn tail is left for start-up to truncate; the snapshot covers the records before it). \
                Refuses when recovery would (corrupt log). Do not run it against the data directory of a running \
                server: use its SNAPSHOT command instead.
                """)

        @OptionGroup var dataDirectory: DataDirectoryOption
        var directory: String { dataDirectory.path }

        @Option(help: "Afterwards, keep only this many newest snapshots.")
        var keep: Int?

        @Option(help: "zstd compression level.")
        var level: Int32 = 1

        func validate() throws {
            if let keep, keep < 1 { throw ValidationError("--keep must be at least 1") }
        }

        func run() throws {
            let data = try openDataDirectory(directory)
            // Offline only: a live server holds the directory's lock (its log would move under us).
            let lock = try DataDirectoryLock(data)
            defer { lock.release() }
            let logEnd = try lastLogSequence(in: data.wal)
            var bar = ProgressBar(label: "replay", total: logEnd ?? 0)
            let recovered: RecoveredEngine
            do {
                recovered = try Recovery.recover(data, readOnly: true) { bar.update($0) }
            } catch {
                bar.finish()
                throw ToolError("cannot rebuild the state: \(error)")
            }
            bar.finish()
            for note in recovered.notes { print("note: \(note)") }
            let sequence = recovered.lastSequence
            guard sequence > 0 else { throw ToolError("the data directory holds no records: nothing to snapshot") }
            if recovered.snapshotSequence == sequence {
                let path = data.snapshots.appending(SnapshotFile.fileName(sequence: sequence))
                print("up to date: \(path.string) already holds sequence \(sequence)")
                return
            }
            var clock = DispatchTime.now().uptimeNanoseconds
            func lap() -> Double {
                let now = DispatchTime.now().uptimeNanoseconds
                defer { clock = now }
                return Double(now - clock) / 1e9
            }
            let captured = recovered.engine.state
            let payload = captured.encoded
            let encodeSeconds = lap()
            let info = try SnapshotFile.write(
                payload: payload, sequence: sequence, stateHash: SnapshotStateHash(engineHash: captured),
                to: data.snapshots, options: SnapshotOptions(compressionLevel: level, keepLast: keep))
            let writeSeconds = lap()
            print("snapshot: \(info.path.string)")
            print("sequence: \(sequence)")
            print(
                "state: \(formatBytes(info.header.uncompressedLength)), compressed \(formatBytes(info.header.compressedLength))"
            )
            print("state hash: \(recovered.engine.stateHash())")
            print("encode \(formatSeconds(encodeSeconds)), compress+write+fsync \(formatSeconds(writeSeconds))")
        }
    }
}

extension SnapshotTool {
    /// `bidline snapshot inspect --data-dir D [--seq N]` or `bidline snapshot inspect --file F`.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a snapshot's header, verify it completely and summarise the state it holds.",
            discussion: """
                The snapshot is --file, or one of --data-dir: the newest, or the one at --seq. Exit status 1 when \
                any check fails.
                """)

        @OptionGroup var dataDirectory: DataDirectoryOption

        @Option(help: ArgumentHelp("A snapshot file (instead of one of --data-dir).", valueName: "file"))
        var file: String?

        @Option(name: .customLong("seq"), help: "With a data directory: the snapshot at this sequence.")
        var sequence: UInt64?

        func run() throws {
            let file = try file.map { FilePath($0) } ?? resolve()
            print("file: \(file.string)")
            let header: SnapshotHeader
            do {
                header = try SnapshotFile.readHeader(at: file)
            } catch {
                print("header: BAD: \(error)")
                throw ExitCode.failure
            }
            print("format version: \(SnapshotHeader.formatVersion)")
            print("compression: \(header.compression)")
            print("sequence: \(header.sequence)")
            print("state bytes: \(header.uncompressedLength) (\(formatBytes(header.uncompressedLength)))")
            print("compressed bytes: \(header.compressedLength) (\(formatBytes(header.compressedLength)))")
            if header.compressedLength > 0 {
                let ratio = Double(header.uncompressedLength) / Double(header.compressedLength)
                print("ratio: \(Double(Int(ratio * 100)) / 100)")
            }
            print("body crc32c: \(String(header.bodyChecksum, radix: 16))")
            print("state hash: \(header.stateHash)")
            let state: EngineState
            do {
                let snapshot = try SnapshotFile.read(at: file)
                state = try EngineState(decoding: snapshot.payload)
            } catch {
                print("verify: BAD: \(error)")
                throw ExitCode.failure
            }
            guard SnapshotStateHash(engineHash: state) == header.stateHash else {
                print("verify: BAD: the decoded state's hash differs from the header's")
                throw ExitCode.failure
            }
            print("verify: OK (checksums, zstd frame, state decodes to the header's hash)")
            print("engine time: \(CommandText.timestamp(millis: state.clockMillis))")
            print("users: \(state.users.count)")
            print("listings: \(state.listings.count)")
            print("bids: \(state.bids.count)")
            print("claims: \(state.claims.count), transfer offers: \(state.offers.count)")
            print("ledger entries: \(state.entries.count)")
        }

        /// The snapshot of the data directory (or, given positionally as before, the file) named.
        func resolve() throws -> FilePath {
            let path = dataDirectory.path
            let given = FilePath(path)
            guard directoryExists(given) else {
                guard FileManager.default.fileExists(atPath: path) else { throw ToolError("\(path) does not exist") }
                return given
            }
            let directory = directoryExists(given.appending("snapshots")) ? given.appending("snapshots") : given
            let all = try SnapshotFile.list(in: directory)
            if let sequence {
                guard let match = all.first(where: { $0.sequence == sequence }) else {
                    throw ToolError("no snapshot at sequence \(sequence) in \(directory.string)")
                }
                return match.path
            }
            guard let newest = all.last else { throw ToolError("no snapshots in \(directory.string)") }
            return newest.path
        }
    }
}

extension SnapshotTool {
    /// `bidline snapshot list --data-dir D`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the snapshots of a data directory from their headers, oldest first.",
            discussion: "Reads only the 80-byte headers unless --verify. Exit status 1 when a header (or body) is bad.")

        @OptionGroup var dataDirectory: DataDirectoryOption
        var directory: String { dataDirectory.path }

        @Flag(help: "Also verify each body (CRC32C and zstd checksum).")
        var verify = false

        func run() throws {
            let data = try openDataDirectory(directory)
            guard directoryExists(data.snapshots) else {
                print("no snapshots directory in \(directory)")
                return
            }
            let all = try SnapshotFile.list(in: data.snapshots)
            if all.isEmpty { print("no snapshots in \(data.snapshots.string)") }
            var bad = 0
            for (_, path) in all {
                let name = path.lastComponent?.string ?? path.string
                do {
                    let header = verify ? try SnapshotFile.verify(at: path) : try SnapshotFile.readHeader(at: path)
                    print(
                        "\(name)  seq \(header.sequence)  state \(formatBytes(header.uncompressedLength))  "
                            + "compressed \(formatBytes(header.compressedLength))  hash \(header.stateHash)  "
                            + (verify ? "OK" : "header OK"))
                } catch {
                    bad += 1
                    print("\(name)  BAD: \(error)")
                }
            }
            if bad > 0 { throw ExitCode.failure }
        }
    }
}
