import SystemPackage

/// Segment files: naming and the 32-byte header at the start of each, format version 1.
///
/// A segment is named `wal-<first sequence, 20 digits>.log` and begins with (little-endian):
///
/// ```
/// offset size field
///   0     8  magic          "BIDLWAL1"
///   8     4  formatVersion  1
///  12     4  headerLength   32
///  16     8  firstSequence  sequence of the segment's first record
///  24     4  reserved       0
///  28     4  headerCRC      CRC32C of bytes 0..<28
/// ```
///
/// Records (``WALRecordFormat``) follow back to back, in sequence order, starting at `firstSequence`.
public enum WALSegment {
    /// The segment format version this build writes and reads.
    public static let formatVersion: UInt32 = 1
    /// Bytes of header at the start of each segment.
    public static let headerSize = 32
    /// The segment magic, `BIDLWAL1`.
    public static let magic: [UInt8] = Array("BIDLWAL1".utf8)

    /// The file name of the segment whose first record has `firstSequence`, e.g. `wal-00000000000000000001.log`.
    public static func fileName(firstSequence: UInt64) -> String {
        "wal-\(zeroPadded(firstSequence)).log"
    }

    /// The first sequence encoded in a segment file name, or `nil` if `name` is not a segment name.
    public static func firstSequence(fromFileName name: String) -> UInt64? {
        parseSequence(name, prefix: "wal-", suffix: ".log")
    }

    /// The segments in `directory`, ordered by first sequence.
    public static func list(in directory: FilePath) throws(StorageError) -> [(firstSequence: UInt64, path: FilePath)] {
        let names: [String]
        do { names = try FileOps.listDirectory(directory) } catch { throw .io(error) }
        return names.compactMap { name in
            firstSequence(fromFileName: name).map { ($0, directory.appending(name)) }
        }.sorted { $0.firstSequence < $1.firstSequence }
    }

    /// The 32 header bytes of a segment starting at `firstSequence`.
    static func encodeHeader(firstSequence: UInt64) -> [UInt8] {
        var header = magic
        header.reserveCapacity(headerSize)
        appendLittleEndian(formatVersion, to: &header)
        appendLittleEndian(UInt32(headerSize), to: &header)
        appendLittleEndian(firstSequence, to: &header)
        appendLittleEndian(UInt32(0), to: &header)
        appendLittleEndian(CRC32C.checksum(header), to: &header)
        return header
    }

    /// Parses and verifies a segment header; returns its first sequence or the damage.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer) -> Result<UInt64, WALDamage> {
        guard bytes.count >= headerSize else { return .failure(.incompleteSegmentHeader(length: bytes.count)) }
        let storedCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 28, as: UInt32.self))
        guard bytes[0..<8].elementsEqual(magic),
            storedCRC == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<28]))
        else { return .failure(.badSegmentHeader) }
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == formatVersion else { return .failure(.unsupportedSegmentVersion(version)) }
        return .success(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
    }
}

/// `value` in decimal, left-padded with zeros to 20 digits (the width of `UInt64.max`), so names sort by number.
func zeroPadded(_ value: UInt64) -> String {
    let digits = String(value)
    return String(repeating: "0", count: 20 - digits.count) + digits
}

/// Parses `<prefix><20 digits><suffix>`.
func parseSequence(_ name: String, prefix: String, suffix: String) -> UInt64? {
    guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
    let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
    guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return UInt64(digits)
}

/// Appends the little-endian bytes of `value`.
func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}
