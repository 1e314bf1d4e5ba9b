/// A percentage with two decimals, stored as basis points: `12.5` % is 1250, `0.05` % is 5.
///
/// Used for annual interest rates and fee rates. Wire form: `12`, `12.5`, `12.50` (percent).
public struct BasisPoints: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: Int32

    @inlinable
    public init(_ value: Int32) { self.value = value }

    /// `BasisPoints(percent: 12)` is 12.00 %.
    @inlinable
    public init(percent: Int32) { self.value = percent * 100 }

    @inlinable
    public static func < (lhs: BasisPoints, rhs: BasisPoints) -> Bool { lhs.value < rhs.value }

    /// Parses a non-negative percentage with at most two decimals, at most `maxPercent` percent.
    @inlinable
    public static func parsePercent<Bytes: Collection>(_ bytes: Bytes, maxPercent: Int32 = 100) -> BasisPoints?
    where Bytes.Element == UInt8 {
        // The money grammar is the same (digits, optional point and one or two decimals).
        guard bytes.count <= 8, let money = Money.parse(bytes) else { return nil }
        guard money.cents <= Int64(maxPercent) * 100 else { return nil }
        return BasisPoints(Int32(money.cents))
    }

    public static func parsePercent(_ text: String, maxPercent: Int32 = 100) -> BasisPoints? {
        var text = text
        return text.withUTF8 { parsePercent($0, maxPercent: maxPercent) }
    }

    /// Percent with two decimals, e.g. `12.50`.
    public var description: String { Money(cents: Int64(value)).description }
}
