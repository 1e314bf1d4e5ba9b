/// The canonical encoding of the whole engine state: the body of a snapshot and the input of the state hash.
/// Sections in a fixed order, each a `u64` element count then the elements field by field (no padding, no
/// pointers), so the same state always encodes to the same bytes on any machine.
extension EngineState {
    /// Format version of this encoding (see `snapshots/FORMAT.md`).
    public static let formatVersion: UInt32 = 1

    public func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(Self.formatVersion)
        settings.encode(to: &sink)
        stats.encode(to: &sink)
        bank.encode(to: &sink)
        platform.encode(to: &sink)
        sink.write(autoQueueHead)
        sink.write(autoQueueTail)
        sink.write(autoQueueCount)
        sink.write(clockMillis)
        Self.encode(accounts, to: &sink) { $1.encode(to: &$0) }
        Self.encode(users, to: &sink) { $1.encode(to: &$0) }
        Self.encode(autoRules, to: &sink) { $1.encode(to: &$0) }
        Self.encode(listings, to: &sink) { $1.encode(to: &$0) }
        Self.encode(bids, to: &sink) { $1.encode(to: &$0) }
        Self.encode(entries, to: &sink) { $1.encode(to: &$0) }
        Self.encode(claims, to: &sink) { $1.encode(to: &$0) }
        Self.encode(installments, to: &sink) { $1.encode(to: &$0) }
        Self.encode(offers, to: &sink) { $1.encode(to: &$0) }
        Self.encode(refs, to: &sink) { $1.encode(to: &$0) }
    }

    static func encode<Element, Sink: BinarySink>(
        _ array: ChunkedArray<Element>, to sink: inout Sink, _ body: (inout Sink, Element) -> Void
    ) {
        sink.write(UInt64(array.count))
        for element in array { body(&sink, element) }
    }

    static func decode<Element>(
        _ reader: inout BinaryReader, minimumSize: Int, _ body: (inout BinaryReader) throws -> Element
    ) throws -> ChunkedArray<Element> {
        let count = try reader.readU64()
        guard count <= UInt64(reader.remaining / max(1, minimumSize)) else {
            throw DecodingError(offset: reader.offset, reason: "section count \(count) exceeds the data left")
        }
        var array = ChunkedArray<Element>()
        array.reserveCapacity(Int(count))
        for _ in 0..<count { array.append(try body(&reader)) }
        return array
    }

    /// Decodes a state; throws on any inconsistency in the bytes (truncation, bad enum values, bad counts).
    public init(from reader: inout BinaryReader) throws {
        self.init()
        let version = try reader.readU32()
        guard version == Self.formatVersion else {
            throw DecodingError(offset: reader.offset - 4, reason: "unsupported state format version \(version)")
        }
        settings = try Settings(from: &reader)
        stats = try Stats(from: &reader)
        bank = try SystemAccount(from: &reader)
        platform = try SystemAccount(from: &reader)
        autoQueueHead = try reader.readU32()
        autoQueueTail = try reader.readU32()
        autoQueueCount = try reader.readU32()
        clockMillis = try reader.readI64()
        accounts = try Self.decode(&reader, minimumSize: 27) { try Account(from: &$0) }
        users = try Self.decode(&reader, minimumSize: 64) { try User(from: &$0) }
        guard accounts.count == users.count else {
            throw DecodingError(offset: reader.offset, reason: "\(accounts.count) accounts for \(users.count) users")
        }
        autoRules = try Self.decode(&reader, minimumSize: 20) { try AutoBidRule(from: &$0) }
        listings = try Self.decode(&reader, minimumSize: 64) { try Listing(from: &$0) }
        bids = try Self.decode(&reader, minimumSize: 24) { try Bid(from: &$0) }
        entries = try Self.decode(&reader, minimumSize: 32) { try LedgerEntry(from: &$0) }
        claims = try Self.decode(&reader, minimumSize: 40) { try Claim(from: &$0) }
        installments = try Self.decode(&reader, minimumSize: 41) { try Installment(from: &$0) }
        offers = try Self.decode(&reader, minimumSize: 40) { try TransferOffer(from: &$0) }
        refs = try Self.decode(&reader, minimumSize: 16) { try RefRecord(from: &$0) }
        // Cross-references must point inside the state.
        let userCount = UInt32(users.count)
        for index in 0..<listings.count where listings[index].borrower.raw >= userCount {
            throw DecodingError(offset: reader.offset, reason: "listing L\(index + 1) names a missing user")
        }
        for index in 0..<bids.count {
            let bid = bids[index]
            guard bid.investor.raw < userCount, bid.listing.number >= 1, bid.listing.index < listings.count,
                Int(bid.entry) < entries.count
            else {
                throw DecodingError(offset: reader.offset, reason: "bid B\(index + 1) names a missing user or listing")
            }
        }
    }

    /// The state as one byte array, written in two passes (count, then store into exactly that much memory).
    public var encoded: [UInt8] { encodedWithDigest().bytes }

    /// Decodes a whole byte array that must contain exactly one state.
    public init(decoding bytes: [UInt8]) throws {
        var reader = BinaryReader(bytes)
        try self.init(from: &reader)
        guard reader.isAtEnd else { throw DecodingError(offset: reader.offset, reason: "trailing bytes after state") }
    }

    /// A 128-bit hash of the canonical encoding, as 32 hex digits: equal states have equal hashes.
    public var hash: String {
        var hasher = StateHasher()
        encode(to: &hasher)
        return hasher.hexDigest
    }

    /// The 16-byte state hash (``StateHasher/digest``). Specialized here: callers in other modules get the
    /// fast concrete encoder, not the generic one.
    public var digest: [UInt8] {
        var hasher = StateHasher()
        encode(to: &hasher)
        return hasher.digest
    }

    /// The encoding and its 16-byte hash (what a snapshot writes): a counting pass, then one pass that stores
    /// the bytes into exactly-sized memory and hashes them.
    public func encodedWithDigest() -> (bytes: [UInt8], digest: [UInt8]) {
        var counter = CountingSink()
        encode(to: &counter)
        let size = counter.count
        var digest: [UInt8] = []
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var sink = TeeSink(RawSink(base: UnsafeMutableRawPointer(buffer.baseAddress!), capacity: size), StateHasher())
            encode(to: &sink)
            precondition(sink.first.offset == size, "state encoding changed size between passes")
            digest = sink.second.digest
            initialized = size
        }
        return (bytes, digest)
    }
}

