import BidlineCore
import BidlineProtocol

/// What a connection knows about itself: who authenticated, with which roles.
public struct Session: Sendable, Equatable {
    public var user: UserIndex?
    public var userID: String = ""
    public var roles: Roles = []
    /// Topics after `SUBSCRIBE` (the connection is then in push mode).
    public var topics: [Topic] = []

    public init() {}

    public var isAuthenticated: Bool { user != nil }
    public var isAdmin: Bool { roles.contains(.admin) }

    /// Whether this session may call a verb with `spec.roles`.
    public func may(_ spec: VerbSpec) -> Bool {
        if spec.roles.contains(.unauthenticated) { return true }
        return isAuthenticated && spec.roles.allows(roles)
    }
}

/// One line of a batch, as the connection hands it to the engine host: a parsed request, or a reply the
/// connection already produced (a framing or parse error), kept in place so replies stay in request order.
public enum BatchItem: Sendable {
    case request(Request)
    case ready([UInt8])
}

/// How engine time advances.
public enum ClockMode: Sendable, Equatable {
    /// Engine time follows the wall clock (never backwards); deadlines are processed by a journaled tick.
    case system
    /// Engine time moves only with `CLOCK.ADVANCE` (tests, demos: a 36-month loan in milliseconds).
    case manual
}
