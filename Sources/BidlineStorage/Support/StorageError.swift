import SystemPackage

/// One failed file-system call: what was attempted, on which path, and the `errno` it returned.
public struct IOFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of call that failed.
    public enum Operation: String, Hashable, Sendable {
        /// Named after the system call (`sync` is `fsync`/`fdatasync`, `list` is `opendir`/`readdir`).
        case open, read, write, truncate, sync, close, rename, remove, list, createDirectory, syncDirectory
    }

    /// The kind of call that failed.
    public var operation: Operation
    /// The file or directory it was made on.
    public var path: String
    /// The error the system returned (`Errno.noSpace` for a full disk).
    public var errno: Errno

    /// Describes a failed call.
    public init(_ operation: Operation, path: String, errno: Errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// For example `write wal-00000000000000000001.log: No space left on device (ENOSPC)`.
    public var description: String { "\(operation.rawValue) \(path): \(errno)" }
}

/// What is wrong with a log segment at a given offset.
public enum WALDamage: Error, Hashable, Sendable, CustomStringConvertible {
    /// The segment file is shorter than its 32-byte header.
    case incompleteSegmentHeader(length: Int)
    /// The segment header's magic or checksum is wrong.
    case badSegmentHeader
    /// The segment header is intact but names a format version this build does not read.
    case unsupportedSegmentVersion(UInt32)
    /// The first sequence in the header differs from the one in the file name.
    case segmentNameMismatch(nameSequence: UInt64, headerSequence: UInt64)
    /// Fewer bytes than a record header remain.
    case incompleteRecordHeader(available: Int)
    /// The record header's CRC32C does not match.
    case recordHeaderChecksumMismatch
    /// The record header is intact but names a record version this build does not read.
    case unsupportedRecordVersion(UInt8)
    /// The record header is intact but declares a payload longer than the format allows.
    case payloadTooLarge(length: Int)
    /// The record header is intact but the file ends before the record does.
    case incompleteRecord(needed: Int, available: Int)
    /// The payload's CRC32C does not match.
    case payloadChecksumMismatch
    /// An intact record or segment carries the wrong sequence number (a gap or a repeat).
    case sequenceMismatch(expected: UInt64, found: UInt64)

    /// A short human-readable explanation.
    public var description: String {
        switch self {
        case .incompleteSegmentHeader(let length): "segment header incomplete (\(length) of 32 bytes)"
        case .badSegmentHeader: "segment header magic or checksum mismatch"
        case .unsupportedSegmentVersion(let version): "unsupported segment format version \(version)"
        case .segmentNameMismatch(let name, let header):
            "segment file name says first sequence \(name), header says \(header)"
        case .incompleteRecordHeader(let available): "record header incomplete (\(available) of 32 bytes)"
        case .recordHeaderChecksumMismatch: "record header checksum mismatch"
        case .unsupportedRecordVersion(let version): "unsupported record version \(version)"
        case .payloadTooLarge(let length): "record declares a payload of \(length) bytes, over the limit"
        case .incompleteRecord(let needed, let available): "record incomplete (\(available) of \(needed) bytes)"
        case .payloadChecksumMismatch: "payload checksum mismatch"
        case .sequenceMismatch(let expected, let found): "sequence \(found) where \(expected) was expected"
        }
    }
}