extension Engine {
    /// The hash of the canonical state (replay comparisons: live vs. snapshot + log).
    public func stateHash() -> String { state.hash }
}

extension Settings {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(serviceFee)
        sink.write(interestFee)
        sink.write(transferFee)
        sink.write(penaltyRate)
        sink.write(autoBidShare)
        sink.write(transferHoldingMillis)
        sink.write(autoBidMaxVisits)
    }

    init(from reader: inout BinaryReader) throws {
        self.init()
        serviceFee = try reader.readBasisPoints()
        interestFee = try reader.readBasisPoints()
        transferFee = try reader.readBasisPoints()
        penaltyRate = try reader.readBasisPoints()
        autoBidShare = try reader.readBasisPoints()
        transferHoldingMillis = try reader.readI64()
        autoBidMaxVisits = try reader.readU32()
    }
}

extension Stats {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        for value in [disbursedCents, interestPaidCents, loansRepaying, users, listingsOpen, frozenCents, bidsAccepted] {
            sink.write(value)
        }
    }

    init(from reader: inout BinaryReader) throws {
        self.init()
        disbursedCents = try reader.readI64()
        interestPaidCents = try reader.readI64()
        loansRepaying = try reader.readI64()
        users = try reader.readI64()
        listingsOpen = try reader.readI64()
        frozenCents = try reader.readI64()
        bidsAccepted = try reader.readI64()
    }
}

extension SystemAccount {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(balanceCents)
        sink.write(lastEntry)
    }

    init(from reader: inout BinaryReader) throws {
        self.init()
        balanceCents = try reader.readI64()
        lastEntry = try reader.readU32()
    }
}

extension Account {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(availableCents)
        sink.write(frozenCents)
        sink.write(lastAvailableEntry)
        sink.write(lastFrozenEntry)
        sink.write(roles.rawValue)
        sink.write(riskLevel)
        sink.write(flags)
    }

    init(from reader: inout BinaryReader) throws {
        let available = try reader.readI64()
        let frozen = try reader.readI64()
        let lastAvailable = try reader.readU32()
        let lastFrozen = try reader.readU32()
        self.init(roles: Roles(rawValue: try reader.readU8()), verified: false, riskLevel: try reader.readU8())
        flags = try reader.readU8()
        availableCents = available
        frozenCents = frozen
        lastAvailableEntry = lastAvailable
        lastFrozenEntry = lastFrozen
    }
}

