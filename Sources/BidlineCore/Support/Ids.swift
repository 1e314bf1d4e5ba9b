/// Dense index of a user inside the engine, assigned in creation order starting at 0.
///
/// User ids (`alice`) are interned to this index once per request; the hot path works on indexes only.
public struct UserIndex: Hashable, Comparable, Sendable {
    public var raw: UInt32
    @inlinable public init(_ raw: UInt32) { self.raw = raw }
    @inlinable public init(_ raw: Int) { self.raw = UInt32(truncatingIfNeeded: raw) }
    @inlinable public var int: Int { Int(raw) }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.raw < b.raw }
}

/// A listing id: `L<number>` on the wire, numbers from 1 in creation order.
public struct ListingID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var number: UInt32
    @inlinable public init(_ number: UInt32) { self.number = number }
    @inlinable public var index: Int { Int(number) - 1 }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.number < b.number }
    public var description: String { "L\(number)" }
}

/// A bid id: `B<number>` on the wire, numbers from 1 in bid order.
public struct BidID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var number: UInt32
    @inlinable public init(_ number: UInt32) { self.number = number }
    @inlinable public var index: Int { Int(number) - 1 }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.number < b.number }
    public var description: String { "B\(number)" }
}

/// A claim id (债权): `C<number>` on the wire, numbers from 1 in creation order.
public struct ClaimID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var number: UInt32
    @inlinable public init(_ number: UInt32) { self.number = number }
    @inlinable public var index: Int { Int(number) - 1 }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.number < b.number }
    public var description: String { "C\(number)" }
}

/// A transfer offer id (债权转让): `T<number>` on the wire, numbers from 1 in creation order.
public struct OfferID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var number: UInt32
    @inlinable public init(_ number: UInt32) { self.number = number }
    @inlinable public var index: Int { Int(number) - 1 }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.number < b.number }
    public var description: String { "T\(number)" }
}

/// Parses a prefixed id such as `L7` (prefix byte then 1–10 digits, no leading zero) into its number.
@inlinable
public func parsePrefixedNumber<Bytes: Collection>(_ bytes: Bytes, prefix: UInt8) -> UInt32?
where Bytes.Element == UInt8 {
    var iterator = bytes.makeIterator()
    guard let first = iterator.next(), first == prefix || first == prefix | 0x20 else { return nil }
    var value: UInt64 = 0
    var digits = 0
    while let byte = iterator.next() {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        if digits == 0 && byte == UInt8(ascii: "0") { return nil }
        digits += 1
        guard digits <= 10 else { return nil }
        value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
    }
    guard digits > 0, value <= UInt64(UInt32.max) else { return nil }
    return UInt32(value)
}

/// True when `id` is a valid user id: 1–32 bytes of `[a-z0-9_.-]`.
@inlinable
public func isValidUserID<Bytes: Collection>(_ id: Bytes) -> Bool where Bytes.Element == UInt8 {
    guard !id.isEmpty, id.count <= 32 else { return false }
    for byte in id {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
            continue
        default:
            return false
        }
    }
    return true
}

/// True when `ref` is a valid idempotency reference: 1–64 bytes of `[A-Za-z0-9_.:-]`.
public func isValidRef<Bytes: Collection>(_ ref: Bytes) -> Bool where Bytes.Element == UInt8 {
    guard !ref.isEmpty, ref.count <= 64 else { return false }
    for byte in ref {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"),
            UInt8(ascii: "-"):
            continue
        default:
            return false
        }
    }
    return true
}
