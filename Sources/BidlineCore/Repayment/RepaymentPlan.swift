import BigInt

/// One installment of a repayment plan as computed from the loan's terms: principal and interest in cents.
///
/// Due dates, payment state and penalties live in ``Installment``; this is only the arithmetic's result.
public struct PlannedInstallment: Sendable, Equatable {
    /// Principal repaid by this installment, in cents; never negative.
    public var principalCents: Int64
    /// Interest paid with this installment, in cents; never negative.
    public var interestCents: Int64

    /// An installment of `principalCents` principal and `interestCents` interest.
    @inlinable
    public init(principalCents: Int64, interestCents: Int64) {
        self.principalCents = principalCents
        self.interestCents = interestCents
    }
}

/// The pure money arithmetic of repayment plans (还款计划), interest accrual, penalties and proportional splits.
///
/// Everything is exact integer arithmetic (`Int64`/`Int128`, and arbitrary precision for the annuity), rounded
/// half up to the cent (四舍五入) where a rule says "round", so the same inputs give bit-identical results on
/// every machine. The monthly rate is r = annual / 12, i.e. r = bp / 120 000 exactly; a month is 30 days.
public enum RepaymentPlan {
    /// The denominator of the monthly rate: r = bp / 120 000 (basis points per year over 12 months).
    static let monthlyRateDenominator: Int128 = 120_000

    /// The longest term a plan is computed for, in months (the domain allows 1–36; this bound only keeps the
    /// exact annuity computation small).
    public static let maxTermMonths = 1_200

    /// The repayment plan of a loan of `principalCents` at annual `rate` over `termMonths` months.
    ///
    /// - `epi` (等额本息): the annuity A = P·r·(1+r)^n / ((1+r)^n − 1), computed exactly and rounded half up to
    ///   the cent; installment k pays interest round(remaining·r) and principal A − interest; the last installment
    ///   pays the whole remaining principal (with interest round(remaining·r)), absorbing the rounding.
    /// - `ep` (等额本金): principal ⌊P/n⌋ each month, the cent remainder with the last; interest round(remaining·r).
    /// - `ifo` (先息后本): interest round(P·r) every month, all principal with the last.
    /// - `bullet` (到期还本付息): one installment of principal P and interest round(P·r·n).
    /// - A zero rate: every method (bullet included) repays ⌊P/n⌋ a month for n months, the remainder with the last,
    ///   and no interest.
    ///
    /// Guarantees: the principals sum to exactly `principalCents`; no amount is negative; the plan has `termMonths`
    /// installments (one for a bullet loan with a non-zero rate).
    /// - Precondition: `principalCents >= 0`, `rate.value >= 0`, `1 <= termMonths <= maxTermMonths`.
    public static func installments(
        principalCents: Int64, rate: BasisPoints, termMonths: Int, method: RepaymentMethod
    ) -> [PlannedInstallment] {
        precondition(principalCents >= 0, "negative principal")
        precondition(rate.value >= 0, "negative rate")
        precondition(termMonths >= 1 && termMonths <= maxTermMonths, "term out of range")

        if rate.value == 0 { return equalPrincipal(principalCents, rate: rate, termMonths: termMonths) }
        switch method {
        case .epi: return equalInstallment(principalCents, rate: rate, termMonths: termMonths)
        case .ep: return equalPrincipal(principalCents, rate: rate, termMonths: termMonths)
        case .ifo: return interestFirst(principalCents, rate: rate, termMonths: termMonths)
        case .bullet:
            let interest = roundHalfUp(
                Int128(principalCents) * Int128(rate.value) * Int128(termMonths), dividedBy: monthlyRateDenominator)
            return [PlannedInstallment(principalCents: principalCents, interestCents: interest)]
        }
    }