extension User {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.writeShort(id)
        sink.write(kind.rawValue)
        tokenHash.encode(to: &sink)
        sink.write(receivablePrincipalCents)
        sink.write(receivableInterestCents)
        sink.write(borrowedCents)
        sink.write(pendingBorrowCents)
        sink.write(autoRule)
        sink.write(autoPrev)
        sink.write(autoNext)
        sink.write(autoQueued)
    }

    init(from reader: inout BinaryReader) throws {
        guard let id = try reader.readShortString() else { throw DecodingError(offset: reader.offset, reason: "empty user id") }
        self.init(id: id, kind: try reader.readEnum(UserKind.self), tokenHash: try TokenHash(from: &reader))
        receivablePrincipalCents = try reader.readI64()
        receivableInterestCents = try reader.readI64()
        borrowedCents = try reader.readI64()
        pendingBorrowCents = try reader.readI64()
        autoRule = try reader.readU32()
        autoPrev = try reader.readU32()
        autoNext = try reader.readU32()
        autoQueued = try reader.readBool()
    }
}

extension Listing {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(borrower.raw)
        terms.encode(to: &sink)
        sink.write(status.rawValue)
        sink.write(raisedCents)
        sink.write(autoRaisedCents)
        sink.write(createdAtMillis)
        sink.write(approvedAtMillis)
        sink.write(closesAtMillis)
        sink.write(fullAtMillis)
        sink.write(endedAtMillis)
        sink.write(lastBid)
        sink.write(bidCount)
        sink.write(serviceFee)
        sink.write(interestFee)
        sink.write(penaltyRate)
        sink.write(firstClaim)
        sink.write(lastClaim)
        sink.write(claimCount)
        sink.write(firstInstallment)
        sink.write(nextInstallment)
        sink.write(outstandingPrincipalCents)
        sink.write(openOffers)
    }

    init(from reader: inout BinaryReader) throws {
        let borrower = UserIndex(try reader.readU32())
        let terms = try ListingTerms(from: &reader)
        self.init(borrower: borrower, terms: terms, createdAtMillis: 0)
        status = try reader.readEnum(ListingStatus.self)
        raisedCents = try reader.readI64()
        autoRaisedCents = try reader.readI64()
        createdAtMillis = try reader.readI64()
        approvedAtMillis = try reader.readI64()
        closesAtMillis = try reader.readI64()
        fullAtMillis = try reader.readI64()
        endedAtMillis = try reader.readI64()
        lastBid = try reader.readU32()
        bidCount = try reader.readU32()
        serviceFee = try reader.readBasisPoints()
        interestFee = try reader.readBasisPoints()
        penaltyRate = try reader.readBasisPoints()
        firstClaim = try reader.readU32()
        lastClaim = try reader.readU32()
        claimCount = try reader.readU32()
        firstInstallment = try reader.readU32()
        nextInstallment = try reader.readU8()
        outstandingPrincipalCents = try reader.readI64()
        openOffers = try reader.readU32()
    }
}

extension Bid {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(investor.raw)
        sink.write(listingAndSource)
        sink.write(prevInListing)
        sink.write(entry)
        sink.write(amountCents)
    }

    init(from reader: inout BinaryReader) throws {
        let investor = UserIndex(try reader.readU32())
        let listingAndSource = try reader.readU32()
        let prev = try reader.readU32()
        let entry = try reader.readU32()
        self.init(investor: investor, listing: ListingID(0), source: .manual, amountCents: try reader.readI64(), entry: entry)
        self.listingAndSource = listingAndSource
        prevInListing = prev
    }
}

extension LedgerEntry {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(amountCents)
        sink.write(atAndKind)
        sink.write(from.raw)
        sink.write(to.raw)
        sink.write(prevFrom)
        sink.write(prevTo)
    }

    init(from reader: inout BinaryReader) throws {
        let amount = try reader.readI64()
        let atAndKind = try reader.readU64()
        guard EntryKind(rawValue: UInt8(truncatingIfNeeded: atAndKind)) != nil else {
            throw DecodingError(offset: reader.offset - 8, reason: "bad ledger entry kind")
        }
        self.init(
            amountCents: amount, atAndKind: atAndKind, from: LedgerAccount(raw: try reader.readU32()),
            to: LedgerAccount(raw: try reader.readU32()), prevFrom: try reader.readU32(), prevTo: try reader.readU32())
    }
}

