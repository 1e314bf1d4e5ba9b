import BidlineCore
import BidlineProtocol
import NIOCore

/// Request choices: the core's seeded generator with a bounded draw.
typealias FastRandom = SplitMix64

extension SplitMix64 {
    /// A value in `0..<bound` (modulo bias is irrelevant for load generation).
    mutating func below(_ bound: Int) -> Int { Int((next() >> 1) % UInt64(bound)) }
}

/// Accepted amounts per listing, parsed from `OK bid=… amount=… full=…` replies.
public final class BidAccounting {
    public var acceptedCents: [UInt32: Int64] = [:]
    public var bidsAccepted: UInt64 = 0
    public var fullSeen: Set<UInt32> = []

    public init() {}

    /// Accounts for a bid reply; returns true when it filled the listing. Reads only `amount=` and `full=`, in
    /// one pass over the bytes without allocating: this runs once per reply in the load generator, where the full
    /// `BidReply(replyLine:)` measured 1.6x slower than the two-key scan it replaced, and this pass 0.8x.
    @discardableResult
    func account(listing: UInt32, reply: UnsafeRawBufferPointer) -> Bool {
        var amount: Money? = nil
        var full = false
        ReplyParser.forEachField(in: reply) { key, value in
            if ReplyParser.isKey(key, "amount") {
                amount = Money.parse(value)
            } else if ReplyParser.isKey(key, "full") {
                full = value.count == 1 && value[0] == UInt8(ascii: "1")
            }
        }
        guard let amount else { return false }
        acceptedCents[listing, default: 0] += amount.cents
        bidsAccepted += 1
        if full {
            fullSeen.insert(listing)
            return true
        }
        return false
    }
}

/// `steady`: random valid bids over many open listings.
public final class SteadyWorkload: Workload {
    let listings: [UInt32]
    let amounts: [String]
    var random: FastRandom
    public let books = BidAccounting()

    /// Bids of `minYuan`…`maxYuan` (whole yuan) on uniformly chosen `listings`.
    public init(listings: [UInt32], minYuan: Int = 1, maxYuan: Int = 5, seed: UInt64 = 1) {
        self.listings = listings
        self.amounts = (minYuan...maxYuan).map { "\($0)" }
        self.random = FastRandom(state: seed)
    }

    public func nextRequest(connection: Int, into buffer: inout ByteBuffer) -> RequestTag {
        let listing = listings[random.below(listings.count)]
        buffer.writeStaticString("BID L")
        buffer.writeDecimal(listing)
        buffer.writeStaticString(" ")
        buffer.writeString(amounts[random.below(amounts.count)])
        buffer.writeString("\n")
        return RequestTag(listing: listing, kind: 1)
    }

    public func completed(connection: Int, tag: RequestTag, reply: UnsafeRawBufferPointer, ok: Bool) {
        if ok { books.account(listing: tag.listing, reply: reply) }
    }
}

/// `flash` (抢标): every connection races for one hot listing; when it fills, the next one is released.
public final class FlashWorkload: Workload {
    let listings: [UInt32]
    public private(set) var current = 0
    var random: FastRandom
    public let books = BidAccounting()
    /// Monotonic time each listing was seen full (by the filling bid's reply).
    public private(set) var fullAtNanos: [UInt32: UInt64] = [:]
    /// Called on the load loop when the current hot listing fills (the driver approves the next one).
    public var onFull: ((UInt32) -> Void)?

    public init(listings: [UInt32], seed: UInt64 = 2) {
        self.listings = listings
        self.random = FastRandom(state: seed)
    }

    public func nextRequest(connection: Int, into buffer: inout ByteBuffer) -> RequestTag {
        let listing = listings[min(current, listings.count - 1)]
        buffer.writeString("BID L\(listing) \(50 * (1 + random.below(10)))\n")
        return RequestTag(listing: listing, kind: 1)
    }

    public func completed(connection: Int, tag: RequestTag, reply: UnsafeRawBufferPointer, ok: Bool) {
        guard ok else { return }
        if books.account(listing: tag.listing, reply: reply) {
            fullAtNanos[tag.listing] = monotonicNanos()
            if current < listings.count, listings[current] == tag.listing {
                current += 1
                onFull?(tag.listing)
            }
        }
    }
}

/// `mixed`: bids, balance queries and listing reads in realistic proportions (70 / 20 / 10).
public final class MixedWorkload: Workload {
    let listings: [UInt32]
    var random: FastRandom
    public let books = BidAccounting()

    public init(listings: [UInt32], seed: UInt64 = 3) {
        self.listings = listings
        self.random = FastRandom(state: seed)
    }

    public func nextRequest(connection: Int, into buffer: inout ByteBuffer) -> RequestTag {
        let roll = random.below(100)
        let listing = listings[random.below(listings.count)]
        switch roll {
        case 0..<70:
            buffer.writeString("BID L\(listing) \(1 + random.below(5))\n")
            return RequestTag(listing: listing, kind: 1)
        case 70..<90:
            buffer.writeString("BALANCE\n")
            return RequestTag(kind: 2)
        default:
            buffer.writeString("LOAN.GET L\(listing)\n")
            return RequestTag(kind: 3)
        }
    }

    public func completed(connection: Int, tag: RequestTag, reply: UnsafeRawBufferPointer, ok: Bool) {
        if ok && tag.kind == 1 { books.account(listing: tag.listing, reply: reply) }
    }
}

extension ByteBuffer {
    /// Writes `value` in decimal without building a `String`.
    mutating func writeDecimal(_ value: UInt32) {
        var digits: (UInt64, UInt64) = (0, 0)  // 16 bytes: enough for UInt32's 10 digits
        withUnsafeMutableBytes(of: &digits) { bytes in
            var rest = value
            var index = bytes.count
            repeat {
                index -= 1
                bytes[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            writeBytes(UnsafeRawBufferPointer(rebasing: bytes[index...]))
        }
    }
}
