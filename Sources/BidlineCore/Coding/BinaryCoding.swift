/// A destination for the canonical binary encoding of commands and state: a byte buffer (log records,
/// snapshots) or a hasher (state hash). Little-endian, fixed width; strings are a `u32` length plus UTF-8.
public protocol BinarySink {
    mutating func write(_ value: UInt64)
    mutating func write(_ value: UInt32)
    mutating func write(_ value: UInt8)
    mutating func write(bytes: UnsafeRawBufferPointer)
}

extension BinarySink {
    @inlinable public mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }
    @inlinable public mutating func write(_ value: Int32) { write(UInt32(bitPattern: value)) }
    @inlinable public mutating func write(_ value: Bool) { write(value ? UInt8(1) : UInt8(0)) }
    @inlinable public mutating func write(_ value: Money) { write(value.cents) }
    @inlinable public mutating func write(_ value: BasisPoints) { write(value.value) }

    public mutating func write(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            write(UInt32(utf8.count))
            write(bytes: UnsafeRawBufferPointer(utf8))
        }
    }

    /// A short string (≤ 255 bytes) with a one-byte length; length 0 encodes `nil`.
    public mutating func writeShort(_ value: String?) {
        guard var value else {
            write(UInt8(0))
            return
        }
        value.withUTF8 { utf8 in
            precondition(utf8.count > 0 && utf8.count <= 255, "short string out of range")
            write(UInt8(utf8.count))
            write(bytes: UnsafeRawBufferPointer(utf8))
        }
    }
}

/// Counts the bytes an encoding takes (the first pass of an exact-size encode).
public struct CountingSink: BinarySink, Sendable {
    public var count = 0
    public init() {}
    @inlinable public mutating func write(_ value: UInt64) { count &+= 8 }
    @inlinable public mutating func write(_ value: UInt32) { count &+= 4 }
    @inlinable public mutating func write(_ value: UInt8) { count &+= 1 }
    @inlinable public mutating func write(bytes raw: UnsafeRawBufferPointer) { count &+= raw.count }
}

/// Writes little-endian values straight into preallocated memory (the second pass of an exact-size encode).
/// The caller guarantees the room (a `CountingSink` pass measured it); unaligned stores are fine.
public struct RawSink: BinarySink {
    public let base: UnsafeMutableRawPointer
    public let capacity: Int
    public var offset = 0

    public init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inlinable public mutating func write(_ value: UInt64) {
        precondition(offset + 8 <= capacity, "RawSink overflow")
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
        offset &+= 8
    }
    @inlinable public mutating func write(_ value: UInt32) {
        precondition(offset + 4 <= capacity, "RawSink overflow")
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
        offset &+= 4
    }
    @inlinable public mutating func write(_ value: UInt8) {
        precondition(offset + 1 <= capacity, "RawSink overflow")
        base.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
        offset &+= 1
    }
    @inlinable public mutating func write(bytes raw: UnsafeRawBufferPointer) {
        precondition(offset + raw.count <= capacity, "RawSink overflow")
        if let source = raw.baseAddress, raw.count > 0 { (base + offset).copyMemory(from: source, byteCount: raw.count) }
        offset &+= raw.count
    }
}

/// Writes the same encoding to two sinks at once: a snapshot's bytes and its state hash in one pass.
public struct TeeSink<First: BinarySink, Second: BinarySink>: BinarySink {
    public var first: First
    public var second: Second

    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    @inlinable public mutating func write(_ value: UInt64) {
        first.write(value)
        second.write(value)
    }
    @inlinable public mutating func write(_ value: UInt32) {
        first.write(value)
        second.write(value)
    }
    @inlinable public mutating func write(_ value: UInt8) {
        first.write(value)
        second.write(value)
    }
    @inlinable public mutating func write(bytes raw: UnsafeRawBufferPointer) {
        first.write(bytes: raw)
        second.write(bytes: raw)
    }
}

/// Appends the encoding to a growable byte array. Reuse one writer (`removeAll(keepingCapacity:)`) on hot paths.
public struct BinaryWriter: BinarySink, Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inlinable public mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    @inlinable public mutating func write(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    @inlinable public mutating func write(_ value: UInt8) { bytes.append(value) }
    @inlinable public mutating func write(bytes raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
}

/// Why a byte sequence could not be decoded.
public struct DecodingError: Error, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }
    public var description: String { "decoding error at byte \(offset): \(reason)" }
}

/// Reads the canonical encoding back; every read is bounds-checked and throws ``DecodingError``.
public struct BinaryReader {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    let end: Int

    public init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    public var isAtEnd: Bool { offset >= end }
    public var remaining: Int { end - offset }

    mutating func need(_ count: Int) throws {
        guard count >= 0, end - offset >= count else {
            throw DecodingError(offset: offset, reason: "truncated: need \(count) bytes, have \(end - offset)")
        }
    }