extension Claim {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(listing.number)
        sink.write(holder.raw)
        sink.write(bid.number)
        sink.write(principalCents)
        sink.write(receivableInterestCents)
        sink.write(acquiredAtMillis)
        sink.write(offeredCents)
        sink.write(nextInListing)
    }

    init(from reader: inout BinaryReader) throws {
        self.init(
            listing: ListingID(try reader.readU32()), holder: UserIndex(try reader.readU32()),
            bid: BidID(try reader.readU32()), principalCents: try reader.readI64(),
            receivableInterestCents: try reader.readI64(), acquiredAtMillis: try reader.readI64())
        offeredCents = try reader.readI64()
        nextInListing = try reader.readU32()
    }
}

extension Installment {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(dueAtMillis)
        sink.write(principalCents)
        sink.write(interestCents)
        sink.write(penaltyCents)
        sink.write(paidAtMillis)
        sink.write(status.rawValue)
    }

    init(from reader: inout BinaryReader) throws {
        self.init(dueAtMillis: try reader.readI64(), principalCents: try reader.readI64(), interestCents: try reader.readI64())
        penaltyCents = try reader.readI64()
        paidAtMillis = try reader.readI64()
        status = try reader.readEnum(InstallmentStatus.self)
    }
}

extension TransferOffer {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(claim.number)
        sink.write(seller.raw)
        sink.write(listing.number)
        sink.write(principalCents)
        sink.write(priceCents)
        sink.write(remainingCents)
        sink.write(feeRate)
        sink.write(createdAtMillis)
        sink.write(status.rawValue)
    }

    init(from reader: inout BinaryReader) throws {
        let claim = ClaimID(try reader.readU32())
        let seller = UserIndex(try reader.readU32())
        let listing = ListingID(try reader.readU32())
        let principal = try reader.readI64()
        let price = try reader.readI64()
        let remaining = try reader.readI64()
        let fee = try reader.readBasisPoints()
        self.init(
            claim: claim, seller: seller, listing: listing, principalCents: principal, priceCents: price, feeRate: fee,
            createdAtMillis: try reader.readI64())
        remainingCents = remaining
        status = try reader.readEnum(OfferStatus.self)
    }
}

extension RefRecord {
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(user.raw)
        sink.writeShort(ref)
        sink.write(kind.rawValue)
        sink.write(listingNumber)
        sink.write(amountCents)
        sink.write(allOrNone)
        reply.encode(to: &sink)
    }

    init(from reader: inout BinaryReader) throws {
        let user = UserIndex(try reader.readU32())
        guard let ref = try reader.readShortString() else { throw DecodingError(offset: reader.offset, reason: "empty ref") }
        self.init(
            user: user, ref: ref, kind: try reader.readEnum(Kind.self), listingNumber: try reader.readU32(),
            amountCents: try reader.readI64(), allOrNone: try reader.readBool(), reply: try Reply(from: &reader))
    }
}

extension Reply {
    /// Replies are stored only for idempotent refs (bids, deposits, withdrawals).
    func encode<Sink: BinarySink>(to sink: inout Sink) {
        switch self {
        case .bid(let bid):
            sink.write(UInt8(1))
            sink.write(bid.bid.number)
            sink.write(bid.listing.number)
            sink.write(bid.amount)
            sink.write(bid.remaining)
            sink.write(bid.full)
        case .funds(let user, let amount, let available):
            sink.write(UInt8(2))
            sink.write(user.raw)
            sink.write(amount)
            sink.write(available)
        default:
            preconditionFailure("only bid and funds replies are remembered for refs")
        }
    }

    init(from reader: inout BinaryReader) throws {
        switch try reader.readU8() {
        case 1:
            self = .bid(
                BidReply(
                    bid: BidID(try reader.readU32()), listing: ListingID(try reader.readU32()), amount: try reader.readMoney(),
                    remaining: try reader.readMoney(), full: try reader.readBool()))
        case 2:
            self = .funds(user: UserIndex(try reader.readU32()), amount: try reader.readMoney(), available: try reader.readMoney())
        case let other:
            throw DecodingError(offset: reader.offset - 1, reason: "bad remembered reply tag \(other)")
        }
    }
}
