/// A 32-byte state hash stored in a snapshot header (the engine's hash of its state at the sequence).
///
/// Shorter hashes are zero-padded: a 64-bit hash fills the first 8 bytes, little-endian.
public struct SnapshotStateHash: Sendable, Hashable, CustomStringConvertible {
    /// Bytes in the hash field.
    public static let byteCount = 32
    /// All zeros (no hash).
    public static let zero = SnapshotStateHash(words: (0, 0, 0, 0))

    private var word0: UInt64
    private var word1: UInt64
    private var word2: UInt64
    private var word3: UInt64

    private init(words: (UInt64, UInt64, UInt64, UInt64)) {
        (word0, word1, word2, word3) = words
    }

    /// A hash from up to 32 bytes, zero-padded.
    public init(bytes: some Collection<UInt8>) {
        precondition(bytes.count <= Self.byteCount, "a state hash has at most 32 bytes")
        var padded = Array(bytes)
        padded.append(contentsOf: repeatElement(0, count: Self.byteCount - padded.count))
        self = padded.withUnsafeBytes { raw in
            SnapshotStateHash(
                words: (
                    UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                    UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                    UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
                ))
        }
    }

    /// A 64-bit hash in the first 8 bytes (little-endian), the rest zero.
    public init(_ value: UInt64) {
        self.init(words: (value, 0, 0, 0))
    }

    /// The 32 bytes as stored.
    public var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(Self.byteCount)
        for word in [word0, word1, word2, word3] { appendLittleEndian(word, to: &result) }
        return result
    }

    /// Lower-case hex of the 32 bytes.
    public var description: String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}

/// The 80-byte header of a snapshot file, format version 1 (integers little-endian):
///
/// ```
/// offset size field
///   0     8  magic              "BIDLSNP1"
///   8     4  formatVersion      1
///  12     4  compression        1 = zstd
///  16     8  sequence           the last log record the state includes
///  24     8  uncompressedLength bytes of the encoded state
///  32     8  compressedLength   bytes of body after the header
///  40    32  stateHash          the engine's state hash at `sequence`
///  72     4  bodyCRC            CRC32C of the compressed body
///  76     4  headerCRC          CRC32C of bytes 0..<76
///  80     …  body               one zstd frame, with zstd's own content checksum
/// ```
public struct SnapshotHeader: Sendable, Hashable {
    /// How the body is compressed.
    public enum Compression: UInt32, Sendable, Hashable {
        /// One zstd frame.
        case zstd = 1
    }

    /// Bytes in the header.
    public static let size = 80
    /// The snapshot format version this build writes and reads.
    public static let formatVersion: UInt32 = 1
    /// The magic, `BIDLSNP1`.
    public static let magic: [UInt8] = Array("BIDLSNP1".utf8)

    /// The last log record the state includes; recovery replays the log from `sequence + 1`.
    public var sequence: UInt64
    /// The engine's state hash at `sequence`.
    public var stateHash: SnapshotStateHash
    /// Bytes of the encoded state.
    public var uncompressedLength: UInt64
    /// Bytes of the compressed body.
    public var compressedLength: UInt64
    /// CRC32C of the compressed body.
    public var bodyChecksum: UInt32
    /// How the body is compressed.
    public var compression: Compression

    /// The 80 bytes, with the header checksum.
    func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(Self.size)
        appendLittleEndian(Self.formatVersion, to: &bytes)
        appendLittleEndian(compression.rawValue, to: &bytes)
        appendLittleEndian(sequence, to: &bytes)
        appendLittleEndian(uncompressedLength, to: &bytes)
        appendLittleEndian(compressedLength, to: &bytes)
        bytes.append(contentsOf: stateHash.bytes)
        appendLittleEndian(bodyChecksum, to: &bytes)
        appendLittleEndian(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    /// Parses and verifies a header.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<SnapshotHeader, SnapshotDamage> {
        guard bytes.count >= size else { return .failure(.incompleteHeader(length: Int64(bytes.count))) }
        guard bytes[0..<8].elementsEqual(magic) else { return .failure(.badMagic) }
        func load<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        guard load(76, as: UInt32.self) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<76])) else {
            return .failure(.headerChecksumMismatch)
        }
        let version = load(8, as: UInt32.self)
        guard version == formatVersion else { return .failure(.unsupportedVersion(version)) }
        let compressionValue = load(12, as: UInt32.self)
        guard let compression = Compression(rawValue: compressionValue) else {
            return .failure(.unsupportedCompression(compressionValue))
        }
        return .success(
            SnapshotHeader(
                sequence: load(16, as: UInt64.self),
                stateHash: SnapshotStateHash(bytes: UnsafeRawBufferPointer(rebasing: bytes[40..<72])),
                uncompressedLength: load(24, as: UInt64.self),
                compressedLength: load(32, as: UInt64.self),
                bodyChecksum: load(72, as: UInt32.self),
                compression: compression))
    }
}
