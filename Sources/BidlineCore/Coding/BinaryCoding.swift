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

/// A fast, deterministic 128-bit hash over the canonical encoding (two 64-bit multiply-xorshift lanes). Not
/// cryptographic: it compares a replayed state with a live one. Seeded with constants, never randomly.
public struct StateHasher: BinarySink, Sendable {
    var lane0: UInt64 = 0x9E37_79B9_7F4A_7C15
    var lane1: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    var length: UInt64 = 0

    public init() {}

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inlinable public mutating func write(_ value: UInt64) { absorb(value) }
    @inlinable public mutating func write(_ value: UInt32) { absorb(UInt64(value) | 0x1_0000_0000_0000) }
    @inlinable public mutating func write(_ value: UInt8) { absorb(UInt64(value) | 0x2_0000_0000_0000) }

    public mutating func write(bytes raw: UnsafeRawBufferPointer) {
        var index = 0
        while index + 8 <= raw.count {
            absorb(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            index += 8
        }
        var tail: UInt64 = 0x3_0000_0000_0000 | UInt64(raw.count - index) << 56
        var shift: UInt64 = 0
        while index < raw.count {
            tail |= UInt64(raw[index]) << shift
            shift += 8
            index += 1
        }
        absorb(tail)
    }

    @usableFromInline
    mutating func absorb(_ value: UInt64) {
        length &+= 1
        lane0 = Self.mix(lane0 ^ value) &+ length
        lane1 = Self.mix(lane1 &+ value ^ 0x5851_F42D_4C95_7F2D) ^ lane0
    }

    /// The hash as 32 lowercase hex digits.
    public var hexDigest: String {
        let a = Self.mix(lane0 ^ length)
        let b = Self.mix(lane1 &+ a)
        return hex(a) + hex(b)
    }

    /// The hash as 16 bytes.
    public var digest: [UInt8] {
        let a = Self.mix(lane0 ^ length)
        let b = Self.mix(lane1 &+ a)
        return withUnsafeBytes(of: (a.bigEndian, b.bigEndian)) { Array($0) }
    }

    func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
