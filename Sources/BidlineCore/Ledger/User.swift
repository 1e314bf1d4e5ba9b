/// What a user may do. A user may hold several roles (`investor,borrower`).
public struct Roles: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let investor = Roles(rawValue: 1)
    public static let borrower = Roles(rawValue: 2)
    public static let gateway = Roles(rawValue: 4)
    public static let admin = Roles(rawValue: 8)

    /// Wire names in canonical order.
    public static let names: [(Roles, String)] = [
        (.investor, "investor"), (.borrower, "borrower"), (.gateway, "gateway"), (.admin, "admin"),
    ]

    /// `investor,borrower`.
    public var wireText: String {
        Roles.names.filter { contains($0.0) }.map(\.1).joined(separator: ",")
    }

    /// Parses `investor,borrower`; nil on an unknown or empty role.
    public static func parse(_ text: Substring) -> Roles? {
        var roles = Roles()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let match = names.first(where: { $0.1 == part }) else { return nil }
            roles.insert(match.0)
        }
        return roles.isEmpty ? nil : roles
    }
}

/// A natural person (个人) or a company (企业); sets the borrowing cap.
public enum UserKind: UInt8, Sendable, CaseIterable {
    case person = 0
    case company = 1

    public var wireText: String { self == .person ? "person" : "company" }

    /// Compliance cap on outstanding borrowing (2016 interim rules): 200,000.00 / 1,000,000.00.
    public var borrowCap: Money { self == .person ? Money(yuan: 200_000) : Money(yuan: 1_000_000) }
}

/// SHA-256 of a user's token, as 32 bytes. The token itself is never stored.
public struct TokenHash: Hashable, Sendable {
    public var words: (UInt64, UInt64, UInt64, UInt64)

    public static let none = TokenHash(words: (0, 0, 0, 0))

    public init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// Builds a hash from 32 bytes (shorter input is zero-padded, longer is truncated).
    public init<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            for (offset, byte) in bytes.prefix(32).enumerated() { raw[offset] = byte }
        }
        self.words = words
    }

    public var bytes: [UInt8] {
        withUnsafeBytes(of: words) { Array($0) }
    }

    public static func == (lhs: TokenHash, rhs: TokenHash) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
            && lhs.words.3 == rhs.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

/// The hot part of a user: what every bid reads and writes, packed into 32 bytes so that a million users'
/// accounts stay cache- and TLB-friendly (the cold profile is ``User``). Index = ``UserIndex``.
public struct Account: Sendable, Equatable {
    public var availableCents: Int64 = 0
    public var frozenCents: Int64 = 0
    /// Newest ledger entry touching the available / frozen account (`LedgerEntry.none` when none).
    public var lastAvailableEntry: UInt32 = LedgerEntry.none
    public var lastFrozenEntry: UInt32 = LedgerEntry.none
    public var roles: Roles
    /// Risk assessment level 1–5 (风险测评).
    public var riskLevel: UInt8
    @usableFromInline var flags: UInt8

    @usableFromInline static let verifiedFlag: UInt8 = 1
    @usableFromInline static let blacklistedFlag: UInt8 = 2
    @usableFromInline static let newcomerFlag: UInt8 = 4

    public init(roles: Roles, verified: Bool, riskLevel: UInt8) {
        self.roles = roles
        self.riskLevel = riskLevel
        self.flags = Self.newcomerFlag | (verified ? Self.verifiedFlag : 0)
    }

    /// Real-name verified (实名认证).
    @inlinable public var verified: Bool {
        get { flags & Self.verifiedFlag != 0 }
        set { flags = newValue ? flags | Self.verifiedFlag : flags & ~Self.verifiedFlag }
    }
    /// On the blacklist (黑名单).
    @inlinable public var blacklisted: Bool {
        get { flags & Self.blacklistedFlag != 0 }
        set { flags = newValue ? flags | Self.blacklistedFlag : flags & ~Self.blacklistedFlag }
    }
    /// True until the first accepted bid (manual or auto), even if that bid is later refunded.
    @inlinable public var newcomer: Bool {
        get { flags & Self.newcomerFlag != 0 }
        set { flags = newValue ? flags | Self.newcomerFlag : flags & ~Self.newcomerFlag }
    }
}

/// The cold part of a registered user: identity, kind, token hash, receivables and borrowing, and the auto-bid
/// queue links. Receivables and borrowing are memo balances kept in step with claims and loans; the ledger
/// accounts (available, frozen) are in ``Account``.
public struct User: Sendable, Equatable {
    public var id: String
    public var kind: UserKind
    public var tokenHash: TokenHash

    public var receivablePrincipalCents: Int64 = 0
    public var receivableInterestCents: Int64 = 0
    /// Outstanding principal of this user's repaying loans (借款余额).
    public var borrowedCents: Int64 = 0
    /// Sum of the amounts of this user's pending, open and full listings (counts against the borrowing cap).
    public var pendingBorrowCents: Int64 = 0

    /// Index into the auto-bid rules, or `AutoBidRule.none`.
    public var autoRule: UInt32 = AutoBidRule.none
    /// Links of the auto-bid queue (user indexes, `AutoBidRule.none` at the ends).
    public var autoPrev: UInt32 = AutoBidRule.none
    public var autoNext: UInt32 = AutoBidRule.none
    public var autoQueued: Bool = false

    public init(id: String, kind: UserKind, tokenHash: TokenHash) {
        self.id = id
        self.kind = kind
        self.tokenHash = tokenHash
    }
}
