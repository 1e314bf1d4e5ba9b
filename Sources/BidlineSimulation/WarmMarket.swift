import BidlineCore

/// The warm market the engine and storage benchmarks start from: verified, funded investors and open listings
/// spread over company borrowers (a company may borrow at most 1,000,000.00, so each borrower takes listings up
/// to that much and the next one takes over).
public enum WarmMarket {
    /// Every command that builds the market, in order: user 0 is a borrower with no listings, users
    /// 1…`investors` are the investors (each deposits `depositYuan`), then the company borrowers and their
    /// listings of `listingYuan` (at most 1,000,000.00 each), each approved right after it is submitted.
    public static func commands(investors: Int, listings: Int, listingYuan: Int64, depositYuan: Int64) -> [Command] {
        var commands: [Command] = []
        commands.reserveCapacity(2 * investors + 3 * listings)
        var users = 0
        commands.append(.addUser(NewUser(id: "borrower", roles: .borrower, kind: .company, verified: true, riskLevel: 5)))
        users += 1
        for i in 0..<investors {
            commands.append(.addUser(NewUser(id: "inv\(i)", roles: .investor, verified: true, riskLevel: 5)))
            commands.append(.deposit(UserIndex(users), Money(yuan: depositYuan), ref: nil))
            users += 1
        }
        let terms = ListingTerms(
            amount: Money(yuan: min(listingYuan, 1_000_000)), rate: BasisPoints(1200), termMonths: 12, method: .epi,
            grade: .a, windowMillis: 30 * 86_400_000)
        let amountYuan = terms.amount.cents / 100
        var borrower = 0
        var borrowed: Int64 = 0
        for l in 0..<listings {
            if borrowed + amountYuan > 1_000_000 || l == 0 {
                commands.append(
                    .addUser(NewUser(id: "corp\(l)", roles: .borrower, kind: .company, verified: true, riskLevel: 5)))
                borrower = users
                users += 1
                borrowed = 0
            }
            commands.append(.submitListing(UserIndex(borrower), terms))
            commands.append(.approve(ListingID(UInt32(l + 1))))
            borrowed += amountYuan
        }
        return commands
    }

    /// Applies `commands` to `engine` from engine time `start` (1 ms apart); a refused command is a broken set-up
    /// and stops the process. Events are dropped as they pile up.
    public static func apply(_ commands: [Command], to engine: inout Engine, from start: Int64) {
        var now = start
        for command in commands {
            now += 1
            guard engine.apply(command, at: now).changedState else { fatalError("set-up command refused: \(command)") }
            if engine.events.count > 60_000 { engine.events.removeAll(keepingCapacity: true) }
        }
        engine.events.removeAll(keepingCapacity: true)
    }

    /// A new engine holding the market (engine times from 1,700,000,000,001 ms).
    public static func engine(investors: Int, listings: Int, listingYuan: Int64, depositYuan: Int64) -> Engine {
        var engine = Engine()
        apply(
            commands(investors: investors, listings: listings, listingYuan: listingYuan, depositYuan: depositYuan),
            to: &engine, from: 1_700_000_000_000)
        return engine
    }
}
