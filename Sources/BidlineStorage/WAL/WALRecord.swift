/// One log record: an opaque payload (an encoded engine command) with its sequence number and engine time.
public struct WALRecord: Hashable, Sendable {
    /// The record's position in the log; consecutive records differ by exactly 1.
    public var sequence: UInt64
    /// The engine time the command was applied at, in milliseconds since the Unix epoch.
    public var engineTimeMillis: Int64
    /// The encoded command; the log never looks inside.
    public var payload: [UInt8]

    /// A record to append.
    public init(sequence: UInt64, engineTimeMillis: Int64, payload: [UInt8]) {
        self.sequence = sequence
        self.engineTimeMillis = engineTimeMillis
        self.payload = payload
    }
}

/// A verified record as the reader hands it out, without copying the payload.
///
/// `payload` points into the reader's buffer and is valid only during the callback that receives it;
/// copy it (``record``) to keep it.
public struct WALRecordView {
    /// The record's sequence number.
    public let sequence: UInt64
    /// The engine time, in milliseconds since the Unix epoch.
    public let engineTimeMillis: Int64
    /// The payload bytes, valid only during the callback.
    public let payload: UnsafeRawBufferPointer

    /// An owned copy of the record.
    public var record: WALRecord {
        WALRecord(sequence: sequence, engineTimeMillis: engineTimeMillis, payload: Array(payload))
    }
}

/// The on-disk layout of a log record, format version 1 (all integers little-endian):
///
/// ```
/// offset size field
///   0     4  headerCRC        CRC32C of bytes 4..<32 of this header
///   4     4  payloadLength    bytes of payload that follow the header
///   8     1  version          1
///   9     1  flags            0 (reserved)
///  10     2  reserved         0
///  12     4  payloadCRC       CRC32C of the payload
///  16     8  sequence         u64
///  24     8  engineTimeMillis i64
///  32     n  payload
/// ```
///
/// The header checksum covers the payload checksum, so the pair covers header and payload; a
/// length is trusted only after its header verified, so a damaged length cannot skip records.
public enum WALRecordFormat {
    /// The record version this build writes and reads.
    public static let version: UInt8 = 1
    /// Bytes of header in front of each payload.
    public static let headerSize = 32
    /// The largest payload the format allows (16 MiB); writers may configure a lower limit.
    public static let maxPayloadLength = 16 << 20

    /// Appends one encoded record to `buffer`. The payload must fit ``maxPayloadLength``.
    @inline(__always)
    static func encode(
        sequence: UInt64, engineTimeMillis: Int64, payload: UnsafeRawBufferPointer, into buffer: inout [UInt8]
    ) {
        precondition(payload.count <= maxPayloadLength, "payload exceeds the record format's limit")
        let payloadCRC = CRC32C.checksum(payload)
        let start = buffer.count
        buffer.append(contentsOf: zeroHeader)
        buffer.append(contentsOf: payload)
        buffer.withUnsafeMutableBytes { bytes in
            let header = UnsafeMutableRawBufferPointer(rebasing: bytes[start..<(start + headerSize)])
            header.storeBytes(of: UInt32(payload.count).littleEndian, toByteOffset: 4, as: UInt32.self)
            header.storeBytes(of: version, toByteOffset: 8, as: UInt8.self)
            header.storeBytes(of: payloadCRC.littleEndian, toByteOffset: 12, as: UInt32.self)
            header.storeBytes(of: sequence.littleEndian, toByteOffset: 16, as: UInt64.self)
            header.storeBytes(of: engineTimeMillis.littleEndian, toByteOffset: 24, as: Int64.self)
            let headerCRC = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: header[4...]))
            header.storeBytes(of: headerCRC.littleEndian, toByteOffset: 0, as: UInt32.self)
        }
    }

    private static let zeroHeader = [UInt8](repeating: 0, count: headerSize)

    /// A record header whose checksum verified.
    struct Header {
        var payloadLength: Int
        var version: UInt8
        var payloadCRC: UInt32
        var sequence: UInt64
        var engineTimeMillis: Int64

        var recordLength: Int { headerSize + payloadLength }
    }

    /// Parses the header at `offset`, or returns the damage that prevents it. Checks only the header.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Result<Header, WALDamage> {
        let available = bytes.count - offset
        guard available >= headerSize else { return .failure(.incompleteRecordHeader(available: available)) }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + headerSize)]))
        guard stored == computed else { return .failure(.recordHeaderChecksumMismatch) }
        let header = Header(
            payloadLength: Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))),
            version: bytes[offset + 8],
            payloadCRC: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)),
            sequence: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)),
            engineTimeMillis: Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 24, as: Int64.self)))
        guard header.version == version else { return .failure(.unsupportedRecordVersion(header.version)) }
        guard header.payloadLength <= maxPayloadLength else {
            return .failure(.payloadTooLarge(length: header.payloadLength))
        }
        return .success(header)
    }

    /// Whether an intact record header of this version starts at `offset` (used to tell a torn tail
    /// from damage in the middle: damage is followed by intact records, a torn tail is not).
    static func hasIntactHeader(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard bytes.count - offset >= headerSize, bytes[offset + 8] == version else { return false }
        if case .success = parseHeader(bytes, at: offset) { return true }
        return false
    }
}
