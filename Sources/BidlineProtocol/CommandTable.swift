import BidlineCore

/// Every protocol verb. The command table below is the single source for parsing, help text and the
/// authorization matrix (Redis style): they cannot drift apart.
public enum Verb: UInt8, Sendable, CaseIterable {
    case ping, quit, auth, whoami, help
    case userAdd, userSet, loanApprove, loanReject, loanCancel, loanDisburse, feeSet
    case clock, clockAdvance, snapshot, reconcile, stats, metrics
    case deposit, withdraw
    case loanNew, loanRepay, loanPayoff
    case bid, autoSet, autoOff, autoGet, claimSell, claimBuy, claimWithdraw
    case balance, loanGet, loanList, loanBids, loanPlan, holdings, ledger, subscribe
}

/// Who may call a verb. `anyone` includes unauthenticated sessions.
public struct RoleSet: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let investor = RoleSet(rawValue: Roles.investor.rawValue)
    public static let borrower = RoleSet(rawValue: Roles.borrower.rawValue)
    public static let gateway = RoleSet(rawValue: Roles.gateway.rawValue)
    public static let admin = RoleSet(rawValue: Roles.admin.rawValue)
    /// Unauthenticated sessions too.
    public static let unauthenticated = RoleSet(rawValue: 0x80)
    public static let authenticated: RoleSet = [.investor, .borrower, .gateway, .admin]
    public static let anyone: RoleSet = [.authenticated, .unauthenticated]

    /// Whether a user holding `roles` may call the verb.
    @inlinable public func allows(_ roles: Roles) -> Bool { rawValue & roles.rawValue != 0 }
}

/// One row of the command table. A class: handing a row around costs one reference count, not one per field.
public final class VerbSpec: Sendable {
    public let verb: Verb
    /// Upper-case wire name, e.g. `LOAN.APPROVE`.
    public let name: String
    public let minArguments: Int
    public let maxArguments: Int
    /// The `key=` options the verb accepts; any other key is `BAD_ARGUMENT`.
    public let keys: [String]
    public let roles: RoleSet
    /// True when the verb can change state (goes through the write-ahead log).
    public let writes: Bool
    public let usage: String
    public let summary: String
    /// The upper-case name as bytes, for matching request bytes without String work.
    let nameBytes: [UInt8]

    init(
        verb: Verb, name: String, minArguments: Int, maxArguments: Int, keys: [String], roles: RoleSet, writes: Bool,
        usage: String, summary: String
    ) {
        self.verb = verb
        self.name = name
        self.minArguments = minArguments
        self.maxArguments = maxArguments
        self.keys = keys
        self.roles = roles
        self.writes = writes
        self.usage = usage
        self.summary = summary
        self.nameBytes = Array(name.utf8)
    }
}

