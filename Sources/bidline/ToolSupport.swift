import ArgumentParser
import BidlineServer
import BidlineStorage
import Foundation
import SystemPackage

/// `--data-dir D`: the data directory of every subcommand, named as `bidline serve` names it.
///
/// The positional `DIR` of earlier versions (`bidline wal verify DIR`) is still accepted, hidden, with a warning.
struct DataDirectoryOption: ParsableArguments {
    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp(
            "Data directory (holding wal/ and snapshots/), as given to `bidline serve`.", valueName: "dir"))
    var dataDirectory: String = "./data"

    @Argument(help: ArgumentHelp("Deprecated: use --data-dir.", visibility: .hidden))
    var deprecatedDirectory: String?

    /// The directory named, by `--data-dir` or (deprecated) positionally.
    var path: String { deprecatedDirectory ?? dataDirectory }

    func validate() throws {
        guard let deprecatedDirectory else { return }
        Terminal.error("warning: a positional data directory is deprecated; use --data-dir \(deprecatedDirectory)")
    }
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
