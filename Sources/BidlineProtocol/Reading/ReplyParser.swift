import BidlineCore

/// Reads the parts of one reply line, as the server writes them: `OK key=value …`, a row of `key=value` pairs,
/// `ERR CODE text`, `EVENT name key=value …`, and money values. The one reply-field parser of the client,
/// `bidline cli`, `bidline bench` and the tests.
///
/// Fields are the space-separated tokens of the form `key=value` whose key is one or more of `[A-Za-z0-9_.-]`
/// (so a Prometheus line such as `metric{label="x"} 1` has none); other tokens (`OK`, `pong`) are skipped, and
/// runs of spaces separate like one. The byte functions copy nothing; the `String` ones are for replies
/// outside hot paths. Stateless: safe from any thread.
public enum ReplyParser {
    /// Whether `byte` may be part of a field's key: letters, digits, `_`, `.`, `-`.
    @inlinable
    public static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// Calls `body` with the key and value bytes of every field of `line`, in line order (a key seen twice is
    /// reported twice). O(line length); no copy, no allocation.
    @inlinable
    public static func forEachField(
        in line: UnsafeRawBufferPointer,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let count = line.count
        var index = 0
        while index < count {
            while index < count && line[index] == UInt8(ascii: " ") { index += 1 }
            let start = index
            var equals = -1
            var keyValid = true
            while index < count && line[index] != UInt8(ascii: " ") {
                if equals < 0 {
                    if line[index] == UInt8(ascii: "=") {
                        equals = index
                    } else if !isKeyByte(line[index]) {
                        keyValid = false
                    }
                }
                index += 1
            }
            guard equals > start, keyValid else { continue }
            try body(
                UnsafeRawBufferPointer(rebasing: line[start..<equals]),
                UnsafeRawBufferPointer(rebasing: line[(equals + 1)..<index]))
        }
    }

    /// The value bytes of field `key` in `line` (the last one when the key repeats), or nil. No copy.
    @inlinable
    public static func value(of key: StaticString, in line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var found: UnsafeRawBufferPointer? = nil
        forEachField(in: line) { name, value in
            if isKey(name, key) { found = value }
        }
        return found
    }

    /// Whether the key bytes `key` (from ``forEachField(in:_:)``) are `name`: a byte comparison, no String.
    @inlinable
    public static func isKey(_ key: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        let count = name.utf8CodeUnitCount
        guard key.count == count else { return false }
        let expected = name.utf8Start
        for index in 0..<count where key[index] != expected[index] { return false }
        return true
    }

    /// The fields of `line` by key; a key seen twice keeps its last value. For an `OK` line, a row or an event
    /// (an `ERR` line's text is free-form: read it with ``error(_:)``).
    public static func fields(_ line: some StringProtocol) -> [String: String] {
        var result: [String: String] = [:]
        withBytes(line) { bytes in
            forEachField(in: bytes) { key, value in
                result[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
            }
        }
        return result
    }

    /// The fields of `line` in line order, or nil when some token of `line` is not a field (a row that is not
    /// all `key=value` pairs, such as the Prometheus text of `METRICS`).
    public static func orderedFields(_ line: some StringProtocol) -> [(key: String, value: String)]? {
        var result: [(key: String, value: String)] = []
        var tokens = 0
        withBytes(line) { bytes in
            tokens = bytes.split(separator: UInt8(ascii: " ")).count
            forEachField(in: bytes) { key, value in
                result.append((String(decoding: key, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            }
        }
        return result.count == tokens ? result : nil
    }

    /// True for an `OK` line (`OK` alone or followed by a space).
    @inlinable
    public static func isOK(_ line: UnsafeRawBufferPointer) -> Bool {
        line.count >= 2 && line[0] == UInt8(ascii: "O") && line[1] == UInt8(ascii: "K")
            && (line.count == 2 || line[2] == UInt8(ascii: " "))
    }

    /// True for an `OK` line (`OK` alone or followed by a space).
    public static func isOK(_ line: some StringProtocol) -> Bool { line == "OK" || line.hasPrefix("OK ") }

    /// True for a pushed `EVENT name …` line of a subscription.
    public static func isEvent(_ line: some StringProtocol) -> Bool { line.hasPrefix("EVENT ") }

    /// The code bytes of an `ERR CODE text` line (`INSUFFICIENT_FUNDS`), or nil for any other line. No copy.
    @inlinable
    public static func errorCode(_ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard line.starts(with: "ERR ".utf8) else { return nil }
        var start = 4
        while start < line.count && line[start] == UInt8(ascii: " ") { start += 1 }
        var end = start
        while end < line.count && line[end] != UInt8(ascii: " ") { end += 1 }
        return UnsafeRawBufferPointer(rebasing: line[start..<end])
    }

    /// The code and the human-readable text of an `ERR CODE text` line, or nil for any other line.
    public static func error(_ line: some StringProtocol) -> (code: String, message: String)? {
        guard line.hasPrefix("ERR ") else { return nil }
        let rest = line.dropFirst(4).drop { $0 == " " }
        let code = rest.prefix { $0 != " " }
        return (String(code), String(rest.dropFirst(code.count).drop { $0 == " " }))
    }

    /// The event name of an `EVENT name key=value …` line (`loan.full`), or nil for any other line.
    public static func eventName(_ line: some StringProtocol) -> String? {
        guard isEvent(line) else { return nil }
        return String(line.dropFirst("EVENT ".count).prefix { $0 != " " })
    }

    /// The row count announced by a line that is exactly `OK rows=N` (1 to 9 digits), else nil.
    public static func announcedRowCount(_ line: some StringProtocol) -> Int? {
        guard line.hasPrefix("OK rows=") else { return nil }
        let digits = line.utf8.dropFirst("OK rows=".count)
        guard !digits.isEmpty, digits.count <= 9,
            digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// A money value as the server writes it (two decimals, `-` for negative balances such as `bank`), parsed
    /// with ``Money/parse(_:)-(Bytes)``; also accepts fewer decimals (`7`, `1.5`). Nil for anything else.
    @inlinable
    public static func money<Bytes: Collection>(_ bytes: Bytes) -> Money? where Bytes.Element == UInt8 {
        guard bytes.first == UInt8(ascii: "-") else { return Money.parse(bytes) }
        guard let value = Money.parse(bytes.dropFirst()) else { return nil }
        return Money(cents: -value.cents)
    }

    /// A money value of a reply; see ``money(_:)-(Bytes)``. Nil for nil.
    public static func money(_ text: String?) -> Money? {
        guard var text else { return nil }
        return text.withUTF8 { money($0) }
    }

    /// Runs `body` over the UTF-8 bytes of `text` (contiguous: no copy for native strings).
    static func withBytes<R>(_ text: some StringProtocol, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let result = try text.utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        var copy = String(text)
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}