/// The command table: verb, arity, keys, roles, read/write, usage. Order is the help order.
public enum CommandTable {
    public static let specs: [VerbSpec] = [
        spec(.ping, "PING", 0, 0, [], .anyone, false, "PING", "liveness check: OK pong"),
        spec(.quit, "QUIT", 0, 0, [], .anyone, false, "QUIT", "close the connection: OK bye"),
        spec(.auth, "AUTH", 2, 2, [], .anyone, false, "AUTH user token", "authenticate this connection"),
        spec(.whoami, "WHOAMI", 0, 0, [], .authenticated, false, "WHOAMI", "the authenticated user and roles"),
        spec(.help, "HELP", 0, 1, [], .authenticated, false, "HELP [verb]", "list verbs, or one verb's usage"),
        spec(.userAdd, "USER.ADD", 1, 1, ["roles", "kind", "verified", "risk"], .admin, true,
             "USER.ADD id roles=investor,borrower [kind=person|company] [verified=1] [risk=1..5]",
             "create a user; replies with its token (shown once)"),
        spec(.userSet, "USER.SET", 1, 1, ["verified", "risk", "blacklist"], .admin, true,
             "USER.SET id [verified=0|1] [risk=N] [blacklist=0|1]", "change a user's flags"),
        spec(.loanApprove, "LOAN.APPROVE", 1, 1, [], .admin, true, "LOAN.APPROVE L7", "pending → open; runs auto-bid"),
        spec(.loanReject, "LOAN.REJECT", 1, 1, [], .admin, true, "LOAN.REJECT L7", "pending → failed"),
        spec(.loanCancel, "LOAN.CANCEL", 1, 1, [], .admin, true, "LOAN.CANCEL L7", "pending/open/full → failed, refunds"),
        spec(.loanDisburse, "LOAN.DISBURSE", 1, 1, [], .admin, true, "LOAN.DISBURSE L7", "full → repaying (放款)"),
        spec(.feeSet, "FEE.SET", 0, 0, ["service", "interest", "transfer", "penalty", "autoshare", "holding"], .admin, true,
             "FEE.SET [service=2.00] [interest=10.00] [transfer=0.50] [penalty=0.05] [autoshare=80] [holding=30d]",
             "set fee rates (percent) for listings approved / offers made after it"),
        spec(.clock, "CLOCK", 0, 0, [], .admin, false, "CLOCK", "engine time: OK now=<ms>"),
        spec(.clockAdvance, "CLOCK.ADVANCE", 1, 1, [], .admin, true, "CLOCK.ADVANCE 30d",
             "manual-clock mode: move time (s, m, h, d) and run the tick"),
        spec(.snapshot, "SNAPSHOT", 0, 0, [], .admin, false, "SNAPSHOT", "take a snapshot now"),
        spec(.reconcile, "RECONCILE", 0, 0, [], .admin, false, "RECONCILE", "prove the books balance (对账)"),
        spec(.stats, "STATS", 0, 0, [], .admin, false, "STATS", "dashboard figures"),
        spec(.metrics, "METRICS", 0, 0, [], .admin, false, "METRICS", "Prometheus text, as rows"),
        spec(.deposit, "DEPOSIT", 2, 2, ["ref"], [.gateway, .admin], true, "DEPOSIT user amount [ref=…]",
             "money in from the payment rail"),
        spec(.withdraw, "WITHDRAW", 2, 2, ["ref"], [.gateway, .admin], true, "WITHDRAW user amount [ref=…]",
             "money out to the payment rail"),
        spec(.loanNew, "LOAN.NEW", 0, 0,
             ["amount", "rate", "term", "method", "grade", "type", "min", "step", "cap", "newcomer", "window"], .borrower, true,
             "LOAN.NEW amount=… rate=… term=… method=epi|ep|ifo|bullet grade=A..E [type=credit|consumer|auto] [min=50] [step=50] [cap=…] [newcomer=1] [window=72h]",
             "submit a listing (pending until approved)"),
        spec(.loanRepay, "LOAN.REPAY", 1, 1, [], [.borrower, .admin], true, "LOAN.REPAY L7",
             "pay the oldest unpaid installment with its penalty"),
        spec(.loanPayoff, "LOAN.PAYOFF", 1, 1, [], [.borrower, .admin], true, "LOAN.PAYOFF L7", "early full repayment"),
        spec(.bid, "BID", 2, 2, ["ref", "aon"], .investor, true, "BID L7 amount [ref=…] [aon=1]", "bid on an open listing"),
        spec(.autoSet, "AUTO.SET", 0, 0, ["rate", "term", "grades", "methods", "max", "reserve"], .investor, true,
             "AUTO.SET [rate=8-15] [term=1-12] [grades=A,B,C] [methods=epi,ep] [max=…] [reserve=…]",
             "set the auto-bid rule (joins the queue's tail when newly on)"),
        spec(.autoOff, "AUTO.OFF", 0, 0, [], .investor, true, "AUTO.OFF", "turn auto-bid off (leaves the queue)"),
        spec(.autoGet, "AUTO.GET", 0, 0, [], .investor, false, "AUTO.GET", "the auto-bid rule and queue position"),
        spec(.claimSell, "CLAIM.SELL", 1, 1, ["principal", "price"], .investor, true, "CLAIM.SELL C12 principal=… price=…",
             "offer a claim for transfer (债权转让)"),
        spec(.claimBuy, "CLAIM.BUY", 2, 2, [], .investor, true, "CLAIM.BUY T3 amount", "buy principal of a transfer offer"),
        spec(.claimWithdraw, "CLAIM.WITHDRAW", 1, 1, [], .investor, true, "CLAIM.WITHDRAW T3", "withdraw a transfer offer"),
        spec(.balance, "BALANCE", 0, 1, [], .authenticated, false, "BALANCE [user]", "balances (bank and platform: admin)"),
        spec(.loanGet, "LOAN.GET", 1, 1, [], .authenticated, false, "LOAN.GET L7", "one listing"),
        spec(.loanList, "LOAN.LIST", 0, 0, ["status", "sort", "rate", "term", "grade", "type", "limit", "after"], .authenticated,
             false, "LOAN.LIST [status=open] [sort=rate|-rate|term|-term|time|-time] [rate=min-max] [term=min-max] [grade=…] [type=…] [limit=50] [after=L…]",
             "listings as rows"),
        spec(.loanBids, "LOAN.BIDS", 1, 1, ["limit", "after"], .authenticated, false, "LOAN.BIDS L7 [limit=1000] [after=B…]",
             "a listing's bids as rows"),
        spec(.loanPlan, "LOAN.PLAN", 1, 1, [], .authenticated, false, "LOAN.PLAN L7", "repayment plan rows"),
        spec(.holdings, "HOLDINGS", 0, 1, [], .authenticated, false, "HOLDINGS [user]", "claims held, as rows"),
        spec(.ledger, "LEDGER", 0, 1, ["limit"], .authenticated, false, "LEDGER [user] [limit=…]",
             "transaction history (交易记录), newest first"),
        spec(.subscribe, "SUBSCRIBE", 1, 2, [], .authenticated, false, "SUBSCRIBE loans|account …",
             "switch to push mode: EVENT lines until QUIT"),
    ]

