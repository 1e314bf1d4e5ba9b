import BidlineCore
import BidlineServer
import BidlineStorage
import BidlineTestSupport
import Foundation
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes `entries` to the log of `directory` as records `firstSequence…`, through the real writer.
func writeLog(
    _ entries: ArraySlice<(command: Command, atMillis: Int64)>, firstSequence: UInt64, to directory: FilePath,
    segmentBytes: Int = 64 << 20
) async throws {
    let writer = try WALWriter(
        directory: directory, nextSequence: firstSequence,
        options: WALWriter.Options(durability: .none, segmentSizeLimit: segmentBytes))
    let records = entries.enumerated().map { offset, entry in
        WALRecord(
            sequence: firstSequence + UInt64(offset), engineTimeMillis: entry.atMillis, payload: entry.command.encoded)
    }
    try await writer.append(batch: records)
    try await writer.close()
}

/// Writes the snapshot of `state` at `sequence` into `directory`, as the engine host does.
@discardableResult
func writeSnapshot(_ state: EngineState, sequence: UInt64, to directory: FilePath) throws -> SnapshotInfo {
    try SnapshotFile.write(
        payload: state.encoded, sequence: sequence, stateHash: SnapshotStateHash(engineHash: state), to: directory)
}

/// A data directory like a server leaves it: log records `1...count` of `scenario`, a snapshot after each sequence
/// in `snapshotsAt`, and (as the server does) a new segment after each snapshot.
func writeDataDirectory(
    _ data: DataDirectory, scenario: Scenario, snapshotsAt: [UInt64], segmentBytes: Int = 64 << 20
) async throws {
    var replay = Engine()
    var written: UInt64 = 0
    for cut in snapshotsAt + [UInt64(scenario.journal.count)] where cut > written {
        let slice = scenario.journal[Int(written)..<Int(cut)]
        try await writeLog(slice, firstSequence: written + 1, to: data.wal, segmentBytes: segmentBytes)
        for entry in slice {
            _ = replay.apply(entry.command, at: entry.atMillis)
            replay.events.removeAll(keepingCapacity: true)
        }
        written = cut
        if snapshotsAt.contains(cut) { try writeSnapshot(replay.state, sequence: cut, to: data.snapshots) }
    }
}

/// Flips one bit of the file at `path`, at `offset`.
func flipBit(in path: FilePath, at offset: Int64, bit: UInt8 = 0) throws {
    let descriptor = try FileDescriptor.open(path, .readWrite)
    defer { try? descriptor.close() }
    var byte: UInt8 = 0
    _ = try withUnsafeMutableBytes(of: &byte) { try descriptor.read(fromAbsoluteOffset: offset, into: $0) }
    byte ^= 1 << bit
    _ = try withUnsafeBytes(of: &byte) { try descriptor.write(toAbsoluteOffset: offset, $0) }
}

/// Copies a directory tree (fixtures are copied before anything may touch them).
func copyTree(_ source: String, to destination: FilePath) throws {
    try? FileManager.default.removeItem(atPath: destination.string)
    try FileManager.default.copyItem(atPath: source, toPath: destination.string)
}

/// What a finished `bidline` process printed.
struct ToolRun {
    var status: Int32
    var stdout: String
    var stderr: String
    var lines: [Substring] { stdout.split(separator: "\n") }
}

/// Runs `bidline arguments…` to completion, collecting its output through files (no pipe can fill up).
func runBidline(_ arguments: [String]) throws -> ToolRun {
    let binary = try BidlineExecutable.require()
    let outputDirectory = temporaryPath("bidline-tool").string
    try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: outputDirectory) }
    let outPath = outputDirectory + "/stdout"
    let errPath = outputDirectory + "/stderr"
    for path in [outPath, errPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
        throw CocoaError(.fileWriteUnknown)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return ToolRun(
        status: process.terminationStatus,
        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

/// The `key: value` lines of a tool's summary as a dictionary.
func summary(_ run: ToolRun) -> [String: String] {
    var fields: [String: String] = [:]
    for line in run.lines {
        guard let colon = line.firstIndex(of: ":") else { continue }
        fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return fields
}
