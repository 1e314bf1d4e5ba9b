/// The compact binary encoding of commands: a one-byte tag, then the fields in declaration order
/// (little-endian fixed width; optional values carry a presence byte). This is the payload of a log record;
/// the tags and layouts are format version 1 (`snapshots/FORMAT.md`) and never change meaning.
extension Command {
    /// Stable one-byte tags.
    public enum Tag: UInt8, Sendable, CaseIterable {
        case addUser = 1, setUser, deposit, withdraw, submitListing, approve, reject, cancel, disburse, bid
        case setAutoBid, autoBidOff, changeSettings, tick, repay, payoff, sellClaim, buyOffer, withdrawOffer

        /// The protocol verb that produces the command (for logs and `bidline wal inspect`).
        public var verb: String {
            switch self {
            case .addUser: "USER.ADD"
            case .setUser: "USER.SET"
            case .deposit: "DEPOSIT"
            case .withdraw: "WITHDRAW"
            case .submitListing: "LOAN.NEW"
            case .approve: "LOAN.APPROVE"
            case .reject: "LOAN.REJECT"
            case .cancel: "LOAN.CANCEL"
            case .disburse: "LOAN.DISBURSE"
            case .bid: "BID"
            case .setAutoBid: "AUTO.SET"
            case .autoBidOff: "AUTO.OFF"
            case .changeSettings: "FEE.SET"
            case .tick: "TICK"
            case .repay: "LOAN.REPAY"
            case .payoff: "LOAN.PAYOFF"
            case .sellClaim: "CLAIM.SELL"
            case .buyOffer: "CLAIM.BUY"
            case .withdrawOffer: "CLAIM.WITHDRAW"
            }
        }
    }

    public var tag: Tag {
        switch self {
        case .addUser: .addUser
        case .setUser: .setUser
        case .deposit: .deposit
        case .withdraw: .withdraw
        case .submitListing: .submitListing
        case .approve: .approve
        case .reject: .reject
        case .cancel: .cancel
        case .disburse: .disburse
        case .bid: .bid
        case .setAutoBid: .setAutoBid
        case .autoBidOff: .autoBidOff
        case .changeSettings: .changeSettings
        case .tick: .tick
        case .repay: .repay
        case .payoff: .payoff
        case .sellClaim: .sellClaim
        case .buyOffer: .buyOffer
        case .withdrawOffer: .withdrawOffer
        }
    }