    private static func spec(
        _ verb: Verb, _ name: String, _ minArguments: Int, _ maxArguments: Int, _ keys: [String], _ roles: RoleSet,
        _ writes: Bool, _ usage: String, _ summary: String
    ) -> VerbSpec {
        VerbSpec(
            verb: verb, name: name, minArguments: minArguments, maxArguments: maxArguments, keys: keys, roles: roles,
            writes: writes, usage: usage, summary: summary)
    }

    /// The spec of `verb` (the table has exactly one row per verb).
    public static func spec(_ verb: Verb) -> VerbSpec { bySpecIndex[Int(verb.rawValue)] }

    static let bySpecIndex: [VerbSpec] = Verb.allCases.map { verb in specs.first { $0.verb == verb }! }

    /// Specs grouped by name length (index = length), for lookups that compare a handful of names at most.
    static let byLength: [[VerbSpec]] = {
        var table = [[VerbSpec]](repeating: [], count: 17)
        for spec in specs { table[spec.nameBytes.count].append(spec) }
        return table
    }()

    /// Looks a verb up by its name bytes, case-insensitively. No allocation.
    public static func lookUp<Bytes: Collection>(_ name: Bytes) -> VerbSpec? where Bytes.Element == UInt8 {
        let count = name.count
        guard count > 0, count <= 16 else { return nil }
        candidates: for spec in byLength[count] {
            var index = 0
            for byte in name {
                let upper = byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte
                if spec.nameBytes[index] != upper { continue candidates }
                index += 1
            }
            return spec
        }
        return nil
    }

    /// Help text: every verb's usage line, or one verb's usage and summary.
    public static func helpLines(for verbName: String? = nil) -> [String] {
        if let verbName {
            guard let spec = lookUp(Array(verbName.utf8)) else { return [] }
            return ["usage=\(ascii(spec.usage).replacingOccurrences(" ", "_"))", "summary=\(ascii(spec.summary).replacingOccurrences(" ", "_"))"]
        }
        return specs.map { "verb=\($0.name) roles=\(roleNames($0.roles)) writes=\($0.writes ? 1 : 0)" }
    }

    /// The wire is ASCII: arrows and ellipses become `->` and `...`; other non-ASCII text (the Chinese terms)
    /// is dropped with its parentheses.
    static func ascii(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "→": result += "->"
            case "…": result += "..."
            default: if scalar.isASCII { result.unicodeScalars.append(scalar) }
            }
        }
        return result.replacing(" ()", with: "").replacing("()", with: "")
    }

    /// `admin,investor` style role list of a spec.
    public static func roleNames(_ roles: RoleSet) -> String {
        if roles.contains(.unauthenticated) { return "any" }
        var names: [String] = []
        if roles.contains(.admin) { names.append("admin") }
        if roles.contains(.gateway) { names.append("gateway") }
        if roles.contains(.investor) { names.append("investor") }
        if roles.contains(.borrower) { names.append("borrower") }
        return names.joined(separator: ",")
    }
}

extension String {
    func replacingOccurrences(_ target: Character, _ replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
