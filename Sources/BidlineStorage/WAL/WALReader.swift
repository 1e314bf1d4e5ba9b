import SystemPackage

/// Reads the log of a directory in sequence order, verifying every byte, and repairs a torn tail.
///
/// Checks: segment headers (magic, version, checksum, name), each record's header and payload
/// CRC32C, and sequence continuity within and across segments. A segment ends at its file's end or
/// where only zero bytes remain (the unused part of a preallocated segment; cut off unless read-only).
/// A torn tail (the newest segment ends
/// in an incomplete record or one failing its checksum, with no intact record after it) is truncated
/// and reported. Damage anywhere else throws ``StorageError/corruptLog(file:offset:damage:)`` naming
/// the file and offset, unless ``Options/truncateCorruption`` is set. Each segment is read whole into
/// one reused buffer; records are handed out without copying.
public struct WALReader: Sendable {
    /// How the reader treats what it finds.
    public struct Options: Sendable, Hashable {
        /// Change no file: report the truncation that would be made (for `bidline wal verify`).
        public var readOnly: Bool
        /// Cut the log at damage that is not a torn tail instead of throwing; later segments are
        /// renamed `<name>.discarded`. The operator's explicit choice: acknowledged records are lost.
        public var truncateCorruption: Bool

        /// Repairs torn tails, refuses damage elsewhere.
        public init(readOnly: Bool = false, truncateCorruption: Bool = false) {
            self.readOnly = readOnly
            self.truncateCorruption = truncateCorruption
        }
    }

    /// The directory holding the segments.
    public let directory: FilePath
    /// How damage is treated.
    public var options: Options

    /// A reader of the segments in `directory`.
    public init(directory: FilePath, options: Options = Options()) {
        self.directory = directory
        self.options = options
    }

    /// Verifies the log and calls `body` with each record whose sequence is at least `sequence`, in order.
    ///
    /// With `sequence` set, reading starts at the segment that holds it and throws
    /// ``StorageError/missingRecords(expected:firstAvailable:)`` if the log begins after it; with `nil`,
    /// reading starts at the oldest segment. The view's payload is valid only during the call.
    /// Errors thrown by `body` stop the pass and are rethrown.
    @discardableResult
    public func forEachRecord(
        from sequence: UInt64? = nil, _ body: (WALRecordView) throws -> Void
    ) throws -> WALReadReport {
        var report = WALReadReport()
        let segments = try WALSegment.list(in: directory)
        guard !segments.isEmpty else { return report }
        var startIndex = 0
        if let sequence {
            if let index = segments.lastIndex(where: { $0.firstSequence <= sequence }) {
                startIndex = index
            } else {
                throw StorageError.missingRecords(expected: sequence, firstAvailable: segments[0].firstSequence)
            }
        }
        var pass = Pass(
            reader: self, segments: Array(segments[startIndex...]), deliverFrom: sequence ?? 0, report: report)
        try pass.run(body)
        report = pass.report
        return report
    }

    /// Verifies the log and returns copies of the records from `sequence` on, with the report.
    public func readAll(from sequence: UInt64? = nil) throws -> (records: [WALRecord], report: WALReadReport) {
        var records: [WALRecord] = []
        let report = try forEachRecord(from: sequence) { records.append($0.record) }
        return (records, report)
    }
}

/// One reading pass over a list of segments.
private struct Pass {
    let reader: WALReader
    let segments: [(firstSequence: UInt64, path: FilePath)]
    let deliverFrom: UInt64
    var report: WALReadReport
    var buffer: [UInt8] = []
    var expected: UInt64?

    init(
        reader: WALReader, segments: [(firstSequence: UInt64, path: FilePath)], deliverFrom: UInt64,
        report: WALReadReport
    ) {
        self.reader = reader
        self.segments = segments
        self.deliverFrom = deliverFrom
        self.report = report
    }

    /// Where reading a segment stopped.
    enum Stop {
        case endOfSegment
        case damage(offset: Int, damage: WALDamage, torn: Bool)
    }

