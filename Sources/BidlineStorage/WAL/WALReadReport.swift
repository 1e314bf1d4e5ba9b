/// What a ``WALReader`` pass found: the segments, the records, and any truncation.
public struct WALReadReport: Sendable, Hashable {
    /// The segments visited, in sequence order.
    public var segments: [WALSegmentSummary] = []
    /// Records handed to the callback (those at or after the requested sequence).
    public var recordsDelivered = 0
    /// The sequence of the last valid record in the log, or `nil` if the visited segments hold none.
    public var lastSequence: UInt64?
    /// The torn tail or (with ``WALReader/Options/truncateCorruption``) the damage cut off, if any.
    public var truncation: WALTruncation?
    /// Segments after a truncation at damage, renamed to `<name>.discarded` (never deleted).
    public var discardedSegments: [String] = []

    /// An empty report.
    public init() {}
}

/// One segment as the reader found it.
public struct WALSegmentSummary: Sendable, Hashable {
    /// The segment file's path.
    public var path: String
    /// The first sequence named by the file.
    public var firstSequence: UInt64
    /// Valid records in the segment.
    public var recordCount: Int
    /// The last valid record's sequence, or `nil` if it has none.
    public var lastSequence: UInt64?
    /// Bytes of the file up to the end of the last valid record.
    public var validLength: Int64
    /// The file's length before any truncation.
    public var fileLength: Int64
    /// Zero bytes after the last record up to the end of the file: the unused part of a preallocated
    /// segment (see ``WALWriter/Options/preallocate``), not damage. A reader that may change files cuts
    /// them off.
    public var unusedLength: Int64 = 0
}

/// A cut made (or, read-only, that would be made) at the end of the log.
public struct WALTruncation: Sendable, Hashable, CustomStringConvertible {
    /// Why the log was cut.
    public enum Kind: String, Sendable, Hashable {
        /// The last record of the newest segment is incomplete or fails its checksum and nothing intact
        /// follows it: a crash during a write. Cut automatically; such a record was never acknowledged.
        case tornTail
        /// Damage elsewhere, cut only because the operator asked (``WALReader/Options/truncateCorruption``).
        case corruption
    }

    /// Why the log was cut.
    public var kind: Kind
    /// The file cut.
    public var file: String
    /// Where the file now ends (0: the file was removed).
    public var offset: Int64
    /// Bytes removed from that file.
    public var bytesRemoved: Int64
    /// What was wrong at `offset`.
    public var damage: WALDamage
    /// Whether the file was changed (false for a read-only pass).
    public var applied: Bool

    /// For example `torn tail in wal-….log at offset 4096: 61 bytes removed (payload checksum mismatch)`.
    public var description: String {
        let verb = applied ? "removed" : "would be removed"
        let what = kind == .tornTail ? "torn tail" : "corruption"
        return "\(what) in \(file) at offset \(offset): \(bytesRemoved) bytes \(verb) (\(damage))"
    }
}
