import BidlineCore

/// The standard `OK` line of each command ``Reply`` (the engine's answer to a state change).
extension ReplyWriter {
    /// `OK bid=B… listing=L… amount=… remaining=… full=0|1`: the hot path's reply, without allocation.
    @inlinable
    public mutating func bid(_ bid: BidReply) {
        ok()
        field("bid", bid.bid)
        field("listing", bid.listing)
        field("amount", bid.amount)
        field("remaining", bid.remaining)
        field("full", bid.full)
        end()
    }

    /// The `OK` line of `reply`; `state` (after the command) names users and listings. A bid goes through
    /// ``bid(_:)``; a deposit or withdrawal allocates nothing either.
    public mutating func reply(_ reply: Reply, in state: EngineState) {
        if case .bid(let bid) = reply {
            self.bid(bid)
            return
        }
        ok()
        switch reply {
        case .bid: break
        case .user(let user):
            field("user", state.users[user.int].id)
        case .funds(let user, let amount, let available):
            field("user", state.users[user.int].id)
            field("amount", amount)
            field("available", available)
        case .listing(let id, let status):
            field("listing", id)
            field("status", status.wireText)
        case .approved(let id, let status, let autoBids):
            field("listing", id)
            field("status", status.wireText)
            field("auto_bids", Int64(autoBids))
            field("raised", cents: state.listings[id.index].raisedCents)
        case .autoBid(_, let enabled):
            field("auto", enabled)
        case .settings(let settings):
            field("service", percent: settings.serviceFee)
            field("interest", percent: settings.interestFee)
            field("transfer", percent: settings.transferFee)
            field("penalty", percent: settings.penaltyRate)
            field("autoshare", percent: settings.autoBidShare)
            field("holding_days", settings.transferHoldingMillis / EngineTime.dayMillis)
        case .tick(let failed, let overdue):
            field("failed", Int64(failed))
            field("overdue", Int64(overdue))
        case .repayment(let repayment):
            field("listing", repayment.listing)
            field("installment", Int64(repayment.installment))
            field("principal", repayment.principal)
            field("interest", repayment.interest)
            field("penalty", repayment.penalty)
            field("status", repayment.status.wireText)
        case .offer(let offer, let claim, let principal, let price):
            field("offer", offer)
            field("claim", claim)
            field("principal", principal)
            field("price", price)
        case .bought(let offer, let claim, let principal, let paid):
            field("offer", offer)
            field("claim", claim)
            field("principal", principal)
            field("paid", paid)
        case .offerWithdrawn(let offer):
            field("offer", offer)
            field("status", "withdrawn")
        }
        end()
    }
}
