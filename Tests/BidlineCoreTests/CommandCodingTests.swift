import Testing

@testable import BidlineCore

/// Round trips of every command's binary encoding, and of the whole state.
@Suite struct CommandCodingTests {
    static let terms = ListingTerms(
        amount: Money(cents: 123_456), rate: BasisPoints(1250), termMonths: 36, method: .ifo, grade: .d, type: .auto,
        minBid: Money(yuan: 100), step: Money(yuan: 10), cap: Money(yuan: 5_000), newcomerOnly: true,
        windowMillis: 3_600_000)

    static var everyCommand: [Command] {
        var rule = AutoBidRule()
        rule.rateMin = BasisPoints(800)
        rule.termMax = 12
        rule.grades = 0b111
        rule.maxPerListing = Money(yuan: 2_000)
        rule.reserve = Money(cents: 55)
        return [
            .addUser(NewUser(id: "alice.long-user_name_up_to_32ch", roles: [.investor, .borrower], kind: .company, verified: true, riskLevel: 4,
                             tokenHash: TokenHash(bytes: (0..<32).map { UInt8($0) }))),
            .setUser(UserIndex(3), UserChange(verified: false, riskLevel: 2, blacklisted: true, tokenHash: TokenHash(bytes: [9]))),
            .setUser(UserIndex(3), UserChange()),
            .deposit(UserIndex(1), Money(cents: 1), ref: Ref("dep:1")),
            .deposit(UserIndex(1), Money(cents: Money.maxAmountCents), ref: nil),
            .withdraw(UserIndex(2), Money(yuan: 7), ref: Ref(String(repeating: "w", count: 64))),
            .submitListing(UserIndex(4), terms),
            .submitListing(UserIndex(4), ListingTerms(amount: Money(yuan: 100), rate: BasisPoints(0), termMonths: 1, method: .bullet, grade: .a)),
            .approve(ListingID(1)), .reject(ListingID(2)), .cancel(ListingID(3)), .disburse(ListingID(4)),
            .bid(BidRequest(investor: UserIndex(5), listing: ListingID(6), amount: Money(yuan: 50))),
            .bid(BidRequest(investor: UserIndex(5), listing: ListingID(6), amount: Money(cents: 5_001), allOrNone: true, ref: Ref("b-1"))),
            .setAutoBid(UserIndex(7), rule), .setAutoBid(UserIndex(7), AutoBidRule()), .autoBidOff(UserIndex(7)),
            .changeSettings(SettingsChange(serviceFee: BasisPoints(1), interestFee: BasisPoints(2), transferFee: BasisPoints(3),
                                           penaltyRate: BasisPoints(4), autoBidShare: BasisPoints(5), transferHoldingMillis: 6, autoBidMaxVisits: 7)),
            .changeSettings(SettingsChange()),
            .tick,
            .repay(ListingID(8), by: UserIndex(1)), .repay(ListingID(8), by: nil), .payoff(ListingID(9), by: nil),
            .sellClaim(ClaimID(10), by: UserIndex(2), principal: Money(yuan: 100), price: Money(yuan: 99)),
            .buyOffer(OfferID(11), buyer: UserIndex(3), principal: Money(cents: 1)),
            .withdrawOffer(OfferID(12), by: UserIndex(3)),
        ]
    }

    @Test func everyCommandRoundTrips() throws {
        for command in Self.everyCommand {
            let bytes = command.encoded
            #expect(try Command(decoding: bytes) == command)
        }
        #expect(Set(Self.everyCommand.map(\.tag)).count == Command.Tag.allCases.count)
    }

