import CCRC32C

/// A running CRC-32C (Castagnoli) checksum, the one iSCSI, ext4 and LevelDB use.
///
/// Reflected polynomial `0x82F63B78`, initial value and final XOR `0xFFFFFFFF`, so
/// `CRC32C.checksum("123456789")` is `0xE3069283`. Computed in software with slicing-by-8 tables
/// (8 bytes per step, about 1 byte per cycle); O(n) time, no allocation. A value type: each copy
/// continues independently, and it is safe to use from any thread.
public struct CRC32C: Sendable, Hashable {
    /// The internal register (inverted); use ``value`` for the checksum.
    private var register: UInt32

    /// Starts a checksum over no bytes (whose ``value`` is 0).
    public init() {
        register = 0xFFFF_FFFF
    }

    /// The checksum of every byte added with `update` so far.
    public var value: UInt32 { ~register }

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        register = CRC32C.advance(register, bytes)
    }

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { update($0) }
        }
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        ~advance(0xFFFF_FFFF, bytes)
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// Runs the register over `bytes`: 8 bytes per step through the slicing tables, then byte by byte.
    /// Whether the CPU's `crc32` instruction is used (SSE 4.2 on x86-64), else the tables below.
    static let usesHardware = bidline_crc32c_hardware_available() != 0

    @inline(__always)
    static func advance(_ start: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return start }
        if usesHardware { return bidline_crc32c_hardware(start, base, bytes.count) }
        return softwareAdvance(start, bytes)
    }

    /// The table-driven version (slicing by 8): the fallback, and the reference the hardware one is tested against.
    static func softwareAdvance(_ start: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return start }
        let count = bytes.count
        return crc32cTables.withUnsafeBufferPointer { table in
            var crc = start
            var index = 0
            while count - index >= 8 {
                let word =
                    UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                    ^ UInt64(crc)
                let low = UInt32(truncatingIfNeeded: word)
                let high = UInt32(truncatingIfNeeded: word >> 32)
                crc =
                    table[7 &* 256 &+ Int(low & 0xFF)]
                    ^ table[6 &* 256 &+ Int((low >> 8) & 0xFF)]
                    ^ table[5 &* 256 &+ Int((low >> 16) & 0xFF)]
                    ^ table[4 &* 256 &+ Int(low >> 24)]
                    ^ table[3 &* 256 &+ Int(high & 0xFF)]
                    ^ table[2 &* 256 &+ Int((high >> 8) & 0xFF)]
                    ^ table[1 &* 256 &+ Int((high >> 16) & 0xFF)]
                    ^ table[Int(high >> 24)]
                index &+= 8
            }
            while index < count {
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
                index &+= 1
            }
            return crc
        }
    }
}

/// Eight 256-entry tables: `table[k * 256 + b]` is the CRC of byte `b` followed by `k` zero bytes.
private let crc32cTables: [UInt32] = {
    let polynomial: UInt32 = 0x82F6_3B78
    var table = [UInt32](repeating: 0, count: 8 * 256)
    for byte in 0..<256 {
        var crc = UInt32(byte)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1
        }
        table[byte] = crc
    }
    for slice in 1..<8 {
        for byte in 0..<256 {
            let previous = table[(slice - 1) * 256 + byte]
            table[slice * 256 + byte] = (previous >> 8) ^ table[Int(previous & 0xFF)]
        }
    }
    return table
}()