    /// Splits `totalCents` among `weights` in proportion, by the largest-remainder method.
    ///
    /// Share i is ⌊total·wᵢ/W⌋ (W = Σ w) plus one cent for each of the `total − Σ⌊…⌋` largest remainders
    /// total·wᵢ mod W, ties to the lower index. The shares sum to exactly `totalCents`, each is within one cent of
    /// the exact proportion (floor or floor + 1), and a zero weight gets zero.
    ///
    /// `result` is resized to `weights.count` and overwritten; it does not allocate when `result` is uniquely
    /// referenced and already has the capacity. O(n · log W) time: one pass for the floors, at most 63 counting
    /// passes over the stored remainders (a binary search for the cut-off remainder), and one pass to finish.
    /// A zero total gives all zeros whatever the weights.
    /// - Precondition: `totalCents >= 0`, every weight `>= 0`; unless the total is zero, Σ weights `> 0` and fits
    ///   in `Int64`.
    public static func splitLargestRemainder(totalCents: Int64, weights: [Int64], into result: inout [Int64]) {
        precondition(totalCents >= 0, "negative total")
        let count = weights.count
        if result.count > count {
            result.removeLast(result.count - count)
        } else if result.count < count {
            result.append(contentsOf: repeatElement(0, count: count - result.count))
        }
        weights.withUnsafeBufferPointer { weights in
            result.withUnsafeMutableBufferPointer { shares in
                splitLargestRemainder(totalCents: totalCents, weights: weights, into: shares)
            }
        }
    }

    /// Interest for `days` whole days on `principalCents` at annual `rate`: round_half_up(P · r · days / 30),
    /// with r = bp / 120 000 (early payoff, 提前还款).
    /// - Precondition: `principalCents >= 0`, `rate.value >= 0`, `days >= 0`.
    public static func accruedInterest(principalCents: Int64, rate: BasisPoints, days: Int64) -> Int64 {
        precondition(principalCents >= 0 && rate.value >= 0 && days >= 0, "negative accrual input")
        return roundHalfUp(
            Int128(principalCents) * Int128(rate.value) * Int128(days), dividedBy: monthlyRateDenominator * 30)
    }

    /// Simple penalty interest (罚息) on `overdueCents` for `days` whole days at `ratePerDay` (basis points a
    /// day; 0.05 % is 5): round_half_up(amount · bp / 10 000 · days), rounded once.
    /// - Precondition: `overdueCents >= 0`, `ratePerDay.value >= 0`, `days >= 0`.
    public static func penalty(overdueCents: Int64, ratePerDay: BasisPoints, days: Int64) -> Int64 {
        precondition(overdueCents >= 0 && ratePerDay.value >= 0 && days >= 0, "negative penalty input")
        return roundHalfUp(Int128(overdueCents) * Int128(ratePerDay.value) * Int128(days), dividedBy: 10_000)
    }

    // MARK: - Methods

    /// round_half_up(remaining · r).
    @inline(__always)
    static func monthlyInterest(on remainingCents: Int64, rate: BasisPoints) -> Int64 {
        roundHalfUp(Int128(remainingCents) * Int128(rate.value), dividedBy: monthlyRateDenominator)
    }

    /// 等额本金, also the zero-rate plan of every method (interest is then 0).
    static func equalPrincipal(_ principalCents: Int64, rate: BasisPoints, termMonths: Int) -> [PlannedInstallment] {
        let (base, remainder) = principalCents.quotientAndRemainder(dividingBy: Int64(termMonths))
        var plan: [PlannedInstallment] = []
        plan.reserveCapacity(termMonths)
        var remaining = principalCents
        for month in 1...termMonths {
            let principal = month == termMonths ? base + remainder : base
            plan.append(
                PlannedInstallment(principalCents: principal, interestCents: monthlyInterest(on: remaining, rate: rate))
            )
            remaining -= principal
        }
        assert(remaining == 0)
        return plan
    }

    /// 先息后本.
    static func interestFirst(_ principalCents: Int64, rate: BasisPoints, termMonths: Int) -> [PlannedInstallment] {
        let interest = monthlyInterest(on: principalCents, rate: rate)
        var plan = [PlannedInstallment](
            repeating: PlannedInstallment(principalCents: 0, interestCents: interest), count: termMonths)
        plan[termMonths - 1].principalCents = principalCents
        return plan
    }

    /// 等额本息 (non-zero rate).
    static func equalInstallment(_ principalCents: Int64, rate: BasisPoints, termMonths: Int) -> [PlannedInstallment] {
        let annuity = annuityCents(principalCents: principalCents, rate: rate, termMonths: termMonths)
        var plan: [PlannedInstallment] = []
        plan.reserveCapacity(termMonths)
        var remaining = principalCents
        for month in 1...termMonths {
            let interest = monthlyInterest(on: remaining, rate: rate)
            // A ≥ round(P·r) ≥ interest, so this is never negative. The clamp to `remaining` only matters for
            // amounts of a few cents, where rounding A could otherwise repay more than is left before the end.
            let principal = month == termMonths ? remaining : min(annuity - interest, remaining)
            assert(principal >= 0)
            plan.append(PlannedInstallment(principalCents: principal, interestCents: interest))
            remaining -= principal
        }
        return plan
    }

