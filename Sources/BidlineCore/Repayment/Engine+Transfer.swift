extension Engine {
    /// `CLAIM.SELL`: offers `principal` of a claim for `price` (80 %–105 % of it). The loan must be repaying and
    /// not overdue, and the claim held for the minimum period; the principal must not exceed what is left
    /// unoffered on the claim.
    mutating func sellClaim(_ id: ClaimID, by actor: UserIndex?, principal: Money, price: Money, at atMillis: Int64)
        -> Outcome
    {
        guard principal.cents > 0, price.cents > 0, principal.cents <= Money.maxAmountCents,
            price.cents <= Money.maxAmountCents
        else { return .rejected(.badAmount) }
        guard id.number >= 1, id.index < state.claims.count else { return .rejected(.noSuchClaim) }
        let claim = state.claims[id.index]
        if let actor, actor != claim.holder { return .rejected(.forbidden) }
        guard 100 * price.cents >= 80 * principal.cents, 100 * price.cents <= 105 * principal.cents else {
            return .rejected(.badPrice)
        }
        let listingIndex = claim.listing.index
        guard state.listings[listingIndex].status == .repaying, !isOverdue(listingIndex: listingIndex, at: atMillis),
            atMillis - claim.acquiredAtMillis >= state.settings.transferHoldingMillis,
            principal.cents <= claim.principalCents - claim.offeredCents
        else { return .rejected(.notTransferable) }
        guard state.offers.count < Int(UInt32.max - 1) else { return .rejected(.limitReached) }
        state.offers.append(
            TransferOffer(
                claim: id, seller: claim.holder, listing: claim.listing, principalCents: principal.cents,
                priceCents: price.cents, feeRate: state.settings.transferFee, createdAtMillis: atMillis))
        state.claims[id.index].offeredCents += principal.cents
        state.listings[listingIndex].openOffers += 1
        openOfferIndexes.insert(UInt32(state.offers.count - 1))
        let offer = OfferID(UInt32(state.offers.count))
        return .applied(.offer(offer, claim: id, principal: principal, price: price))
    }

    /// `CLAIM.BUY`: buys `principal` of an open offer (first come, first served). The buyer pays
    /// round_half_up(Y·x/X) to the seller, the seller pays the transfer fee to `platform`, and the buyer gets a
    /// new claim that receives the installments of the bought principal from the next due date on.
    mutating func buyOffer(_ id: OfferID, buyer: UserIndex, principal: Money, at atMillis: Int64) -> Outcome {
        guard principal.cents > 0, principal.cents <= Money.maxAmountCents else { return .rejected(.badAmount) }
        guard userExists(buyer) else { return .rejected(.noSuchUser) }
        guard id.number >= 1, id.index < state.offers.count else { return .rejected(.noSuchOffer) }
        let user = state.accounts[buyer.int]
        guard user.roles.contains(.investor) else { return .rejected(.forbidden) }
        guard user.verified else { return .rejected(.notVerified) }
        guard !user.blacklisted else { return .rejected(.blacklisted) }
        let offer = state.offers[id.index]
        guard offer.status == .open else { return .rejected(.offerNotOpen) }
        guard offer.seller != buyer else { return .rejected(.ownOffer) }
        guard principal.cents <= offer.remainingCents else { return .rejected(.badAmount) }
        let listingIndex = offer.listing.index
        guard state.listings[listingIndex].status == .repaying, !isOverdue(listingIndex: listingIndex, at: atMillis)
        else { return .rejected(.notTransferable) }
        let paid = roundHalfUp(
            Int128(offer.priceCents) * Int128(principal.cents), dividedBy: Int128(offer.principalCents))
        let fee = Money(cents: paid).percentage(offer.feeRate).cents
        guard user.availableCents >= paid else { return .rejected(.insufficientFunds) }
        guard state.claims.count < Int(UInt32.max - 1) else { return .rejected(.limitReached) }

        if paid > 0 { post(.transferPayment, from: .available(buyer), to: .available(offer.seller), cents: paid, at: atMillis) }
        if fee > 0 { post(.transferFee, from: .available(offer.seller), to: .platform, cents: fee, at: atMillis) }

        // Split the claim: principal and its share of the receivable interest move to a new claim.
        let source = state.claims[offer.claim.index]
        let movedInterest = Int64(
            Int128(source.receivableInterestCents) * Int128(principal.cents) / Int128(source.principalCents))
        state.claims[offer.claim.index].principalCents -= principal.cents
        state.claims[offer.claim.index].offeredCents -= principal.cents
        state.claims[offer.claim.index].receivableInterestCents -= movedInterest
        state.users[offer.seller.int].receivablePrincipalCents -= principal.cents
        state.users[offer.seller.int].receivableInterestCents -= movedInterest
        state.users[buyer.int].receivablePrincipalCents += principal.cents
        state.users[buyer.int].receivableInterestCents += movedInterest
        let newClaim = UInt32(state.claims.count)
        state.claims.append(
            Claim(
                listing: offer.listing, holder: buyer, bid: source.bid, principalCents: principal.cents,
                receivableInterestCents: movedInterest, acquiredAtMillis: atMillis))
        indexClaim(newClaim)
        // Tie order: after every claim that existed before it.
        let last = state.listings[listingIndex].lastClaim
        state.claims[Int(last)].nextInListing = newClaim
        state.listings[listingIndex].lastClaim = newClaim
        state.listings[listingIndex].claimCount += 1

        state.offers[id.index].remainingCents -= principal.cents
        if state.offers[id.index].remainingCents == 0 {
            state.offers[id.index].status = .sold
            state.listings[listingIndex].openOffers -= 1
            openOfferIndexes.remove(UInt32(id.index))
        }
        recordAccountChange(buyer, listing: offer.listing, change: -paid, at: atMillis)
        recordAccountChange(offer.seller, listing: offer.listing, change: paid - fee, at: atMillis)
        return .applied(.bought(id, claim: ClaimID(newClaim + 1), principal: principal, paid: Money(cents: paid)))
    }

    /// `CLAIM.WITHDRAW`: closes an open offer; what was not bought stays with the seller.
    mutating func withdrawOffer(_ id: OfferID, by actor: UserIndex?) -> Outcome {
        guard id.number >= 1, id.index < state.offers.count else { return .rejected(.noSuchOffer) }
        let offer = state.offers[id.index]
        if let actor, actor != offer.seller { return .rejected(.forbidden) }
        guard offer.status == .open else { return .rejected(.offerNotOpen) }
        closeOffer(id.index)
        return .applied(.offerWithdrawn(id))
    }

    mutating func closeOffer(_ index: Int) {
        let offer = state.offers[index]
        state.claims[offer.claim.index].offeredCents -= offer.remainingCents
        state.offers[index].status = .withdrawn
        state.listings[offer.listing.index].openOffers -= 1
        openOfferIndexes.remove(UInt32(index))
    }

    /// A repayment changes the claims: every open offer on the loan is withdrawn.
    mutating func withdrawOpenOffers(listingIndex: Int) {
        guard state.listings[listingIndex].openOffers > 0 else { return }
        let number = UInt32(listingIndex + 1)
        // In offer order, as a scan of every offer would close them (the ledger and the state hash see the order).
        let offers = openOfferIndexes.filter { state.offers[Int($0)].listing.number == number }.sorted()
        for index in offers { closeOffer(Int(index)) }
    }
}