    mutating func run(_ body: (WALRecordView) throws -> Void) throws {
        for index in segments.indices {
            let (nameSequence, path) = segments[index]
            let isNewest = index == segments.count - 1
            let length: Int
            do { length = try FileOps.readWholeFile(path, into: &buffer) } catch { throw StorageError.io(error) }
            var summary = WALSegmentSummary(
                path: path.string, firstSequence: nameSequence, recordCount: 0, lastSequence: nil,
                validLength: 0, fileLength: Int64(length))
            let stop = try buffer.withUnsafeBytes { whole in
                try readSegment(
                    UnsafeRawBufferPointer(rebasing: whole[0..<length]), nameSequence: nameSequence,
                    isNewest: isNewest, summary: &summary, body)
            }
            report.segments.append(summary)
            if summary.unusedLength > 0 && !reader.options.readOnly {
                do { try FileOps.truncateFile(path, to: summary.validLength) } catch { throw StorageError.io(error) }
            }
            if case .damage(let offset, let damage, let torn) = stop {
                try cut(at: offset, damage: damage, torn: torn, segmentIndex: index, fileLength: length)
                if offset == 0 { report.segments[report.segments.count - 1].validLength = 0 }
                return
            }
        }
    }

    /// Verifies one segment and delivers its records; returns where it stopped.
    mutating func readSegment(
        _ bytes: UnsafeRawBufferPointer, nameSequence: UInt64, isNewest: Bool, summary: inout WALSegmentSummary,
        _ body: (WALRecordView) throws -> Void
    ) throws -> Stop {
        let headerSize = WALRecordFormat.headerSize
        switch WALSegment.parseHeader(bytes) {
        case .failure(let damage):
            return .damage(
                offset: 0, damage: damage,
                torn: isNewest && damage.mayBeTornWrite && !intactRecord(in: bytes, after: 1))
        case .success(let headerSequence):
            guard headerSequence == nameSequence else {
                return .damage(
                    offset: 0, damage: .segmentNameMismatch(nameSequence: nameSequence, headerSequence: headerSequence),
                    torn: false)
            }
            if let expected, expected != headerSequence {
                return .damage(
                    offset: 0, damage: .sequenceMismatch(expected: expected, found: headerSequence), torn: false)
            }
            expected = headerSequence
        }
        var offset = WALSegment.headerSize
        summary.validLength = Int64(offset)
        while offset < bytes.count {
            if isZero(bytes, from: offset) {
                summary.unusedLength = Int64(bytes.count - offset)
                return .endOfSegment
            }
            let header: WALRecordFormat.Header
            switch WALRecordFormat.parseHeader(bytes, at: offset) {
            case .failure(let damage):
                return .damage(
                    offset: offset, damage: damage,
                    torn: isNewest && damage.mayBeTornWrite && !intactRecord(in: bytes, after: offset + 1))
            case .success(let parsed):
                header = parsed
            }
            let end = offset + header.recordLength
            guard end <= bytes.count else {
                let damage = WALDamage.incompleteRecord(needed: header.recordLength, available: bytes.count - offset)
                return .damage(offset: offset, damage: damage, torn: isNewest)
            }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + headerSize)..<end])
            guard CRC32C.checksum(payload) == header.payloadCRC else {
                return .damage(
                    offset: offset, damage: .payloadChecksumMismatch,
                    torn: isNewest && !intactRecord(in: bytes, after: end))
            }
            let expectedSequence = expected ?? header.sequence
            guard header.sequence == expectedSequence else {
                return .damage(
                    offset: offset, damage: .sequenceMismatch(expected: expectedSequence, found: header.sequence),
                    torn: false)
            }
            if header.sequence >= deliverFrom {
                try body(
                    WALRecordView(
                        sequence: header.sequence, engineTimeMillis: header.engineTimeMillis, payload: payload))
                report.recordsDelivered += 1
            }
            expected = header.sequence + 1
            report.lastSequence = header.sequence
            summary.recordCount += 1
            summary.lastSequence = header.sequence
            summary.validLength = Int64(end)
            offset = end
        }
        return .endOfSegment
    }

    /// Whether an intact record header starts anywhere at or after `start`: then damage before it is
    /// not a torn tail (a crash leaves nothing intact after the record it interrupted).
    func intactRecord(in bytes: UnsafeRawBufferPointer, after start: Int) -> Bool {
        var position = max(start, WALSegment.headerSize)
        // A header has a non-zero byte (its version), so none starts after the last non-zero byte:
        // a preallocated segment's zero tail is not searched byte by byte.
        let end = lastNonZeroIndex(bytes).map { $0 + 1 } ?? 0
        while position + WALRecordFormat.headerSize <= bytes.count && position < end {
            if WALRecordFormat.hasIntactHeader(bytes, at: position) { return true }
            position += 1
        }
        return false
    }

    /// Applies (or, read-only, reports) a cut at damage; throws when the damage must not be cut.
    mutating func cut(at offset: Int, damage: WALDamage, torn: Bool, segmentIndex: Int, fileLength: Int) throws {
        let path = segments[segmentIndex].path
        guard torn || reader.options.truncateCorruption else {
            throw StorageError.corruptLog(file: path.string, offset: Int64(offset), damage: damage)
        }
        let apply = !reader.options.readOnly
        report.truncation = WALTruncation(
            kind: torn ? .tornTail : .corruption, file: path.string, offset: Int64(offset),
            bytesRemoved: Int64(fileLength - offset), damage: damage, applied: apply)
        guard apply else { return }
        do {
            try applyCut(at: offset, segmentIndex: segmentIndex)
        } catch {
            throw StorageError.io(error)
        }
    }

    private mutating func applyCut(at offset: Int, segmentIndex: Int) throws(IOFailure) {
        let path = segments[segmentIndex].path
        if offset == 0 {
            try FileOps.remove(path)
        } else {
            try FileOps.truncateFile(path, to: Int64(offset))
        }
        for later in segments[(segmentIndex + 1)...] {
            let discarded = FilePath(later.path.string + ".discarded")
            try FileOps.rename(later.path, to: discarded)
            report.discardedSegments.append(discarded.string)
        }
        if offset == 0 || segmentIndex + 1 < segments.count {
            do {
                try FileOps.synchronizeDirectory(reader.directory)
            } catch {
                throw IOFailure(.syncDirectory, path: reader.directory.string, errno: asErrno(error))
            }
        }
    }
}

