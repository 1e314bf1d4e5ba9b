extension Engine {
    /// `AUTO.SET`: creates or replaces the investor's rule. A new (or re-enabled) rule joins the queue's tail;
    /// changing an enabled rule keeps its place.
    mutating func setAutoBid(_ investor: UserIndex, _ rule: AutoBidRule) -> Outcome {
        guard userExists(investor) else { return .rejected(.noSuchUser) }
        guard state.accounts[investor.int].roles.contains(.investor) else { return .rejected(.forbidden) }
        guard rule.rateMin.value >= 0, rule.rateMin <= rule.rateMax, rule.termMin >= 1, rule.termMin <= rule.termMax,
            rule.grades != 0, rule.grades & ~0b1_1111 == 0, rule.methods != 0, rule.methods & ~0b1111 == 0
        else { return .rejected(.badArgument) }
        if let max = rule.maxPerListing, max.cents <= 0 || max.cents > Money.maxAmountCents {
            return .rejected(.badAmount)
        }
        guard rule.reserve.cents >= 0, rule.reserve.cents <= Money.maxAmountCents else { return .rejected(.badAmount) }
        var stored = rule
        stored.enabled = true
        let existing = state.users[investor.int].autoRule
        if existing == AutoBidRule.none {
            state.users[investor.int].autoRule = UInt32(state.autoRules.count)
            state.autoRules.append(stored)
        } else {
            state.autoRules[Int(existing)] = stored
        }
        if !state.users[investor.int].autoQueued { enqueueAutoBidder(investor.raw) }
        return .applied(.autoBid(investor, enabled: true))
    }

    /// `AUTO.OFF`: disables the rule and leaves the queue; turning it on again goes to the tail.
    mutating func autoBidOff(_ investor: UserIndex) -> Outcome {
        guard userExists(investor) else { return .rejected(.noSuchUser) }
        guard state.accounts[investor.int].roles.contains(.investor) else { return .rejected(.forbidden) }
        let rule = state.users[investor.int].autoRule
        if rule != AutoBidRule.none { state.autoRules[Int(rule)].enabled = false }
        if state.users[investor.int].autoQueued { dequeueAutoBidder(investor.raw) }
        return .applied(.autoBid(investor, enabled: false))
    }

    /// The investor's rule, if one was ever set.
    public func autoBidRule(of investor: UserIndex) -> AutoBidRule? {
        guard userExists(investor) else { return nil }
        let index = state.users[investor.int].autoRule
        return index == AutoBidRule.none ? nil : state.autoRules[Int(index)]
    }

    /// The queue from head to tail (for `AUTO.GET` positions, tests and ops). O(queue).
    public func autoBidQueue() -> [UserIndex] {
        var result: [UserIndex] = []
        var cursor = state.autoQueueHead
        while cursor != AutoBidRule.none {
            result.append(UserIndex(cursor))
            cursor = state.users[Int(cursor)].autoNext
        }
        return result
    }

    mutating func enqueueAutoBidder(_ user: UInt32) {
        let tail = state.autoQueueTail
        state.users[Int(user)].autoPrev = tail
        state.users[Int(user)].autoNext = AutoBidRule.none
        state.users[Int(user)].autoQueued = true
        if tail == AutoBidRule.none {
            state.autoQueueHead = user
        } else {
            state.users[Int(tail)].autoNext = user
        }
        state.autoQueueTail = user
        state.autoQueueCount += 1
    }

    mutating func dequeueAutoBidder(_ user: UInt32) {
        let prev = state.users[Int(user)].autoPrev
        let next = state.users[Int(user)].autoNext
        if prev == AutoBidRule.none { state.autoQueueHead = next } else { state.users[Int(prev)].autoNext = next }
        if next == AutoBidRule.none { state.autoQueueTail = prev } else { state.users[Int(next)].autoPrev = prev }
        state.users[Int(user)].autoPrev = AutoBidRule.none
        state.users[Int(user)].autoNext = AutoBidRule.none
        state.users[Int(user)].autoQueued = false
        state.autoQueueCount -= 1
    }

    /// The auto-bid walk when a listing opens (domain.md "Auto-bid"): from the head, each queued investor is
    /// visited at most once; an eligible one bids and moves to the tail, an ineligible one keeps its place. It
    /// stops when the share left is below the minimum bid, at the end of the queue, or after
    /// `Settings.autoBidMaxVisits` visits. Deterministic. Returns the number of auto-bids placed.
    mutating func runAutoBid(listingIndex: Int, at atMillis: Int64) -> UInt32 {
        let terms = state.listings[listingIndex].terms
        guard !terms.newcomerOnly, state.autoQueueHead != AutoBidRule.none else { return 0 }
        let shareCents = Int64(Int128(terms.amount.cents) * Int128(state.settings.autoBidShare.value) / 10_000)
        let lastToVisit = state.autoQueueTail
        var cursor = state.autoQueueHead
        var visits: UInt32 = 0
        var placed: UInt32 = 0
        while cursor != AutoBidRule.none && visits < state.settings.autoBidMaxVisits {
            let listing = state.listings[listingIndex]
            let shareLeft = shareCents - listing.autoRaisedCents
            if shareLeft < terms.minBid.cents || listing.status != .open { break }
            let next = state.users[Int(cursor)].autoNext
            visits += 1
            if let cents = autoBidAmount(user: cursor, listing: listing, listingIndex: listingIndex, shareLeft: shareLeft) {
                _ = acceptBid(investor: UserIndex(cursor), listingIndex: listingIndex, cents: cents, source: .auto, at: atMillis)
                placed += 1
                if cursor != state.autoQueueTail {
                    dequeueAutoBidder(cursor)
                    enqueueAutoBidder(cursor)
                }
            }
            if cursor == lastToVisit { break }
            cursor = next
        }
        return placed
    }

    /// The amount `user` would auto-bid on the listing, or nil when ineligible: min(rule max, available −
    /// reserve, remaining, cap room, share left), floored to min + k·step, and at least the minimum.
    func autoBidAmount(user index: UInt32, listing: Listing, listingIndex: Int, shareLeft: Int64) -> Int64? {
        let autoRule = state.users[Int(index)].autoRule
        guard autoRule != AutoBidRule.none else { return nil }
        let user = state.accounts[Int(index)]
        let rule = state.autoRules[Int(autoRule)]
        let terms = listing.terms
        guard rule.enabled, rule.matches(terms), user.roles.contains(.investor), user.verified, !user.blacklisted,
            listing.borrower.raw != index, user.riskLevel >= terms.grade.requiredRiskLevel
        else { return nil }
        var cents = min(user.availableCents - rule.reserve.cents, listing.remainingCents, shareLeft)
        if let max = rule.maxPerListing { cents = min(cents, max.cents) }
        if let cap = terms.cap {
            let earlier = capTotals[Self.capKey(UInt32(listingIndex + 1), UserIndex(index))] ?? 0
            cents = min(cents, cap.cents - earlier)
        }
        let minBid = terms.minBid.cents
        guard cents >= minBid else { return nil }
        return minBid + (cents - minBid) / terms.step.cents * terms.step.cents
    }
}
