import Testing

@testable import BidlineCore

/// Tests of `RepaymentPlan.swift`: golden plans worked out by hand (and with exact rationals outside Swift), the
/// structural guarantees of every plan over a grid of loans, and properties of the largest-remainder split.
///
/// The expectations never call `roundHalfUp`: interest is recomputed here as ⌊(2·x + d) / (2·d)⌋ on its own.
@Suite struct RepaymentPlanTests {
    // MARK: - Independent reference arithmetic

    /// x / d rounded half up, for x ≥ 0, d > 0, written differently from the production helper.
    static func roundedHalfUp(_ numerator: Int128, _ denominator: Int128) -> Int64 {
        Int64((2 * numerator + denominator) / (2 * denominator))
    }

    /// round_half_up(remaining · bp / 120 000).
    static func monthlyInterest(_ remaining: Int64, _ bp: Int32) -> Int64 {
        roundedHalfUp(Int128(remaining) * Int128(bp), 120_000)
    }

    static func plan(_ principal: Int64, bp: Int32, months: Int, _ method: RepaymentMethod) -> [PlannedInstallment] {
        RepaymentPlan.installments(principalCents: principal, rate: BasisPoints(bp), termMonths: months, method: method)
    }

    static func table(principals: [Int64], interests: [Int64]) -> [PlannedInstallment] {
        precondition(principals.count == interests.count)
        return zip(principals, interests).map { PlannedInstallment(principalCents: $0, interestCents: $1) }
    }

    /// Checks what every plan must satisfy, recomputing each installment's interest from the rules.
    /// `annuity` (epi only): the expected installment amount of every installment but the last.
    static func checkInvariants(
        _ plan: [PlannedInstallment], principal: Int64, bp: Int32, months: Int, method: RepaymentMethod,
        annuity: Int64? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let context = "P=\(principal) bp=\(bp) n=\(months) \(method)"
        let expectedCount = (method == .bullet && bp != 0) ? 1 : months
        #expect(plan.count == expectedCount, "\(context)", sourceLocation: sourceLocation)
        guard plan.count == expectedCount else { return }
        #expect(plan.reduce(0) { $0 + $1.principalCents } == principal, "\(context)", sourceLocation: sourceLocation)
        #expect(
            plan.allSatisfy { $0.principalCents >= 0 && $0.interestCents >= 0 }, "\(context)",
            sourceLocation: sourceLocation)