    /// Appends the encoding to `sink`. A bid without `ref=` is 24 bytes.
    public func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(tag.rawValue)
        switch self {
        case .addUser(let user):
            sink.writeShort(user.id)
            sink.write(user.roles.rawValue)
            sink.write(user.kind.rawValue)
            sink.write(user.verified)
            sink.write(user.riskLevel)
            user.tokenHash.encode(to: &sink)
        case .setUser(let user, let change):
            sink.write(user.raw)
            sink.writeOptional(change.verified) { $0.write($1) }
            sink.writeOptional(change.riskLevel) { $0.write($1) }
            sink.writeOptional(change.blacklisted) { $0.write($1) }
            sink.writeOptional(change.tokenHash) { $1.encode(to: &$0) }
        case .deposit(let user, let amount, let ref), .withdraw(let user, let amount, let ref):
            sink.write(user.raw)
            sink.write(amount)
            sink.writeShort(ref?.text)
        case .submitListing(let borrower, let terms):
            sink.write(borrower.raw)
            terms.encode(to: &sink)
        case .approve(let id), .reject(let id), .cancel(let id), .disburse(let id):
            sink.write(id.number)
        case .bid(let request):
            sink.write(request.investor.raw)
            sink.write(request.listing.number)
            sink.write(request.amount)
            sink.write(request.allOrNone)
            sink.writeShort(request.ref?.text)
        case .setAutoBid(let user, let rule):
            sink.write(user.raw)
            rule.encode(to: &sink)
        case .autoBidOff(let user):
            sink.write(user.raw)
        case .changeSettings(let change):
            sink.writeOptional(change.serviceFee) { $0.write($1) }
            sink.writeOptional(change.interestFee) { $0.write($1) }
            sink.writeOptional(change.transferFee) { $0.write($1) }
            sink.writeOptional(change.penaltyRate) { $0.write($1) }
            sink.writeOptional(change.autoBidShare) { $0.write($1) }
            sink.writeOptional(change.transferHoldingMillis) { $0.write($1) }
            sink.writeOptional(change.autoBidMaxVisits) { $0.write($1) }
        case .tick:
            break
        case .repay(let id, let actor), .payoff(let id, let actor):
            sink.write(id.number)
            sink.writeOptional(actor) { $0.write($1.raw) }
        case .sellClaim(let claim, let actor, let principal, let price):
            sink.write(claim.number)
            sink.writeOptional(actor) { $0.write($1.raw) }
            sink.write(principal)
            sink.write(price)
        case .buyOffer(let offer, let buyer, let principal):
            sink.write(offer.number)
            sink.write(buyer.raw)
            sink.write(principal)
        case .withdrawOffer(let offer, let actor):
            sink.write(offer.number)
            sink.writeOptional(actor) { $0.write($1.raw) }
        }
    }

    /// The encoding as a fresh byte array (tests and tools; the log reuses a writer instead).
    public var encoded: [UInt8] {
        var writer = BinaryWriter(capacity: 64)
        encode(to: &writer)
        return writer.bytes
    }

    /// Decodes one command; throws on an unknown tag, a bad value or truncation.
    public init(from reader: inout BinaryReader) throws {
        let tag = try reader.readEnum(Tag.self)
        switch tag {
        case .addUser:
            guard let id = try reader.readShortString() else { throw DecodingError(offset: reader.offset, reason: "empty user id") }
            let roles = Roles(rawValue: try reader.readU8())
            let kind = try reader.readEnum(UserKind.self)
            let verified = try reader.readBool()
            let risk = try reader.readU8()
            let hash = try TokenHash(from: &reader)
            self = .addUser(NewUser(id: id, roles: roles, kind: kind, verified: verified, riskLevel: risk, tokenHash: hash))
        case .setUser:
            let user = UserIndex(try reader.readU32())
            let verified = try reader.readOptional { try $0.readBool() }
            let risk = try reader.readOptional { try $0.readU8() }
            let blacklisted = try reader.readOptional { try $0.readBool() }
            let hash = try reader.readOptional { try TokenHash(from: &$0) }
            self = .setUser(user, UserChange(verified: verified, riskLevel: risk, blacklisted: blacklisted, tokenHash: hash))
        case .deposit, .withdraw:
            let user = UserIndex(try reader.readU32())
            let amount = try reader.readMoney()
            let ref = try reader.readRef()
            self = tag == .deposit ? .deposit(user, amount, ref: ref) : .withdraw(user, amount, ref: ref)
        case .submitListing:
            let borrower = UserIndex(try reader.readU32())
            self = .submitListing(borrower, try ListingTerms(from: &reader))
        case .approve, .reject, .cancel, .disburse:
            let id = ListingID(try reader.readU32())
            switch tag {
            case .approve: self = .approve(id)
            case .reject: self = .reject(id)
            case .cancel: self = .cancel(id)
            default: self = .disburse(id)
            }
        case .bid:
            let investor = UserIndex(try reader.readU32())
            let listing = ListingID(try reader.readU32())
            let amount = try reader.readMoney()
            let aon = try reader.readBool()
            let ref = try reader.readRef()
            self = .bid(BidRequest(investor: investor, listing: listing, amount: amount, allOrNone: aon, ref: ref))
        case .setAutoBid:
            let user = UserIndex(try reader.readU32())
            self = .setAutoBid(user, try AutoBidRule(from: &reader))
        case .autoBidOff:
            self = .autoBidOff(UserIndex(try reader.readU32()))
        case .changeSettings:
            self = .changeSettings(
                SettingsChange(
                    serviceFee: try reader.readOptional { try $0.readBasisPoints() },
                    interestFee: try reader.readOptional { try $0.readBasisPoints() },
                    transferFee: try reader.readOptional { try $0.readBasisPoints() },
                    penaltyRate: try reader.readOptional { try $0.readBasisPoints() },
                    autoBidShare: try reader.readOptional { try $0.readBasisPoints() },
                    transferHoldingMillis: try reader.readOptional { try $0.readI64() },
                    autoBidMaxVisits: try reader.readOptional { try $0.readU32() }))
        case .tick:
            self = .tick
        case .repay, .payoff:
            let id = ListingID(try reader.readU32())
            let actor = try reader.readOptional { UserIndex(try $0.readU32()) }
            self = tag == .repay ? .repay(id, by: actor) : .payoff(id, by: actor)
        case .sellClaim:
            let claim = ClaimID(try reader.readU32())
            let actor = try reader.readOptional { UserIndex(try $0.readU32()) }
            let principal = try reader.readMoney()
            let price = try reader.readMoney()
            self = .sellClaim(claim, by: actor, principal: principal, price: price)
        case .buyOffer:
            let offer = OfferID(try reader.readU32())
            let buyer = UserIndex(try reader.readU32())
            self = .buyOffer(offer, buyer: buyer, principal: try reader.readMoney())
        case .withdrawOffer:
            let offer = OfferID(try reader.readU32())
            self = .withdrawOffer(offer, by: try reader.readOptional { UserIndex(try $0.readU32()) })
        }
    }

    /// Decodes a whole payload that must contain exactly one command.
    public init(decoding bytes: [UInt8]) throws {
        var reader = BinaryReader(bytes)
        try self.init(from: &reader)
        guard reader.isAtEnd else { throw DecodingError(offset: reader.offset, reason: "trailing bytes after command") }
    }
}

