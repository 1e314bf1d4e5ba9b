import BidlineCore
import Testing

@testable import BidlineProtocol

/// The reply renderers of `Replies/` on a small engine: exact bytes of a few replies of each concern (the server
/// tests and the replayed docs/PROTOCOL.md sessions cover every verb over the wire).
@Suite struct RepliesTests {
    static func text(_ write: (inout ReplyWriter) -> Void) -> String {
        var writer = ReplyWriter()
        write(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// An engine with `alice` (investor, 1,000.00 deposited) and `bob` (borrower) and one open listing `L1`.
    static func engine() -> Engine {
        var engine = Engine()
        var now: Int64 = 1_700_000_000_000
        func apply(_ command: Command) {
            now += 1
            let outcome = engine.apply(command, at: now)
            precondition(outcome.changedState, "\(command): \(outcome)")
        }
        apply(.addUser(NewUser(id: "alice", roles: .investor, verified: true, riskLevel: 5)))
        apply(.addUser(NewUser(id: "bob", roles: .borrower, verified: true, riskLevel: 5)))
        apply(.deposit(UserIndex(0), Money(yuan: 1_000), ref: nil))
        apply(
            .submitListing(
                UserIndex(1),
                ListingTerms(
                    amount: Money(yuan: 5_000), rate: BasisPoints(1200), termMonths: 12, method: .epi, grade: .a)))
        apply(.approve(ListingID(1)))
        return engine
    }

    @Test func sessionReplies() {
        #expect(Self.text { $0.pong() } == "OK pong\n")
        #expect(Self.text { $0.bye() } == "OK bye\n")
        #expect(
            Self.text { $0.session(user: "alice", roles: [.investor, .borrower]) }
                == "OK user=alice roles=investor,borrower\n")
        #expect(Self.text { $0.subscribed([.loans, .account]) } == "OK subscribed=loans,account\n")
        #expect(Self.text { $0.rows(["a=1", "b=2"]) } == "OK rows=2\na=1\nb=2\n")
        #expect(Self.text { $0.rows([]) } == "OK rows=0\n")
    }

    @Test func commandReplies() {
        let state = Self.engine().state
        let bid = BidReply(
            bid: BidID(42), listing: ListingID(7), amount: Money(yuan: 500), remaining: .zero, full: true)
        #expect(
            Self.text { $0.reply(.bid(bid), in: state) }
                == "OK bid=B42 listing=L7 amount=500.00 remaining=0.00 full=1\n")
        #expect(
            Self.text {
                $0.reply(.funds(user: UserIndex(0), amount: Money(cents: 5), available: Money(yuan: 1)), in: state)
            }
                == "OK user=alice amount=0.05 available=1.00\n")
        #expect(Self.text { $0.reply(.offerWithdrawn(OfferID(3)), in: state) } == "OK offer=T3 status=withdrawn\n")
        #expect(
            Self.text { $0.clockAdvanced(nowMillis: 86_400_000, failedListings: 2, overdueInstallments: 0) }
                == "OK now=86400000 failed=2 overdue=0\n")
    }

    @Test func accountAndListingReplies() {
        let engine = Self.engine()
        #expect(
            Self.text { $0.balance(of: UserIndex(0), in: engine.state) }
                == "OK available=1000.00 frozen=0.00 receivable_principal=0.00 receivable_interest=0.00"
                + " borrowed=0.00\n")
        #expect(Self.text { $0.systemBalance("bank", cents: -100_000) } == "OK account=bank balance=-1000.00\n")
        #expect(Self.text { $0.autoBid(nil, queuePosition: nil) } == "OK auto=0\n")
        let listing = Self.text { $0.listingRows([0], in: engine.state) }
        #expect(
            listing.hasPrefix(
                "OK rows=1\nlisting=L1 borrower=bob amount=5000.00 raised=0.00 remaining=5000.00 rate=12.00 term=12 "))
        #expect(listing.hasSuffix(" bids=0\n"))
        let single = Self.text { $0.listing(ListingID(1), in: engine.state) }
        #expect(single == "OK " + listing.dropFirst("OK rows=1\n".count))
        #expect(ReplyWriter.masked("investor7") == "inv***")
    }

    @Test func eventLines() {
        let state = Self.engine().state
        var change = Event(kind: .accountChanged, user: UserIndex(0), amountCents: -5_000, atMillis: 9)
        change.availableCents = 95_000
        change.frozenCents = 5_000
        #expect(
            Self.text { $0.event(change, in: state) }
                == "EVENT account user=alice change=-50.00 available=950.00 frozen=50.00 at=9\n")
        let full = Event(kind: .listingFull, listing: ListingID(1), atMillis: 10)
        #expect(Self.text { $0.event(full, in: state) } == "EVENT loan.full listing=L1 at=10\n")
        let repayment = Event(
            kind: .repayment, listing: ListingID(1), amountCents: 88_849, atMillis: 11, installment: 1)
        #expect(
            Self.text { $0.event(repayment, in: state) }
                == "EVENT repayment listing=L1 installment=1 amount=888.49 at=11\n")
    }
}