        if bp == 0 {
            let base = principal / Int64(months)
            for (index, installment) in plan.enumerated() {
                let expected = index == months - 1 ? principal - base * Int64(months - 1) : base
                #expect(
                    installment.principalCents == expected, "\(context) #\(index + 1)", sourceLocation: sourceLocation)
                #expect(installment.interestCents == 0, "\(context) #\(index + 1)", sourceLocation: sourceLocation)
            }
            return
        }

        var remaining = principal
        for (index, installment) in plan.enumerated() {
            let isLast = index == plan.count - 1
            let label = "\(context) #\(index + 1)"
            switch method {
            case .epi:
                #expect(
                    installment.interestCents == monthlyInterest(remaining, bp), "\(label)",
                    sourceLocation: sourceLocation)
                if isLast {
                    #expect(installment.principalCents == remaining, "\(label)", sourceLocation: sourceLocation)
                } else if let annuity {
                    #expect(
                        installment.principalCents + installment.interestCents == annuity, "\(label)",
                        sourceLocation: sourceLocation)
                }
            case .ep:
                #expect(
                    installment.interestCents == monthlyInterest(remaining, bp), "\(label)",
                    sourceLocation: sourceLocation)
                let base = principal / Int64(months)
                #expect(
                    installment.principalCents == (isLast ? remaining : base), "\(label)",
                    sourceLocation: sourceLocation)
            case .ifo:
                #expect(
                    installment.interestCents == monthlyInterest(principal, bp), "\(label)",
                    sourceLocation: sourceLocation)
                #expect(
                    installment.principalCents == (isLast ? principal : 0), "\(label)", sourceLocation: sourceLocation)
            case .bullet:
                #expect(
                    installment.interestCents
                        == roundedHalfUp(Int128(principal) * Int128(bp) * Int128(months), 120_000),
                    "\(label)", sourceLocation: sourceLocation)
                #expect(installment.principalCents == principal, "\(label)", sourceLocation: sourceLocation)
            }
            remaining -= installment.principalCents
        }
        #expect(remaining == 0, "\(context)", sourceLocation: sourceLocation)
    }

    // MARK: - Golden plans

    /// 10,000.00 at 12 % over 12 months, 等额本息. r = 1 %/month.
    /// A = 1,000,000 · 0.01 · 1.01^12 / (1.01^12 − 1) = 88,848.79 cents → 888.49 a month.
    /// Month 1: interest 1,000,000 · 1 % = 10,000 (100.00), principal 88,849 − 10,000 = 78,849.
    /// Month 2: remaining 921,151 → interest 9,211.51 → 9,212, principal 79,637. ...
    /// Month 12: remaining 87,967 → interest 879.67 → 880; it repays all 87,967 (887.47 in all, 0.02 below A).
    @Test func epiTenThousandAtTwelvePercentOverTwelveMonths() {
        let plan = Self.plan(1_000_000, bp: 1200, months: 12, .epi)
        let expected = Self.table(
            principals: [78849, 79637, 80434, 81238, 82051, 82871, 83700, 84537, 85382, 86236, 87098, 87967],
            interests: [10000, 9212, 8415, 7611, 6798, 5978, 5149, 4312, 3467, 2613, 1751, 880])
        #expect(plan == expected)
        #expect(plan.dropLast().allSatisfy { $0.principalCents + $0.interestCents == 88_849 })
        #expect(plan.reduce(0) { $0 + $1.principalCents } == 1_000_000)
        #expect(plan.reduce(0) { $0 + $1.interestCents } == 66_186)
        #expect(plan[11].principalCents + plan[11].interestCents == 88_847)
        Self.checkInvariants(plan, principal: 1_000_000, bp: 1200, months: 12, method: .epi, annuity: 88_849)
    }

    /// 10,000.00 at 12 % over 12 months, 等额本金: ⌊1,000,000 / 12⌋ = 83,333 a month, the 4-cent remainder with
    /// the last (83,337). Month 1: 833.33 + 100.00 = 933.33; month 2 interest 916,667 · 1 % = 9,166.67 → 9,167.
    @Test func epTenThousandAtTwelvePercentOverTwelveMonths() {
        let plan = Self.plan(1_000_000, bp: 1200, months: 12, .ep)
        let expected = Self.table(
            principals: Array(repeating: 83_333, count: 11) + [83_337],
            interests: [10000, 9167, 8333, 7500, 6667, 5833, 5000, 4167, 3333, 2500, 1667, 833])
        #expect(plan == expected)
        #expect(plan[0].principalCents + plan[0].interestCents == 93_333)
        #expect(plan.reduce(0) { $0 + $1.interestCents } == 65_000)
        Self.checkInvariants(plan, principal: 1_000_000, bp: 1200, months: 12, method: .ep)
    }

    /// The "ep first installment 1,120.00" of the product brief: that is 12,000.00 at 12 % over 12 months
    /// (1,000.00 principal + 120.00 interest); the installments then fall by 10.00 a month.
    @Test func epTwelveThousandFirstInstallmentIs1120() {
        let plan = Self.plan(1_200_000, bp: 1200, months: 12, .ep)
        #expect(plan[0] == PlannedInstallment(principalCents: 100_000, interestCents: 12_000))
        for (index, installment) in plan.enumerated() {
            #expect(installment.principalCents == 100_000)
            #expect(installment.interestCents == 12_000 - 1_000 * Int64(index))
        }
        #expect(plan.reduce(0) { $0 + $1.interestCents } == 78_000)
        Self.checkInvariants(plan, principal: 1_200_000, bp: 1200, months: 12, method: .ep)
    }

    /// 12,345.67 at 12.5 % over 24 months, 等额本金: 51,440 a month, the last 51,447 (remainder 7 cents);
    /// first interest 1,234,567 · 12.5 / 1200 % = 12,860.07 → 12,860, last 51,447 · 1250 / 120,000 = 535.91 → 536.
    @Test func epUnevenAmountRemainderGoesToTheLastInstallment() {
        let plan = Self.plan(1_234_567, bp: 1250, months: 24, .ep)
        #expect(plan.dropLast().allSatisfy { $0.principalCents == 51_440 })
        #expect(plan[23] == PlannedInstallment(principalCents: 51_447, interestCents: 536))
        #expect(plan[0].interestCents == 12_860)
        #expect(plan.reduce(0) { $0 + $1.interestCents } == 160_752)
        Self.checkInvariants(plan, principal: 1_234_567, bp: 1250, months: 24, method: .ep)
    }

    /// 10,000.00 at 12 % over 12 months, 先息后本: 100.00 interest every month, 10,000.00 with the 12th.
    @Test func ifoTenThousand() {
        let plan = Self.plan(1_000_000, bp: 1200, months: 12, .ifo)
        #expect(
            plan
                == Self.table(
                    principals: Array(repeating: 0, count: 11) + [1_000_000],
                    interests: Array(repeating: 10_000, count: 12)))
        Self.checkInvariants(plan, principal: 1_000_000, bp: 1200, months: 12, method: .ifo)
    }

    /// 到期还本付息 is one installment: 10,000.00 + round(10,000.00 · 1 % · n).
    @Test func bulletIsOneInstallment() {
        #expect(
            Self.plan(1_000_000, bp: 1200, months: 12, .bullet)
                == [PlannedInstallment(principalCents: 1_000_000, interestCents: 120_000)])
        #expect(
            Self.plan(1_000_000, bp: 1200, months: 36, .bullet)
                == [PlannedInstallment(principalCents: 1_000_000, interestCents: 360_000)])
        // 0.01 % over 36 months on 10,000.00: 1,000,000 · 1 · 36 / 120,000 = 300 cents.
        #expect(
            Self.plan(1_000_000, bp: 1, months: 36, .bullet)
                == [PlannedInstallment(principalCents: 1_000_000, interestCents: 300)])
        // Half a cent rounds up: 1,000 · 1 · 60 / 120,000 = 0.5 → 1 (n = 60 only to hit the half exactly).
        #expect(
            Self.plan(1_000, bp: 1, months: 60, .bullet)
                == [PlannedInstallment(principalCents: 1_000, interestCents: 1)])
        // 12.34 at 0.01 % for 1 month: 1,234 / 120,000 → 0.
        #expect(
            Self.plan(1_234, bp: 1, months: 1, .bullet) == [PlannedInstallment(principalCents: 1_234, interestCents: 0)]
        )
    }

    /// A 1-month loan repays everything at once with one month's interest, whatever the method.
    @Test(arguments: RepaymentMethod.allCases)
    func oneMonthTerm(method: RepaymentMethod) {
        let plan = Self.plan(1_000_000, bp: 1200, months: 1, method)
        #expect(plan == [PlannedInstallment(principalCents: 1_000_000, interestCents: 10_000)])
        // 12.5 %: 1,000,000 · 1250 / 120,000 = 10,416.67 → 10,417.
        #expect(
            Self.plan(1_000_000, bp: 1250, months: 1, method)
                == [PlannedInstallment(principalCents: 1_000_000, interestCents: 10_417)])
    }

    /// 10,000.00 at 24 % over 36 months, 等额本息: A = 392.33 (exactly 39,232.85… cents), last 384.54 + 7.69.
    @Test func epiThirtySixMonths() {
        let plan = Self.plan(1_000_000, bp: 2400, months: 36, .epi)
        #expect(plan.count == 36)
        #expect(plan[0] == PlannedInstallment(principalCents: 19_233, interestCents: 20_000))
        #expect(plan[1] == PlannedInstallment(principalCents: 19_618, interestCents: 19_615))
        #expect(plan[35] == PlannedInstallment(principalCents: 38_454, interestCents: 769))
        #expect(plan.reduce(0) { $0 + $1.interestCents } == 412_378)
        Self.checkInvariants(plan, principal: 1_000_000, bp: 2400, months: 36, method: .epi, annuity: 39_233)
    }

    /// 0.01 % a year: r = 1/120,000 a month. 10,000.00 over 36 months: A = 277.82 (27,782.06… cents); interest
    /// starts at round(8.33) = 8 cents and reaches 0; the last installment repays 277.83.
    @Test func epiTinyRate() {
        let plan = Self.plan(1_000_000, bp: 1, months: 36, .epi)
        #expect(plan[0] == PlannedInstallment(principalCents: 27_774, interestCents: 8))
        #expect(plan[35] == PlannedInstallment(principalCents: 27_783, interestCents: 0))
        #expect(plan.reduce(0) { $0 + $1.interestCents } == 153)
        Self.checkInvariants(plan, principal: 1_000_000, bp: 1, months: 36, method: .epi, annuity: 27_782)
    }

    /// 50.00 (the minimum bid) at 12 % over 36 months: A = 1.66 (166.07… cents), first interest 0.50.
    @Test func epiFiftyYuan() {
        let plan = Self.plan(5_000, bp: 1200, months: 36, .epi)
        let expected = Self.table(
            principals: [
                116, 117, 118, 120, 121, 122, 123, 124, 126, 127, 128, 129, 131, 132, 133, 135, 136, 137,
                139, 140, 142, 143, 144, 146, 147, 149, 150, 152, 153, 155, 156, 158, 159, 161, 163, 168,
            ],
            interests: [
                50, 49, 48, 46, 45, 44, 43, 42, 40, 39, 38, 37, 35, 34, 33, 31, 30, 29,
                27, 26, 24, 23, 22, 20, 19, 17, 16, 14, 13, 11, 10, 8, 7, 5, 3, 2,
            ])
        #expect(plan == expected)
        Self.checkInvariants(plan, principal: 5_000, bp: 1200, months: 36, method: .epi, annuity: 166)
        // 0.01 % on 50.00 rounds every interest to 0; the plan is then P/n with the remainder last, but as epi:
        // A = round(138.89…) = 139, the last takes 135.
        let tiny = Self.plan(5_000, bp: 1, months: 36, .epi)
        #expect(tiny.dropLast().allSatisfy { $0 == PlannedInstallment(principalCents: 139, interestCents: 0) })
        #expect(tiny[35] == PlannedInstallment(principalCents: 135, interestCents: 0))
    }

    /// The annuity is the exact rational rounded half up; these were computed with exact fractions elsewhere
    /// (the fractional part in the comment shows how far from a rounding boundary each one is).
    @Test(arguments: [
        // (principal, bp, months, annuity)
        (Int64(1_000_000), Int32(1200), 12, Int64(88_849)),  // 88,848.7887
        (1_000_000, 2400, 36, 39_233),  // 39,232.8526
        (1_000_000_000, 1000, 36, 32_267_187),  // 32,267,187.1938
        (5_000, 1200, 36, 166),  // 166.0715
        (1_000_000, 1, 36, 27_782),  // 27,782.0604
        (1_000_000, 1250, 3, 340_302),  // 340,301.7653
        (1_234_567, 1250, 24, 58_404),  // 58,404.0416
        (10_000_000_000_000, 10000, 36, 882_813_739_781),  // 882,813,739,781.3563 (maximum amount, 100 %)
        (1_000_000, 1200, 1, 1_010_000),  // P·(1 + r) exactly
    ])
    func annuityIsExactlyRounded(principal: Int64, bp: Int32, months: Int, annuity: Int64) {
        #expect(
            RepaymentPlan.annuityCents(principalCents: principal, rate: BasisPoints(bp), termMonths: months) == annuity)
        let plan = Self.plan(principal, bp: bp, months: months, .epi)
        Self.checkInvariants(plan, principal: principal, bp: bp, months: months, method: .epi, annuity: annuity)
    }

    /// 12.5 % over 3 months: the table, by hand. A = 3,403.02; month 1 interest 10,416.67 → 10,417.
    @Test func epiThreeMonthsAtTwelvePointFive() {
        #expect(
            Self.plan(1_000_000, bp: 1250, months: 3, .epi)
                == Self.table(
                    principals: [329_885, 333_322, 336_793], interests: [10_417, 6_980, 3_508]))
    }

    /// A zero rate repays P/n a month (remainder last) with no interest, for every method, bullet included.
    @Test(arguments: RepaymentMethod.allCases)
    func zeroRate(method: RepaymentMethod) {
        let plan = Self.plan(1_000_001, bp: 0, months: 12, method)
        #expect(
            plan
                == Self.table(
                    principals: Array(repeating: 83_333, count: 11) + [83_338],
                    interests: Array(repeating: 0, count: 12)))
        #expect(
            Self.plan(5_000, bp: 0, months: 1, method) == [PlannedInstallment(principalCents: 5_000, interestCents: 0)])
        Self.checkInvariants(plan, principal: 1_000_001, bp: 0, months: 12, method: method)
    }

    /// Every method over a grid of amounts (down to a few cents), rates and terms keeps the guarantees.
    @Test(arguments: RepaymentMethod.allCases)
    func invariantsOverAGrid(method: RepaymentMethod) {
        let amounts: [Int64] = [0, 1, 2, 3, 99, 5_000, 10_000, 1_000_000, 1_234_567, 999_999_999, 10_000_000_000_000]
        let rates: [Int32] = [0, 1, 5, 99, 1200, 1250, 2400, 3600, 10_000]
        let terms = [1, 2, 3, 6, 7, 12, 24, 35, 36]
        for amount in amounts {
            for bp in rates {
                for months in terms {
                    let plan = Self.plan(amount, bp: bp, months: months, method)
                    Self.checkInvariants(plan, principal: amount, bp: bp, months: months, method: method)
                    if method == .epi, bp > 0, amount >= 5_000 {
                        // For real amounts, every installment but the last is exactly A.
                        let annuity = RepaymentPlan.annuityCents(
                            principalCents: amount, rate: BasisPoints(bp), termMonths: months)
                        Self.checkInvariants(
                            plan, principal: amount, bp: bp, months: months, method: method, annuity: annuity)
                    }
                }
            }
        }
    }

    // MARK: - Accrual and penalty

    @Test func accruedInterestForDays() {
        // 10,000.00 at 12 %: 30 days is one month's 100.00, 15 days 50.00, 0 days nothing.
        #expect(RepaymentPlan.accruedInterest(principalCents: 1_000_000, rate: BasisPoints(1200), days: 30) == 10_000)
        #expect(RepaymentPlan.accruedInterest(principalCents: 1_000_000, rate: BasisPoints(1200), days: 15) == 5_000)
        #expect(RepaymentPlan.accruedInterest(principalCents: 1_000_000, rate: BasisPoints(1200), days: 0) == 0)
        // 1 day: 1,000,000 · 1200 / 3,600,000 = 333.33 → 333; 2 days 666.67 → 667.
        #expect(RepaymentPlan.accruedInterest(principalCents: 1_000_000, rate: BasisPoints(1200), days: 1) == 333)
        #expect(RepaymentPlan.accruedInterest(principalCents: 1_000_000, rate: BasisPoints(1200), days: 2) == 667)
        // Exactly half a cent rounds up: 1,500 · 1200 · 1 / 3,600,000 = 0.5; 1,499 gives 0.4997 → 0.
        #expect(RepaymentPlan.accruedInterest(principalCents: 1_500, rate: BasisPoints(1200), days: 1) == 1)
        #expect(RepaymentPlan.accruedInterest(principalCents: 1_499, rate: BasisPoints(1200), days: 1) == 0)
        #expect(RepaymentPlan.accruedInterest(principalCents: 1_000_000, rate: BasisPoints(0), days: 29) == 0)
        // Agrees with the monthly interest of the plan at 30 days, for any remaining principal.
        for remaining: Int64 in [1, 7, 4_999, 5_000, 87_967, 921_151, 10_000_000_000_000] {
            for bp: Int32 in [1, 1200, 1250, 10_000] {
                #expect(
                    RepaymentPlan.accruedInterest(principalCents: remaining, rate: BasisPoints(bp), days: 30)
                        == Self.monthlyInterest(remaining, bp))
            }
        }
    }

    @Test func penaltyIsSimpleAndRoundedOnce() {
        // 0.05 % a day on 888.49 for 10 days: 88,849 · 5 · 10 / 10,000 = 444.245 → 444.
        #expect(RepaymentPlan.penalty(overdueCents: 88_849, ratePerDay: BasisPoints(5), days: 10) == 444)
        // 3 days on 10,000.00: 15.00.
        #expect(RepaymentPlan.penalty(overdueCents: 1_000_000, ratePerDay: BasisPoints(5), days: 3) == 1_500)
        // Half a cent rounds up (10.00 for 1 day = 0.5), just below it down.
        #expect(RepaymentPlan.penalty(overdueCents: 1_000, ratePerDay: BasisPoints(5), days: 1) == 1)
        #expect(RepaymentPlan.penalty(overdueCents: 999, ratePerDay: BasisPoints(5), days: 1) == 0)
        // Rounded once over all days, not per day: 999 for 2 days = 0.999 → 1 (per day would give 0 + 0).
        #expect(RepaymentPlan.penalty(overdueCents: 999, ratePerDay: BasisPoints(5), days: 2) == 1)
        #expect(RepaymentPlan.penalty(overdueCents: 1_000_000, ratePerDay: BasisPoints(5), days: 0) == 0)
    }

    // MARK: - Largest remainder

    static func split(_ total: Int64, _ weights: [Int64]) -> [Int64] {
        var result: [Int64] = []
        RepaymentPlan.splitLargestRemainder(totalCents: total, weights: weights, into: &result)
        return result
    }

    @Test func splitExamples() {
        // 1.00 in three equal parts: the extra cent to the first (ties to the lower index).
        #expect(Self.split(100, [1, 1, 1]) == [34, 33, 33])
        #expect(Self.split(200, [1, 1, 1]) == [67, 67, 66])
        #expect(Self.split(7, [5, 5, 5, 5]) == [2, 2, 2, 1])
        // 10 by 1:2 = 3.33 : 6.67, the larger remainder (the later claim) gets the cent.
        #expect(Self.split(10, [1, 2]) == [3, 7])
        // Zero weights get nothing, even with cents left over.
        #expect(Self.split(3, [1, 0, 1]) == [2, 0, 1])
        #expect(Self.split(5, [0, 0, 7]) == [0, 0, 5])
        #expect(Self.split(0, [3, 4]) == [0, 0])
        #expect(Self.split(88_849, [1_000_000]) == [88_849])
        // Claims of 50.00, 30.00, 20.00 sharing 0.01: the largest exact share (0.005) wins.
        #expect(Self.split(1, [5_000, 3_000, 2_000]) == [1, 0, 0])
        // Remainders 0.6, 0.6, 0.8 of a cent with 2 to give: the 0.8 then the first 0.6.
        #expect(Self.split(2, [3, 3, 4]) == [1, 0, 1])
        // The maximum amount over many weights does not overflow (products in Int128).
        let big = Self.split(10_000_000_000_000, [9_999_999_999_999, 1, 3])
        #expect(big.reduce(0, +) == 10_000_000_000_000)
    }

    @Test func splitReusesTheResultBuffer() {
        var result: [Int64] = []
        result.reserveCapacity(64)
        let address = result.withUnsafeBufferPointer { $0.baseAddress }
        RepaymentPlan.splitLargestRemainder(totalCents: 1_000, weights: Array(repeating: 3, count: 40), into: &result)
        #expect(result.count == 40)
        #expect(result.withUnsafeBufferPointer { $0.baseAddress } == address)
        RepaymentPlan.splitLargestRemainder(totalCents: 1_000, weights: [1, 2, 3], into: &result)
        #expect(result == [167, 333, 500])
        #expect(result.withUnsafeBufferPointer { $0.baseAddress } == address)
        RepaymentPlan.splitLargestRemainder(totalCents: 10, weights: Array(repeating: 1, count: 64), into: &result)
        #expect(result == Array(repeating: 1, count: 10) + Array(repeating: 0, count: 54))
        #expect(result.withUnsafeBufferPointer { $0.baseAddress } == address)
    }

    /// A seeded generator so that failures reproduce.
    typealias SeededGenerator = SplitMix64

    /// The reference: floors, then one cent each to the indices sorted by (remainder desc, index asc).
    static func referenceSplit(_ total: Int64, _ weights: [Int64]) -> [Int64] {
        let sum = Int128(weights.reduce(0, +))
        var shares = weights.map { Int64(Int128(total) * Int128($0) / sum) }
        let remainders = weights.map { Int128(total) * Int128($0) % sum }
        let leftover = Int(total - shares.reduce(0, +))
        let order = weights.indices.sorted { (remainders[$0], -$0) > (remainders[$1], -$1) }
        for index in order.prefix(leftover) { shares[index] += 1 }
        return shares
    }

    @Test func splitProperties() {
        var generator = SeededGenerator(state: 0xB1D_11E)
        var result: [Int64] = []
        for _ in 0..<3_000 {
            let count = Int.random(in: 1...60, using: &generator)
            let style = Int.random(in: 0..<4, using: &generator)
            var weights: [Int64] = (0..<count).map { _ in
                switch style {
                case 0: Int64.random(in: 0...1_000_000_000, using: &generator)  // arbitrary principals
                case 1: Int64.random(in: 1...4, using: &generator) * 5_000  // few distinct values: many ties
                case 2: Int64.random(in: 0...3, using: &generator)  // tiny weights, zeros
                default: Int64.random(in: 1...1_000_000_000_000, using: &generator)  // large
                }
            }
            if weights.allSatisfy({ $0 == 0 }) { weights[Int.random(in: 0..<count, using: &generator)] = 1 }
            let total: Int64 =
                Bool.random(using: &generator)
                ? Int64.random(in: 0...Int64(count) * 3, using: &generator)  // fewer cents than claims
                : Int64.random(in: 0...10_000_000_000_000, using: &generator)

            RepaymentPlan.splitLargestRemainder(totalCents: total, weights: weights, into: &result)
            let context = "total=\(total) weights=\(weights)"
            #expect(result.count == count, "\(context)")
            #expect(result.reduce(0, +) == total, "\(context)")
            let sum = Int128(weights.reduce(0, +))
            // Within one cent of the exact share: floor or floor + 1, and zero for a zero weight.
            let offByMore = (0..<count).filter { index in
                let floor = Int64(Int128(total) * Int128(weights[index]) / sum)
                return !(result[index] == floor || result[index] == floor + 1)
                    || (weights[index] == 0 && result[index] != 0)
            }
            #expect(offByMore.isEmpty, "\(context)")
            // Ties go to the lower index: a claim with the same weight (so the same remainder) never gets more
            // than an earlier one.
            var tieBroken = false
            for later in 0..<count {
                for earlier in 0..<later where weights[earlier] == weights[later] && result[earlier] < result[later] {
                    tieBroken = true
                }
            }
            #expect(!tieBroken, "\(context)")
            #expect(result == Self.referenceSplit(total, weights), "\(context)")
        }
    }
}
