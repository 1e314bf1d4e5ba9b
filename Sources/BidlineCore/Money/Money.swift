/// An amount of money in cents (分), the only representation money has in Bidline.
///
/// Wire form: yuan with at most two decimals (`1000`, `1000.5`, `1000.50`); output always has two decimals.
/// No floating point is ever involved. Amounts accepted from clients are bounded by ``Money/maxAmountCents``.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The value in cents. May be negative for ledger balances (`bank`), never for amounts a client sends.
    public var cents: Int64

    /// The largest amount a client may send: 10^13 cents (100 billion yuan).
    public static let maxAmountCents: Int64 = 10_000_000_000_000

    public static let zero = Money(cents: 0)

    @inlinable
    public init(cents: Int64) { self.cents = cents }

    /// Whole yuan, for tests and defaults: `Money(yuan: 50)` is 50.00.
    @inlinable
    public init(yuan: Int64) { self.cents = yuan * 100 }

    @inlinable
    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.cents < rhs.cents }

    /// Two-decimal text, e.g. `1000.50`, `-3.07`, `0.00`.
    public var description: String {
        var text = ""
        text.reserveCapacity(24)
        appendText(to: &text)
        return text
    }

    /// Appends the two-decimal form to `text` without an intermediate String.
    public func appendText(to text: inout String) {
        let negative = cents < 0
        let magnitude = cents.magnitude
        if negative { text.append("-") }
        text.append(String(magnitude / 100))
        text.append(".")
        let fraction = magnitude % 100
        if fraction < 10 { text.append("0") }
        text.append(String(fraction))
    }

    /// Writes the two-decimal form as ASCII bytes into `buffer`.
    @inlinable
    public func appendASCII(to buffer: inout [UInt8]) {
        var magnitude = cents.magnitude
        if cents < 0 { buffer.append(UInt8(ascii: "-")) }
        let fraction = magnitude % 100
        magnitude /= 100
        Self.appendDecimal(magnitude, to: &buffer)
        buffer.append(UInt8(ascii: "."))
        buffer.append(UInt8(ascii: "0") &+ UInt8(fraction / 10))
        buffer.append(UInt8(ascii: "0") &+ UInt8(fraction % 10))
    }

    /// Parses the wire form. Accepts `digits[.d[d]]`; rejects signs, exponents, `1000.`, `.5`, more than two
    /// decimals and anything above ``maxAmountCents``. Zero is accepted here; callers that need a positive
    /// amount use ``parsePositive(_:)``.
    @inlinable
    public static func parse<Bytes: Collection>(_ bytes: Bytes) -> Money? where Bytes.Element == UInt8 {
        var cents: Int64 = 0
        var digitsBeforePoint = 0
        var decimals = -1  // -1: no point seen
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard decimals == -1, digitsBeforePoint > 0 else { return nil }
                decimals = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            if decimals >= 0 {
                decimals += 1
                if decimals > 2 { return nil }
            } else {
                digitsBeforePoint += 1
                // 10^13 cents is 10^11 yuan: 12 digits; more (beyond leading zeros) cannot fit.
                if digitsBeforePoint > 20 { return nil }
            }
            cents = cents &* 10 &+ Int64(byte &- UInt8(ascii: "0"))
            if cents > maxAmountCents * 100 { return nil }
        }
        if digitsBeforePoint == 0 || decimals == 0 { return nil }
        switch decimals {
        case -1: cents *= 100
        case 1: cents *= 10
        default: break
        }
        guard cents <= maxAmountCents else { return nil }
        return Money(cents: cents)
    }

    /// Parses a String in the wire form; see ``parse(_:)-(Bytes)``.
    public static func parse(_ text: String) -> Money? {
        var text = text
        return text.withUTF8 { parse($0) }
    }

    /// Parses an amount that must be strictly positive (bids, deposits, withdrawals).
    public static func parsePositive(_ text: String) -> Money? {
        guard let money = parse(text), money.cents > 0 else { return nil }
        return money
    }
}

extension Money {
    /// Appends the decimal digits of `value` as ASCII to `buffer`: the one digit routine of the wire format
    /// (amounts, counts, ids and times all go through it). No allocation beyond `buffer`'s growth; any `UInt64`
    /// (up to 20 digits).
    @inlinable
    public static func appendDecimal(_ value: UInt64, to buffer: inout [UInt8]) {
        if value < 10 {
            buffer.append(UInt8(ascii: "0") &+ UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits, written back to front
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while rest > 0 {
                raw[23 - count] = UInt8(ascii: "0") &+ UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            buffer.append(contentsOf: raw[(24 - count)..<24])
        }
    }
}

extension Money {
    /// `self × basisPoints / 10_000`, rounded half up to the cent (四舍五入). Exact: computed in `Int128`.
    @inlinable
    public func percentage(_ rate: BasisPoints) -> Money {
        Money(cents: roundHalfUp(Int128(cents) * Int128(rate.value), dividedBy: 10_000))
    }
}

/// Rounds `numerator / denominator` half up (away from zero at .5) for a positive denominator.
@inlinable
public func roundHalfUp(_ numerator: Int128, dividedBy denominator: Int128) -> Int64 {
    precondition(denominator > 0)
    if numerator >= 0 {
        return Int64((numerator + denominator / 2) / denominator)
    } else {
        return -Int64((-numerator + denominator / 2) / denominator)
    }
}
