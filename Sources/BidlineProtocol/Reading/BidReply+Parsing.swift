import BidlineCore

extension BidReply {
    /// Parses the reply to `BID`, `OK bid=B… listing=L… amount=… remaining=… full=0|1` (fields in any order,
    /// more fields allowed), in one pass over the bytes without allocating. Nil when a field is missing or
    /// malformed, or the line is not `OK`.
    @inlinable
    public init?(replyLine line: UnsafeRawBufferPointer) {
        guard ReplyParser.isOK(line) else { return nil }
        var bid: UInt32? = nil
        var listing: UInt32? = nil
        var amount: Money? = nil
        var remaining: Money? = nil
        var full: Bool? = nil
        ReplyParser.forEachField(in: line) { key, value in
            // Each key has its own length: the length picks the candidate, the bytes confirm it.
            switch key.count {
            case 3 where ReplyParser.isKey(key, "bid"): bid = parsePrefixedNumber(value, prefix: UInt8(ascii: "B"))
            case 7 where ReplyParser.isKey(key, "listing"):
                listing = parsePrefixedNumber(value, prefix: UInt8(ascii: "L"))
            case 6 where ReplyParser.isKey(key, "amount"): amount = ReplyParser.money(value)
            case 9 where ReplyParser.isKey(key, "remaining"): remaining = ReplyParser.money(value)
            case 4 where ReplyParser.isKey(key, "full"):
                full = value.count == 1 && (value[0] == UInt8(ascii: "0") || value[0] == UInt8(ascii: "1"))
                    ? value[0] == UInt8(ascii: "1") : nil
            default: break
            }
        }
        guard let bid, let listing, let amount, let remaining, let full else { return nil }
        self.init(bid: BidID(bid), listing: ListingID(listing), amount: amount, remaining: remaining, full: full)
    }

    /// Parses the reply line to `BID`; see ``init(replyLine:)-(UnsafeRawBufferPointer)``.
    public init?(replyLine line: String) {
        var line = line
        guard let reply = line.withUTF8({ BidReply(replyLine: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = reply
    }
}