    /// The annuity A = P·r·(1+r)^n / ((1+r)^n − 1) rounded half up to the cent, for r = a/b > 0.
    ///
    /// Exact: with a = bp and b = 120 000, A = P·a·(b+a)^n / (b·((b+a)^n − b^n)), evaluated in arbitrary
    /// precision ((b+a)^36 does not fit in `Int128`) and rounded as ⌊(2·num + den) / (2·den)⌋.
    static func annuityCents(principalCents: Int64, rate: BasisPoints, termMonths: Int) -> Int64 {
        precondition(rate.value > 0)
        let a = BigUInt(UInt64(rate.value))
        let b = BigUInt(UInt64(monthlyRateDenominator))
        let growth = (b + a).power(termMonths)
        let numerator = BigUInt(UInt64(principalCents)) * a * growth
        let denominator = b * (growth - b.power(termMonths))
        let rounded = (numerator * 2 + denominator) / (denominator * 2)
        // A ≤ P·(1 + r) for n ≥ 1; still, refuse rather than truncate if a caller ever breaks that.
        guard let cents = Int64(exactly: rounded) else { preconditionFailure("annuity out of range") }
        return cents
    }

    // MARK: - Largest remainder

    /// The buffer form of the public split; `shares.count == weights.count`.
    static func splitLargestRemainder(
        totalCents: Int64, weights: UnsafeBufferPointer<Int64>, into shares: UnsafeMutableBufferPointer<Int64>
    ) {
        if totalCents == 0 {
            for index in shares.indices { shares[index] = 0 }
            return
        }
        var weightSum: Int64 = 0
        for weight in weights {
            precondition(weight >= 0, "negative weight")
            weightSum += weight  // traps on overflow
        }
        precondition(weightSum > 0, "weights sum to zero")
        let total = Int128(totalCents)
        let divisor = Int128(weightSum)

        // Pass 1: the remainders, stored in `shares` (each < W, so it fits in Int64); the floors are summed.
        var floorSum: Int128 = 0
        for index in weights.indices {
            let (quotient, remainder) = (total * Int128(weights[index])).quotientAndRemainder(dividingBy: divisor)
            floorSum += quotient
            shares[index] = Int64(remainder)
        }
        // Σ remainders = leftover · W with every remainder < W, so more than `leftover` remainders are positive,
        // and leftover < count.
        let leftover = Int(total - floorSum)
        assert(leftover >= 0 && leftover < max(weights.count, 1))

        // The cut-off: the largest t with #{remainder ≥ t} ≥ leftover, i.e. the leftover-th largest remainder.
        // It is ≥ 1 when leftover > 0, so zero remainders (and zero weights) never get a cent.
        var cutoff = Int64.max
        if leftover > 0 {
            var low: Int64 = 1  // #{≥ low} ≥ leftover holds
            var high = weightSum  // #{≥ high} = 0 < leftover
            while high - low > 1 {
                let middle = low + (high - low) / 2
                var atLeast = 0
                for remainder in shares where remainder >= middle { atLeast += 1 }
                if atLeast >= leftover { low = middle } else { high = middle }
            }
            cutoff = low
        }
        var above = 0
        if leftover > 0 {
            for remainder in shares where remainder > cutoff { above += 1 }
        }
        var tiesToFill = leftover - above  // given to the lowest indices whose remainder equals the cut-off

        // Pass 2: floor plus the extra cent.
        var shareSum: Int64 = 0
        for index in weights.indices {
            let remainder = shares[index]
            let product = total * Int128(weights[index])
            var share = Int64((product - Int128(remainder)) / divisor)
            if remainder > cutoff {
                share += 1
            } else if remainder == cutoff && tiesToFill > 0 {
                share += 1
                tiesToFill -= 1
            }
            shares[index] = share
            shareSum += share
        }
        assert(tiesToFill == 0 && shareSum == totalCents, "largest-remainder split lost a cent")
    }
}