extension BinarySink {
    @inlinable
    public mutating func writeOptional<T>(_ value: T?, _ body: (inout Self, T) -> Void) {
        if let value {
            write(UInt8(1))
            body(&self, value)
        } else {
            write(UInt8(0))
        }
    }
}

extension BinaryReader {
    public mutating func readOptional<T>(_ body: (inout BinaryReader) throws -> T) throws -> T? {
        try readBool() ? try body(&self) : nil
    }

    mutating func readRef() throws -> Ref? {
        guard let text = try readShortString() else { return nil }
        guard let ref = Ref(text) else { throw DecodingError(offset: offset, reason: "bad ref") }
        return ref
    }
}

extension TokenHash {
    public func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(words.0)
        sink.write(words.1)
        sink.write(words.2)
        sink.write(words.3)
    }

    public init(from reader: inout BinaryReader) throws {
        self.init(words: (try reader.readU64(), try reader.readU64(), try reader.readU64(), try reader.readU64()))
    }
}

extension ListingTerms {
    public func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(amount)
        sink.write(rate)
        sink.write(termMonths)
        sink.write(method.rawValue)
        sink.write(grade.rawValue)
        sink.write(type.rawValue)
        sink.write(minBid)
        sink.write(step)
        sink.writeOptional(cap) { $0.write($1) }
        sink.write(newcomerOnly)
        sink.write(windowMillis)
    }

    public init(from reader: inout BinaryReader) throws {
        self.init(
            amount: try reader.readMoney(), rate: try reader.readBasisPoints(), termMonths: try reader.readU8(),
            method: try reader.readEnum(RepaymentMethod.self), grade: try reader.readEnum(Grade.self),
            type: try reader.readEnum(LoanType.self), minBid: try reader.readMoney(), step: try reader.readMoney(),
            cap: try reader.readOptional { try $0.readMoney() }, newcomerOnly: try reader.readBool(),
            windowMillis: try reader.readI64())
    }
}

extension AutoBidRule {
    public func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(rateMin)
        sink.write(rateMax)
        sink.write(termMin)
        sink.write(termMax)
        sink.write(grades)
        sink.write(methods)
        sink.writeOptional(maxPerListing) { $0.write($1) }
        sink.write(reserve)
        sink.write(enabled)
    }

    public init(from reader: inout BinaryReader) throws {
        self.init()
        rateMin = try reader.readBasisPoints()
        rateMax = try reader.readBasisPoints()
        termMin = try reader.readU8()
        termMax = try reader.readU8()
        grades = try reader.readU8()
        methods = try reader.readU8()
        maxPerListing = try reader.readOptional { try $0.readMoney() }
        reserve = try reader.readMoney()
        enabled = try reader.readBool()
    }
}
