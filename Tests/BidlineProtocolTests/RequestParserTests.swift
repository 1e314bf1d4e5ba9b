import BidlineCore
import Testing

@testable import BidlineProtocol

@Suite struct RequestParserTests {
    func parse(_ line: String) throws(ProtocolError) -> Request? {
        var parser = RequestParser()
        let bytes = Array(line.utf8)
        let result: Result<Request?, ProtocolError> = bytes.withUnsafeBytes { buffer in
            do throws(ProtocolError) {
                guard let spec = try parser.parseVerb(buffer) else { return .success(nil) }
                return .success(try parser.parseArguments(spec, buffer))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    func code(_ line: String) -> ProtocolError.Code? {
        do {
            _ = try parse(line)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func parsesBids() throws {
        #expect(try parse("BID L7 500") == .bid(listing: ListingID(7), amount: Money(yuan: 500), ref: nil, allOrNone: false))
        #expect(try parse("bid  L7\t500.5  ref=bot:1 aon=1") == .bid(listing: ListingID(7), amount: Money(cents: 50_050), ref: Ref("bot:1"), allOrNone: true))
        #expect(try parse("   ") == nil)
        #expect(try parse("") == nil)
    }

    @Test(arguments: [
        ("BID L7", RejectCode.badArgument), ("BID L7 100 200", .badArgument),
        ("BID L7 100 user=bob", .badArgument), ("BID X7 100", .badArgument), ("BID L7 1e3", .badAmount),
        ("BID L7 -5", .badAmount), ("BID L7 0", .badAmount), ("BID L7 1000.", .badAmount), ("BID L7 .5", .badAmount),
        ("BID L7 1.234", .badAmount), ("BID L7 100 aon=2", .badArgument), ("BID L7 100 ref=has/slash", .badArgument),
        ("BID L7 100 ref=a ref=b", .badArgument), ("USER.ADD Alice roles=investor", .badArgument),
        ("USER.ADD bob", .badArgument), ("USER.ADD bob roles=king", .badArgument), ("USER.ADD bob roles=investor risk=6", .badArgument),
        ("LOAN.NEW amount=1000 rate=12 term=37 method=epi grade=A", .badArgument),
        ("LOAN.NEW amount=1000 rate=12 term=12 method=xyz grade=A", .badArgument),
        ("LOAN.NEW amount=1000 rate=12 term=12 method=epi grade=F", .badArgument),
        ("LOAN.NEW amount=abc rate=12 term=12 method=epi grade=A", .badAmount),
        ("LOAN.LIST limit=10001", .badArgument), ("LOAN.LIST sort=size", .badArgument), ("CLOCK.ADVANCE 5y", .badArgument),
        ("AUTO.SET rate=15-8", .badArgument), ("SUBSCRIBE weather", .badArgument), ("DEPOSIT alice 10 ref=", .badArgument),
    ] as [(String, RejectCode)])
    func refusesBadLines(line: String, expected: RejectCode) {
        #expect(code(line) == .rejected(expected))
    }

    @Test func unknownVerbsAreAProtocolCode() {
        #expect(code("FOO") == .unknownVerb)
        #expect(code("BID.NOW L7 100") == .unknownVerb)
    }

    @Test func parsesListings() throws {
        let request = try parse("LOAN.NEW amount=10000 rate=12.5 term=12 method=epi grade=B type=auto min=100 step=50 cap=2000 newcomer=1 window=24h")
        var terms = ListingTerms(amount: Money(yuan: 10_000), rate: BasisPoints(1250), termMonths: 12, method: .epi, grade: .b, type: .auto)
        terms.minBid = Money(yuan: 100)
        terms.cap = Money(yuan: 2_000)
        terms.newcomerOnly = true
        terms.windowMillis = 24 * 3_600_000
        #expect(request == .loanNew(terms))
    }

    @Test func parsesAutoBidRules() throws {
        guard case .autoSet(let rule) = try parse("AUTO.SET rate=8-15.5 term=1-12 grades=A,b methods=epi,ep max=5000 reserve=100") else {
            Issue.record("not an AUTO.SET")
            return
        }
        #expect(rule.rateMin == BasisPoints(800))
        #expect(rule.rateMax == BasisPoints(1550))
        #expect(rule.termMin == 1 && rule.termMax == 12)
        #expect(rule.grades == Grade.a.bit | Grade.b.bit)
        #expect(rule.methods == RepaymentMethod.epi.bit | RepaymentMethod.ep.bit)
        #expect(rule.maxPerListing == Money(yuan: 5_000))
        #expect(rule.reserve == Money(yuan: 100))
    }

    @Test func durations() {
        #expect(RequestParser.duration("30d") == Int64(2_592_000_000))
        #expect(RequestParser.duration("90s") == 90_000)
        #expect(RequestParser.duration("15m") == 900_000)
        #expect(RequestParser.duration("1500ms") == 1_500)
        #expect(RequestParser.duration("d") == nil)
        #expect(RequestParser.duration("-1d") == nil)
    }

    @Test func commandTableCoversEveryVerb() {
        #expect(CommandTable.specs.count == Verb.allCases.count)
        for verb in Verb.allCases { #expect(CommandTable.spec(verb).verb == verb) }
        #expect(CommandTable.lookUp(Array("loan.approve".utf8))?.verb == .loanApprove)
    }

    @Test func tooManyTokens() {
        #expect(code("PING " + String(repeating: "x ", count: 30)) == .rejected(.badArgument))
    }

    @Test func replyWriterFormats() {
        var writer = ReplyWriter()
        writer.ok()
        writer.field("bid", BidID(1042))
        writer.field("listing", ListingID(7))
        writer.field("amount", Money(cents: 50_000))
        writer.field("full", false)
        writer.field("n", Int64(-12))
        writer.end()
        writer.error(.badAmount, "bad\namount")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "OK bid=B1042 listing=L7 amount=500.00 full=0 n=-12\nERR BAD_AMOUNT bad amount\n")
    }
}
