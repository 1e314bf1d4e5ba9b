/// A ledger account: a user's available or frozen money, or one of the system accounts.
///
/// Raw layout: user `u` has accounts `2u` (available) and `2u + 1` (frozen); system accounts sit at the top of
/// the `UInt32` range. The sum of all account balances is always zero.
public struct LedgerAccount: Hashable, Sendable, CustomStringConvertible {
    public var raw: UInt32
    @inlinable public init(raw: UInt32) { self.raw = raw }

    @inlinable public static func available(_ user: UserIndex) -> LedgerAccount { .init(raw: user.raw &<< 1) }
    @inlinable public static func frozen(_ user: UserIndex) -> LedgerAccount { .init(raw: user.raw &<< 1 | 1) }
    /// The outside world's money: deposits come from it, withdrawals go to it. Its balance is negative.
    public static let bank = LedgerAccount(raw: UInt32.max - 1)
    /// Fees collected by the platform.
    public static let platform = LedgerAccount(raw: UInt32.max - 2)

    @inlinable public var isSystem: Bool { raw >= UInt32.max - 2 }
    @inlinable public var user: UserIndex { UserIndex(raw &>> 1) }
    @inlinable public var isFrozen: Bool { raw & 1 == 1 }

    public var description: String {
        switch self {
        case .bank: "bank"
        case .platform: "platform"
        default: "user#\(user.raw).\(isFrozen ? "frozen" : "available")"
        }
    }
}

/// What a ledger entry records.
public enum EntryKind: UInt8, Sendable, CaseIterable {
    case deposit = 1
    case withdraw
    case bid
    case refund
    case disburse
    case serviceFee
    case repayPrincipal
    case repayInterest
    case repayPenalty
    case interestFee
    case transferPayment
    case transferFee

    public var wireText: String {
        switch self {
        case .deposit: "deposit"
        case .withdraw: "withdraw"
        case .bid: "bid"
        case .refund: "refund"
        case .disburse: "disburse"
        case .serviceFee: "service_fee"
        case .repayPrincipal: "repay_principal"
        case .repayInterest: "repay_interest"
        case .repayPenalty: "repay_penalty"
        case .interestFee: "interest_fee"
        case .transferPayment: "transfer_payment"
        case .transferFee: "transfer_fee"
        }
    }
}

/// One double-entry movement: `amountCents` (> 0) leaves `from` and arrives in `to`. 32 bytes.
///
/// Entries are linked per account (`prevFrom`, `prevTo`) so one user's history is read newest-first in
/// O(rows) without an index.
public struct LedgerEntry: Sendable, Equatable {
    public static let none = UInt32.max

    public var amountCents: Int64
    /// Engine time in the high 56 bits, `EntryKind` in the low 8.
    public var atAndKind: UInt64
    public var from: LedgerAccount
    public var to: LedgerAccount
    public var prevFrom: UInt32
    public var prevTo: UInt32

    @inlinable public var atMillis: Int64 { Int64(bitPattern: atAndKind) >> 8 }
    @inlinable public var kind: EntryKind { EntryKind(rawValue: UInt8(truncatingIfNeeded: atAndKind)) ?? .deposit }

    @inlinable
    public init(
        amountCents: Int64, atMillis: Int64, kind: EntryKind, from: LedgerAccount, to: LedgerAccount,
        prevFrom: UInt32, prevTo: UInt32
    ) {
        self.amountCents = amountCents
        self.atAndKind = UInt64(bitPattern: atMillis << 8) | UInt64(kind.rawValue)
        self.from = from
        self.to = to
        self.prevFrom = prevFrom
        self.prevTo = prevTo
    }

    init(amountCents: Int64, atAndKind: UInt64, from: LedgerAccount, to: LedgerAccount, prevFrom: UInt32, prevTo: UInt32) {
        self.amountCents = amountCents
        self.atAndKind = atAndKind
        self.from = from
        self.to = to
        self.prevFrom = prevFrom
        self.prevTo = prevTo
    }
}

/// Balance and newest entry of a system account (`bank`, `platform`).
public struct SystemAccount: Sendable, Equatable {
    public var balanceCents: Int64 = 0
    public var lastEntry: UInt32 = LedgerEntry.none
    public init() {}
}