/// Whether every byte of `bytes` from `start` on is zero (checks the first record header's worth first).
func isZero(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Bool {
    let head = min(bytes.count, start + WALRecordFormat.headerSize)
    for index in start..<head where bytes[index] != 0 { return false }
    var index = head
    while index + 8 <= bytes.count {
        if bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) != 0 { return false }
        index += 8
    }
    while index < bytes.count {
        if bytes[index] != 0 { return false }
        index += 1
    }
    return true
}

/// The index of the last non-zero byte, or `nil` if all are zero.
func lastNonZeroIndex(_ bytes: UnsafeRawBufferPointer) -> Int? {
    var end = bytes.count
    while end >= 8 && bytes.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) == 0 { end -= 8 }
    while end > 0 && bytes[end - 1] == 0 { end -= 1 }
    return end > 0 ? end - 1 : nil
}

extension WALDamage {
    /// Whether an interrupted write can produce this damage (an intact header or record cannot be torn).
    var mayBeTornWrite: Bool {
        switch self {
        case .incompleteSegmentHeader, .badSegmentHeader, .incompleteRecordHeader, .recordHeaderChecksumMismatch,
            .incompleteRecord, .payloadChecksumMismatch:
            true
        case .unsupportedSegmentVersion, .segmentNameMismatch, .unsupportedRecordVersion, .payloadTooLarge,
            .sequenceMismatch:
            false
        }
    }
}
