import BidlineCore

/// Builds reply lines (`OK key=value ...`, `ERR CODE text`, `EVENT ...`) directly as ASCII bytes into a reused
/// buffer: no String formatting on the hot path.
public struct ReplyWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 4096) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    /// Starts an `OK` line.
    @inlinable public mutating func ok() { bytes.append(contentsOf: [0x4F, 0x4B]) }

    /// Starts a row of a multi-row reply (no leading word).
    public mutating func row() {}

    /// `ERR CODE message\n` (the message is sanitized to printable ASCII without newlines, at most 300 bytes;
    /// the code's default text if nil).
    public mutating func error(_ code: ProtocolError.Code, _ message: String? = nil) {
        append("ERR ")
        append(code.wireText)
        append(" ")
        for byte in (message ?? code.message).utf8.prefix(300) {
            bytes.append(byte >= 0x20 && byte != 0x7F ? byte : UInt8(ascii: " "))
        }
        end()
    }

    /// `ERR CODE message\n` with one of the engine's codes.
    public mutating func error(_ code: RejectCode, _ message: String? = nil) { error(.rejected(code), message) }

    /// `ERR CODE message\n` of a parse or session refusal.
    public mutating func error(_ error: ProtocolError) { self.error(error.code, error.message) }

    @inlinable public mutating func end() { bytes.append(0x0A) }

    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// ` key=` (with a leading space unless the line is empty so far).
    @inlinable
    public mutating func key(_ key: StaticString) {
        if let last = bytes.last, last != 0x0A { bytes.append(0x20) }
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "="))
    }

    @inlinable public mutating func field(_ key: StaticString, _ money: Money) {
        self.key(key)
        money.appendASCII(to: &bytes)
    }

    @inlinable public mutating func field(_ key: StaticString, cents: Int64) { field(key, Money(cents: cents)) }

    public mutating func field(_ key: StaticString, _ value: Int64) {
        self.key(key)
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        Money.appendDecimal(value.magnitude, to: &bytes)
    }

    public mutating func field(_ key: StaticString, _ value: Int) { field(key, Int64(value)) }
    public mutating func field(_ key: StaticString, _ value: Bool) {
        self.key(key)
        bytes.append(value ? UInt8(ascii: "1") : UInt8(ascii: "0"))
    }

    public mutating func field(_ key: StaticString, _ value: String) {
        self.key(key)
        append(value)
    }

    public mutating func field(_ key: StaticString, prefix: UInt8, _ number: UInt32) {
        self.key(key)
        bytes.append(prefix)
        Money.appendDecimal(UInt64(number), to: &bytes)
    }

    public mutating func field(_ key: StaticString, _ id: ListingID) { field(key, prefix: UInt8(ascii: "L"), id.number) }
    public mutating func field(_ key: StaticString, _ id: BidID) { field(key, prefix: UInt8(ascii: "B"), id.number) }
    public mutating func field(_ key: StaticString, _ id: ClaimID) { field(key, prefix: UInt8(ascii: "C"), id.number) }
    public mutating func field(_ key: StaticString, _ id: OfferID) { field(key, prefix: UInt8(ascii: "T"), id.number) }

    /// A percentage with two decimals (`12.50`).
    public mutating func field(_ key: StaticString, percent: BasisPoints) {
        self.key(key)
        Money(cents: Int64(percent.value)).appendASCII(to: &bytes)
    }
}