/// What is wrong with a snapshot file.
public enum SnapshotDamage: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file is shorter than its header.
    case incompleteHeader(length: Int64)
    /// The magic is not `BIDLSNP1`.
    case badMagic
    /// The header's CRC32C does not match.
    case headerChecksumMismatch
    /// The header is intact but names a format version this build does not read.
    case unsupportedVersion(UInt32)
    /// The header is intact but names a compression this build does not read.
    case unsupportedCompression(UInt32)
    /// The file's length differs from header plus declared body length.
    case lengthMismatch(expected: Int64, actual: Int64)
    /// The compressed body's CRC32C does not match.
    case bodyChecksumMismatch
    /// zstd rejected the body (its name for the error).
    case decompressionFailed(String)
    /// The body decompressed to a different length than the header declares.
    case uncompressedLengthMismatch(expected: UInt64, actual: UInt64)
    /// The sequence in the header differs from the one in the file name.
    case sequenceNameMismatch(nameSequence: UInt64, headerSequence: UInt64)

    /// A short human-readable explanation.
    public var description: String {
        switch self {
        case .incompleteHeader(let length): "snapshot header incomplete (\(length) bytes)"
        case .badMagic: "bad snapshot magic"
        case .headerChecksumMismatch: "snapshot header checksum mismatch"
        case .unsupportedVersion(let version): "unsupported snapshot format version \(version)"
        case .unsupportedCompression(let kind): "unsupported snapshot compression \(kind)"
        case .lengthMismatch(let expected, let actual): "file is \(actual) bytes, header implies \(expected)"
        case .bodyChecksumMismatch: "snapshot body checksum mismatch"
        case .decompressionFailed(let name): "zstd: \(name)"
        case .uncompressedLengthMismatch(let expected, let actual):
            "body decompressed to \(actual) bytes, header says \(expected)"
        case .sequenceNameMismatch(let name, let header):
            "snapshot file name says sequence \(name), header says \(header)"
        }
    }
}

/// Every failure BidlineStorage reports: a value with a code, never a bare string.
public enum StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The log cannot write (disk full, I/O error) and refuses records until a retry succeeds.
    ///
    /// Nothing that was not written and synced (per the durability mode) was acknowledged. Records
    /// that were already accepted when the failure happened are kept in memory and written, in order,
    /// by the next successful retry: a caller that got this error for its record does not know whether
    /// it will become durable (the server answers `ERR UNAVAILABLE`; clients retry with `ref=`).
    case unavailable(IOFailure)
    /// A file operation outside the append path failed (reading, listing, snapshot writing).
    case io(IOFailure)
    /// The writer has been closed.
    case closed
    /// A record does not carry the sequence number that continues the log.
    case sequenceOutOfOrder(expected: UInt64, got: UInt64)
    /// A payload exceeds the configured limit.
    case payloadTooLarge(length: Int, limit: Int)
    /// Accepting the records would exceed the writer's bound on bytes waiting for the disk.
    case pendingLimitExceeded(pendingBytes: Int, limit: Int)
    /// A bad segment header or record that is not a torn tail; start-up stops here unless the
    /// operator asks to truncate (``WALReader/Options/truncateCorruption``).
    case corruptLog(file: String, offset: Int64, damage: WALDamage)
    /// The log does not reach back to the requested sequence number (older segments were removed).
    case missingRecords(expected: UInt64, firstAvailable: UInt64)
    /// A segment exists at or beyond the sequence number the writer was asked to start at.
    case segmentConflict(file: String)
    /// A snapshot file failed verification.
    case corruptSnapshot(file: String, damage: SnapshotDamage)
    /// zstd failed while compressing (its error code and name).
    case compression(code: Int, name: String)

    /// One line naming the file and offset where there is one.
    public var description: String {
        switch self {
        case .unavailable(let failure): "log unavailable: \(failure)"
        case .io(let failure): "I/O error: \(failure)"
        case .closed: "log writer is closed"
        case .sequenceOutOfOrder(let expected, let got): "sequence \(got) where \(expected) was expected"
        case .payloadTooLarge(let length, let limit): "payload of \(length) bytes exceeds the limit of \(limit)"
        case .pendingLimitExceeded(let pending, let limit):
            "\(pending) bytes already wait for the disk (limit \(limit))"
        case .corruptLog(let file, let offset, let damage): "corrupt log \(file) at offset \(offset): \(damage)"
        case .missingRecords(let expected, let first):
            "log starts at sequence \(first), sequence \(expected) is missing"
        case .segmentConflict(let file): "segment \(file) already holds records at or after the start sequence"
        case .corruptSnapshot(let file, let damage): "corrupt snapshot \(file): \(damage)"
        case .compression(let code, let name): "zstd error \(code): \(name)"
        }
    }
}

/// Runs `body`, whose only errors are `E` but which passes through an untyped `rethrows` API (such as
/// `withUnsafeBytes`), and restores the error's type.
func restoringErrorType<Result, E: Error>(_ type: E.Type, _ body: () throws -> Result) throws(E) -> Result {
    do {
        return try body()
    } catch let error as E {
        throw error
    } catch {
        preconditionFailure("unexpected error \(error)")
    }
}