    public mutating func readU8() throws -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readU32() throws -> UInt32 {
        try need(4)
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * i) }
        offset += 4
        return value
    }

    public mutating func readU64() throws -> UInt64 {
        try need(8)
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * i) }
        offset += 8
        return value
    }

    public mutating func readI64() throws -> Int64 { Int64(bitPattern: try readU64()) }
    public mutating func readI32() throws -> Int32 { Int32(bitPattern: try readU32()) }
    public mutating func readMoney() throws -> Money { Money(cents: try readI64()) }
    public mutating func readBasisPoints() throws -> BasisPoints { BasisPoints(try readI32()) }

    public mutating func readBool() throws -> Bool {
        switch try readU8() {
        case 0: return false
        case 1: return true
        case let other: throw DecodingError(offset: offset - 1, reason: "bad boolean \(other)")
        }
    }

    public mutating func readString(maxLength: Int = 1 << 20) throws -> String {
        let length = Int(try readU32())
        guard length <= maxLength else { throw DecodingError(offset: offset - 4, reason: "string too long (\(length))") }
        try need(length)
        defer { offset += length }
        return String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
    }

    public mutating func readShortString() throws -> String? {
        let length = Int(try readU8())
        guard length > 0 else { return nil }
        try need(length)
        defer { offset += length }
        return String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
    }

    /// Reads a raw enum value, throwing when it is not a known case.
    public mutating func readEnum<E: RawRepresentable>(_ type: E.Type) throws -> E where E.RawValue == UInt8 {
        let raw = try readU8()
        guard let value = E(rawValue: raw) else {
            throw DecodingError(offset: offset - 1, reason: "bad \(E.self) value \(raw)")
        }
        return value
    }
}

/// A fast, deterministic 128-bit hash of the canonical encoding's byte stream (two multiply-rotate lanes over
/// 8-byte little-endian words, finalized with SplitMix64 mixing). It hashes exactly the bytes a `BinaryWriter`
/// would produce, however they are written, so the hash of a state equals the hash of its snapshot payload.
/// Not cryptographic: it compares a replayed state with a live one. Seeded with constants, never randomly.
public struct StateHasher: BinarySink, Sendable {
    @usableFromInline var lane0: UInt64 = 0x9E37_79B9_7F4A_7C15
    @usableFromInline var lane1: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    /// Bytes not yet forming a whole word, low byte first, and how many.
    @usableFromInline var pending: UInt64 = 0
    @usableFromInline var pendingBytes: Int = 0
    @usableFromInline var words: UInt64 = 0
    @usableFromInline var length: UInt64 = 0

    public init() {}

    @inline(__always) @usableFromInline
    mutating func word(_ value: UInt64) {
        if words & 1 == 0 {
            let x = (lane0 ^ value) &* 0x9FB2_1C65_1E98_DF25
            lane0 = (x &<< 27) | (x &>> 37)
        } else {
            let x = (lane1 ^ value) &* 0xD6E8_FEB8_6659_FD93
            lane1 = (x &<< 31) | (x &>> 33)
        }
        words &+= 1
    }

    /// Appends the low `count` bytes of `value` (1...8) to the stream.
    @inline(__always) @usableFromInline
    mutating func append(_ value: UInt64, count: Int) {
        length &+= UInt64(count)
        if pendingBytes == 0 {
            if count == 8 {
                word(value)
            } else {
                pending = value
                pendingBytes = count
            }
            return
        }
        pending |= value &<< UInt64(8 * pendingBytes)
        let total = pendingBytes + count
        if total < 8 {
            pendingBytes = total
            return
        }
        word(pending)
        let used = 8 - pendingBytes
        pending = used == 8 ? 0 : value &>> UInt64(8 * used)
        pendingBytes = total - 8
    }

    @inlinable public mutating func write(_ value: UInt64) { append(value, count: 8) }
    @inlinable public mutating func write(_ value: UInt32) { append(UInt64(value), count: 4) }
    @inlinable public mutating func write(_ value: UInt8) { append(UInt64(value), count: 1) }

    public mutating func write(bytes raw: UnsafeRawBufferPointer) {
        var index = 0
        while index + 8 <= raw.count {
            append(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)), count: 8)
            index += 8
        }
        while index < raw.count {
            append(UInt64(raw[index]), count: 1)
            index += 1
        }
    }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The two finished 64-bit halves.
    var finished: (UInt64, UInt64) {
        let tail = Self.mix(pending ^ (UInt64(pendingBytes) << 56))
        let a = Self.mix(lane0 ^ tail ^ length)
        let b = Self.mix(lane1 &+ a ^ words)
        return (a, b)
    }

    /// The hash as 32 lowercase hex digits.
    public var hexDigest: String {
        let (a, b) = finished
        return hex(a) + hex(b)
    }

    /// The hash as 16 bytes.
    public var digest: [UInt8] {
        let (a, b) = finished
        return withUnsafeBytes(of: (a.bigEndian, b.bigEndian)) { Array($0) }
    }

    func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