    @Test func everyEventRoundTrips() throws {
        let kinds: [Event.Kind] = [.listingOpened, .listingFull, .listingFailed, .listingRepaying, .listingSettled, .repayment,
                                   .installmentOverdue, .accountChanged]
        for (i, kind) in kinds.enumerated() {
            var event = Event(kind: kind, listing: ListingID(UInt32(i + 1)), user: UserIndex(UInt32(7 * i)), amountCents: Int64(-5 + i * 1_000_003),
                              atMillis: 1_700_000_000_000 + Int64(i), installment: UInt8(i))
            if kind == .accountChanged {
                event.availableCents = 123_456_789
                event.frozenCents = -1
            }
            var reader = BinaryReader(event.encoded)
            #expect(try Event(from: &reader) == event)
            #expect(reader.isAtEnd)
            #expect(event.encoded.count == (kind == .accountChanged ? 42 : 26))
        }
        var bad = BinaryReader([99] + [UInt8](repeating: 0, count: 25))
        #expect(throws: DecodingError.self) { try Event(from: &bad) }
        // The events of a real scenario round-trip too.
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice", deposit: 2_000)
        let id = f.listing(by: borrower, amount: 1_000)
        f.bid(alice, id, 100_000)
        #expect(!f.engine.events.isEmpty)
        for event in f.engine.events {
            var reader = BinaryReader(event.encoded)
            #expect(try Event(from: &reader) == event)
        }
    }

    @Test func plainBidIsCompact() {
        let bid = Command.bid(BidRequest(investor: UserIndex(5), listing: ListingID(6), amount: Money(yuan: 50)))
        #expect(bid.encoded.count == 19)
    }

    @Test func truncatedOrCorruptCommandsAreRejected() {
        for command in Self.everyCommand {
            let bytes = command.encoded
            for length in 0..<bytes.count {
                #expect(throws: DecodingError.self) { try Command(decoding: Array(bytes[0..<length])) }
            }
            #expect(throws: DecodingError.self) { try Command(decoding: bytes + [0]) }
        }
        #expect(throws: DecodingError.self) { try Command(decoding: [0]) }
        #expect(throws: DecodingError.self) { try Command(decoding: [200]) }
    }

    @Test func stateRoundTripsAndHashes() throws {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice", deposit: 20_000)
        let bob = f.user("bob", deposit: 20_000)
        f.ok(.setAutoBid(bob, AutoBidRule()))
        let id = f.listing(by: borrower, amount: 10_000, cap: 9_000)
        f.bid(alice, id, 200_000, ref: "r1")
        _ = f.listing(by: borrower, amount: 1_000)
        f.ok(.disburse(id))
        let state = f.engine.state
        let bytes = state.encoded
        let decoded = try EngineState(decoding: bytes)
        #expect(decoded == state)
        #expect(decoded.hash == state.hash)
        // Restoring rebuilds the indexes: lookups and refs work the same.
        var restored = Engine(state: decoded)
        #expect(restored.userIndex(of: "alice") == alice)
        #expect(restored.apply(.bid(BidRequest(investor: alice, listing: id, amount: Money(yuan: 2_000), ref: Ref("r1"))), at: f.now)
                    == f.engine.apply(.bid(BidRequest(investor: alice, listing: id, amount: Money(yuan: 2_000), ref: Ref("r1"))), at: f.now))
        // A changed byte changes the hash; truncation is detected.
        var other = state
        other.accounts[alice.int].riskLevel = 4
        #expect(other.hash != state.hash)
        #expect(throws: DecodingError.self) { try EngineState(decoding: Array(bytes.dropLast())) }
    }

    @Test func stateHashIsTheHashOfTheEncodedBytes() throws {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice-with-a-longer-id_07", deposit: 20_000)
        let id = f.listing(by: borrower, amount: 10_000)
        f.bid(alice, id, 12_345, ref: "r-1")
        let bytes = f.engine.state.encoded
        for split in [1, 3, 7, 8, 13, 64] {
            var hasher = StateHasher()
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + split)
                bytes[offset..<end].withUnsafeBytes { hasher.write(bytes: $0) }
                offset = end
            }
            #expect(hasher.hexDigest == f.engine.stateHash(), "split \(split)")
        }
        // Any one-bit change changes the hash.
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        var hasher = StateHasher()
        flipped.withUnsafeBytes { hasher.write(bytes: $0) }
        #expect(hasher.hexDigest != f.engine.stateHash())
    }

    @Test func copyIsASnapshot() {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower)
        let alice = f.user("alice", deposit: 20_000)
        let id = f.listing(by: borrower, amount: 10_000)
        let captured = f.engine.state
        let hash = captured.hash
        f.bid(alice, id, 100_000)
        #expect(captured.hash == hash)
        #expect(f.engine.state.hash != hash)
        #expect(captured.bids.count == 0)
    }
}
