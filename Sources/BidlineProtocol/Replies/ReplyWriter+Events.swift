import BidlineCore

/// `EVENT` lines of push mode (`SUBSCRIBE loans account`).
extension ReplyWriter {
    /// The event's name on the wire: `loan.open`, `loan.full`, `loan.failed`, `loan.repaying`, `loan.settled`,
    /// `repayment`, `installment.overdue`, `account`.
    public static func eventName(_ kind: Event.Kind) -> StaticString {
        switch kind {
        case .listingOpened: "loan.open"
        case .listingFull: "loan.full"
        case .listingFailed: "loan.failed"
        case .listingRepaying: "loan.repaying"
        case .listingSettled: "loan.settled"
        case .repayment: "repayment"
        case .installmentOverdue: "installment.overdue"
        case .accountChanged: "account"
        }
    }

    /// `EVENT <name> key=value … at=<ms>`: `account` events carry `user [listing] change available frozen`,
    /// listing events `listing [installment] [amount]`. `state` names the user.
    public mutating func event(_ event: Event, in state: EngineState) {
        append("EVENT " as StaticString)
        append(Self.eventName(event.kind))
        if event.kind == .accountChanged {
            field("user", state.users[event.user.int].id)
            if event.listing.number != 0 { field("listing", event.listing) }
            field("change", cents: event.amountCents)
            field("available", cents: event.availableCents)
            field("frozen", cents: event.frozenCents)
        } else {
            field("listing", event.listing)
            if event.installment != 0 { field("installment", Int64(event.installment)) }
            if event.amountCents != 0 { field("amount", cents: event.amountCents) }
        }
        field("at", event.atMillis)
        end()
    }
}
