import BidlineCore
import Testing

@testable import BidlineProtocol

/// The command table is the one list of verbs: the `Verb` enum, the parser's `Request` cases, the help text and
/// the error codes are checked against it here (docs/PROTOCOL.md in `ProtocolDocTests`, the auth matrix in
/// `ProtocolConformanceTests`).
@Suite struct CommandTableTests {
    /// A line of every verb that parses (arguments valid for syntax). Exhaustive over `Verb`: a new verb does not
    /// compile until it has one here.
    static func sampleLine(_ verb: Verb) -> String {
        switch verb {
        case .ping: "PING"
        case .quit: "QUIT"
        case .auth: "AUTH alice 0123abcd"
        case .whoami: "WHOAMI"
        case .help: "HELP BID"
        case .userAdd: "USER.ADD zed roles=investor,borrower kind=company verified=1 risk=3"
        case .userSet: "USER.SET zed verified=0 risk=2 blacklist=1"
        case .loanApprove: "LOAN.APPROVE L7"
        case .loanReject: "LOAN.REJECT L7"
        case .loanCancel: "LOAN.CANCEL L7"
        case .loanDisburse: "LOAN.DISBURSE L7"
        case .feeSet: "FEE.SET service=2.00 interest=10 transfer=0.5 penalty=0.05 autoshare=80 holding=30d"
        case .clock: "CLOCK"
        case .clockAdvance: "CLOCK.ADVANCE 30d"
        case .snapshot: "SNAPSHOT"
        case .reconcile: "RECONCILE"
        case .stats: "STATS"
        case .metrics: "METRICS"
        case .deposit: "DEPOSIT alice 1000.50 ref=rail:1"
        case .withdraw: "WITHDRAW alice 10 ref=rail:2"
        case .loanNew: "LOAN.NEW amount=10000 rate=12 term=12 method=epi grade=A type=auto min=50 step=50 window=72h"
        case .loanRepay: "LOAN.REPAY L7"
        case .loanPayoff: "LOAN.PAYOFF L7"
        case .bid: "BID L7 500 ref=bot:1 aon=1"
        case .autoSet: "AUTO.SET rate=8-15 term=1-12 grades=A,B methods=epi,ep max=500 reserve=0"
        case .autoOff: "AUTO.OFF"
        case .autoGet: "AUTO.GET"
        case .claimSell: "CLAIM.SELL C12 principal=100 price=99.50"
        case .claimBuy: "CLAIM.BUY T3 50"
        case .claimWithdraw: "CLAIM.WITHDRAW T3"
        case .balance: "BALANCE alice"
        case .loanGet: "LOAN.GET L7"
        case .loanList: "LOAN.LIST status=all sort=-rate rate=8-15 term=1-12 grade=A,B type=credit limit=10 after=L3"
        case .loanBids: "LOAN.BIDS L7 limit=10 after=B3"
        case .loanPlan: "LOAN.PLAN L7"
        case .holdings: "HOLDINGS alice"
        case .ledger: "LEDGER alice limit=20"
        case .subscribe: "SUBSCRIBE loans account"
        }
    }

    static func parse(_ line: String) throws(ProtocolError) -> (VerbSpec?, Request?) {
        var parser = RequestParser()
        let bytes = Array(line.utf8)
        let result: Result<(VerbSpec?, Request?), ProtocolError> = bytes.withUnsafeBytes { buffer in
            do throws(ProtocolError) {
                guard let spec = try parser.parseVerb(buffer) else { return .success((nil, nil)) }
                return .success((spec, try parser.parseArguments(spec, buffer)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    @Test func everyVerbHasExactlyOneRow() {
        for verb in Verb.allCases {
            #expect(CommandTable.specs.filter { $0.verb == verb }.count == 1, "\(verb)")
        }
        #expect(CommandTable.specs.count == Verb.allCases.count)
        #expect(Set(CommandTable.specs.map(\.name)).count == CommandTable.specs.count, "names are unique")
    }

    @Test(arguments: CommandTable.specs.map(\.verb))
    func rowIsConsistent(verb: Verb) {
        let spec = CommandTable.spec(verb)
        #expect(spec.name == spec.name.uppercased() && !spec.name.contains(" "), "\(spec.name)")
        #expect(spec.name.utf8.count <= 16, "lookUp handles names up to 16 bytes")
        #expect(spec.usage.split(separator: " ").first.map(String.init) == spec.name, "usage starts with the name")
        #expect(spec.minArguments <= spec.maxArguments)
        #expect(!spec.summary.isEmpty && !spec.roles.isEmpty)
        #expect(CommandTable.lookUp(Array(spec.name.lowercased().utf8)) === spec)
        for key in spec.keys { #expect(spec.usage.contains("\(key)="), "\(spec.name) documents \(key)= in its usage") }
        #expect(CommandTable.helpLines(for: spec.name).count == 2)
    }

    /// Each verb's sample line parses into a request of that verb: `Request` cases, the parser's switch and
    /// `Request.verb` agree with the table.
    @Test(arguments: Verb.allCases)
    func sampleLineParsesToItsVerb(verb: Verb) throws {
        let line = Self.sampleLine(verb)
        let (spec, request) = try Self.parse(line)
        #expect(spec?.verb == verb, "\(line)")
        #expect(request?.verb == verb, "\(line)")
        #expect(line.split(separator: " ").first.map(String.init) == CommandTable.spec(verb).name)
    }

    /// The verb names Core gives its log records (`Command.Tag.verb`, for `bidline wal inspect`) are table verbs
    /// that write; `TICK` (the clock's own command) is the one record no request names directly.
    @Test(arguments: Command.Tag.allCases)
    func writeTagsNameWritingVerbs(tag: Command.Tag) {
        guard tag != .tick else { return }
        #expect(CommandTable.lookUp(Array(tag.verb.utf8))?.writes == true, "\(tag.verb)")
    }

    @Test func helpListsEveryVerbInTableOrder() {
        let lines = CommandTable.helpLines()
        #expect(lines.count == CommandTable.specs.count)
        for (line, spec) in zip(lines, CommandTable.specs) { #expect(line.hasPrefix("verb=\(spec.name) ")) }
    }

    @Test func protocolCodesAreDenseAndDistinct() {
        let codes = ProtocolError.Code.allCases
        for (index, code) in codes.enumerated() { #expect(code.index == index, "\(code)") }
        #expect(Set(codes.map(\.wireText)).count == codes.count)
        #expect(codes.contains(.unknownVerb) && codes.contains(.lineTooLong) && codes.contains(.busy))
        var writer = ReplyWriter()
        writer.error(.unknownVerb, "unknown verb 'FOO' (try HELP)")
        writer.error(.rejected(.forbidden))
        writer.error(.lineTooLong)
        #expect(
            String(decoding: writer.bytes, as: UTF8.self)
                == "ERR UNKNOWN_VERB unknown verb 'FOO' (try HELP)\nERR FORBIDDEN not allowed for this role or user\n"
                + "ERR LINE_TOO_LONG line longer than 4096 bytes\n")
    }
}
