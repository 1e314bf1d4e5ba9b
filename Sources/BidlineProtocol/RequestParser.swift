import BidlineCore

/// Parses request lines (bytes, not Strings) into ``Request`` values, in the protocol's check order: the verb is
/// looked up first (`UNKNOWN_VERB`), the caller checks the session and role, then the arguments are parsed
/// (`BAD_ARGUMENT`, `BAD_AMOUNT`). One parser per connection; it reuses its buffers, so a `BID` without `ref=`
/// parses without allocating.
public struct RequestParser: Sendable {
    var tokenizer = Tokenizer()
    /// Argument buffers lent to each parse and taken back, so their capacity is reused (no allocation).
    var positionalScratch: [Range<Int>] = []
    var optionsScratch: [(key: Range<Int>, value: Range<Int>)] = []

    public init() {
        positionalScratch.reserveCapacity(Tokenizer.maxTokens)
        optionsScratch.reserveCapacity(Tokenizer.maxTokens)
    }

    /// Finds the verb of `line`. Returns nil for a blank line (which gets no reply).
    public mutating func parseVerb(_ line: UnsafeRawBufferPointer) throws(ProtocolError) -> VerbSpec? {
        guard tokenizer.tokenize(line) else { throw ProtocolError(.badArgument, "too many tokens (at most \(Tokenizer.maxTokens))") }
        guard let first = tokenizer.tokens.first else { return nil }
        guard let spec = CommandTable.lookUp(UnsafeRawBufferPointer(rebasing: line[first])) else {
            throw ProtocolError(.unknownVerb, "unknown verb '\(Self.printable(line[first]))' (try HELP)")
        }
        return spec
    }

    /// Parses the arguments of `line` for `spec` (after ``parseVerb(_:)`` on the same line).
    public mutating func parseArguments(_ spec: VerbSpec, _ line: UnsafeRawBufferPointer) throws(ProtocolError) -> Request {
        var arguments = Arguments(line: line, tokens: tokenizer.tokens, spec: spec)
        swap(&arguments.positional, &positionalScratch)
        swap(&arguments.options, &optionsScratch)
        defer {
            arguments.positional.removeAll(keepingCapacity: true)
            arguments.options.removeAll(keepingCapacity: true)
            swap(&arguments.positional, &positionalScratch)
            swap(&arguments.options, &optionsScratch)
        }
        try arguments.split()
        switch spec.verb {
        case .ping: return .ping
        case .quit: return .quit
        case .whoami: return .whoami
        case .help: return .help(verb: arguments.positional.count > 0 ? arguments.string(0) : nil)
        case .auth: return .auth(user: arguments.string(0), token: arguments.string(1))
        case .userAdd:
            let id = try arguments.userID(0)
            guard let rolesText = arguments.option("roles") else { throw ProtocolError(.badArgument, "roles= is required") }
            guard let roles = Roles.parse(Substring(rolesText)) else { throw ProtocolError(.badArgument, "bad roles '\(rolesText)'") }
            var kind = UserKind.person
            if let text = arguments.option("kind") {
                guard let parsed = UserKind.allCases.first(where: { $0.wireText == text }) else {
                    throw ProtocolError(.badArgument, "kind must be person or company")
                }
                kind = parsed
            }
            let verified = try arguments.flag("verified") ?? false
            let risk = try arguments.riskLevel() ?? 1
            return .userAdd(NewUser(id: id, roles: roles, kind: kind, verified: verified, riskLevel: risk))
        case .userSet:
            let id = try arguments.userID(0)
            return .userSet(
                id: id,
                UserChange(verified: try arguments.flag("verified"), riskLevel: try arguments.riskLevel(), blacklisted: try arguments.flag("blacklist")))
        case .loanApprove: return .loanApprove(try arguments.listing(0))
        case .loanReject: return .loanReject(try arguments.listing(0))
        case .loanCancel: return .loanCancel(try arguments.listing(0))
        case .loanDisburse: return .loanDisburse(try arguments.listing(0))
        case .loanRepay: return .loanRepay(try arguments.listing(0))
        case .loanPayoff: return .loanPayoff(try arguments.listing(0))
        case .loanGet: return .loanGet(try arguments.listing(0))
        case .loanPlan: return .loanPlan(try arguments.listing(0))
        case .feeSet:
            var change = SettingsChange()
            change.serviceFee = try arguments.percent("service")
            change.interestFee = try arguments.percent("interest")
            change.transferFee = try arguments.percent("transfer")
            change.penaltyRate = try arguments.percent("penalty")
            change.autoBidShare = try arguments.percent("autoshare")
            if let text = arguments.option("holding") {
                guard let millis = Self.duration(text) else { throw ProtocolError(.badArgument, "holding= must be like 30d") }
                change.transferHoldingMillis = millis
            }
            return .feeSet(change)
        case .clock: return .clock
        case .clockAdvance:
            guard let millis = Self.duration(arguments.string(0)), millis > 0 else {
                throw ProtocolError(.badArgument, "duration must be a positive number with a unit: 90s, 15m, 2h, 30d")
            }
            return .clockAdvance(millis: millis)
        case .snapshot: return .snapshot
        case .reconcile: return .reconcile
        case .stats: return .stats
        case .metrics: return .metrics
        case .deposit, .withdraw:
            let user = try arguments.userID(0)
            let amount = try arguments.positiveAmount(1)
            let ref = try arguments.ref()
            return spec.verb == .deposit ? .deposit(user: user, amount: amount, ref: ref) : .withdraw(user: user, amount: amount, ref: ref)
        case .loanNew:
            return .loanNew(try arguments.listingTerms())
        case .bid:
            let listing = try arguments.listing(0)
            let amount = try arguments.positiveAmount(1)
            let ref = try arguments.ref()
            let aon = try arguments.flag("aon") ?? false
            return .bid(listing: listing, amount: amount, ref: ref, allOrNone: aon)
        case .autoSet:
            return .autoSet(try arguments.autoBidRule())
        case .autoOff: return .autoOff
        case .autoGet: return .autoGet
        case .claimSell:
            let claim = try arguments.prefixed(0, "C", ClaimID.init)
            guard let principal = arguments.option("principal"), let price = arguments.option("price") else {
                throw ProtocolError(.badArgument, "principal= and price= are required")
            }
            return .claimSell(claim, principal: try Arguments.positiveAmount(principal), price: try Arguments.positiveAmount(price))
        case .claimBuy:
            return .claimBuy(try arguments.prefixed(0, "T", OfferID.init), principal: try arguments.positiveAmount(1))
        case .claimWithdraw:
            return .claimWithdraw(try arguments.prefixed(0, "T", OfferID.init))
        case .balance:
            return .balance(user: arguments.positional.count > 0 ? try arguments.userOrSystem(0) : nil)
        case .holdings:
            return .holdings(user: arguments.positional.count > 0 ? try arguments.userID(0) : nil)
        case .ledger:
            let user = arguments.positional.count > 0 ? try arguments.userOrSystem(0) : nil
            return .ledger(user: user, limit: try arguments.limit(default: 50))
        case .loanBids:
            let listing = try arguments.listing(0)
            let after = try arguments.option("after").map { (text: String) throws(ProtocolError) -> BidID in
                guard let number = parsePrefixedNumber(text.utf8, prefix: UInt8(ascii: "B")) else {
                    throw ProtocolError(.badArgument, "after= must be a bid id like B42")
                }
                return BidID(number)
            }
            return .loanBids(listing, limit: try arguments.limit(default: 1000), after: after)
        case .loanList:
            return .loanList(try arguments.listingQuery())
        case .subscribe:
            var topics: [Topic] = []
            for index in 0..<arguments.positional.count {
                let name = arguments.string(index).lowercased()
                guard let topic = Topic.allCases.first(where: { $0.wireText == name }) else {
                    throw ProtocolError(.badArgument, "unknown topic '\(name)' (loans, account)")
                }
                if !topics.contains(topic) { topics.append(topic) }
            }
            return .subscribe(topics)
        }
    }

    /// `90s`, `15m`, `2h`, `30d` (or plain milliseconds `1500ms`) in milliseconds; nil when malformed.
    public static func duration(_ text: String) -> Int64? {
        var digits = Substring(text)
        let unit: Int64
        if digits.hasSuffix("ms") {
            unit = 1
            digits = digits.dropLast(2)
        } else if let last = digits.last {
            switch last {
            case "s": unit = 1_000
            case "m": unit = 60_000
            case "h": unit = 3_600_000
            case "d": unit = 86_400_000
            default: return nil
            }
            digits = digits.dropLast()
        } else {
            return nil
        }
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(digits) else {
            return nil
        }
        return value * unit
    }

    /// A token for messages: printable ASCII only, at most 40 bytes.
    static func printable(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        String(decoding: bytes.prefix(40).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}

/// The positional arguments and `key=value` options of one line.
struct Arguments {
    let line: UnsafeRawBufferPointer
    let tokens: [Range<Int>]
    let spec: VerbSpec
    var positional: [Range<Int>] = []
    var options: [(key: Range<Int>, value: Range<Int>)] = []

    init(line: UnsafeRawBufferPointer, tokens: [Range<Int>], spec: VerbSpec) {
        self.line = line
        self.tokens = tokens
        self.spec = spec
    }

    mutating func split() throws(ProtocolError) {
        for token in tokens.dropFirst() {
            if let equals = line[token].firstIndex(of: UInt8(ascii: "=")) {
                let key = token.lowerBound..<equals
                let value = (equals + 1)..<token.upperBound
                let keyText = String(decoding: UnsafeRawBufferPointer(rebasing: line[key]), as: UTF8.self).lowercased()
                guard spec.keys.contains(keyText) else {
                    throw ProtocolError(.badArgument, "unknown option '\(RequestParser.printable(line[key]))=' for \(spec.name)")
                }
                guard !options.contains(where: { self.text($0.key).lowercased() == keyText }) else {
                    throw ProtocolError(.badArgument, "option '\(keyText)=' given twice")
                }
                guard !value.isEmpty else { throw ProtocolError(.badArgument, "option '\(keyText)=' has no value") }
                options.append((key, value))
            } else {
                positional.append(token)
            }
        }
        guard positional.count >= spec.minArguments else {
            throw ProtocolError(.badArgument, "missing argument: usage \(spec.usage)")
        }
        guard positional.count <= spec.maxArguments else {
            throw ProtocolError(.badArgument, "too many arguments: usage \(spec.usage)")
        }
    }

    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: line[range]) }
    func text(_ range: Range<Int>) -> String { String(decoding: bytes(range), as: UTF8.self) }
    func string(_ index: Int) -> String { text(positional[index]) }

    func option(_ key: String) -> String? {
        for option in options where text(option.key).lowercased() == key { return text(option.value) }
        return nil
    }

    func userID(_ index: Int) throws(ProtocolError) -> String {
        guard isValidUserID(bytes(positional[index])) else {
            throw ProtocolError(.badArgument, "bad user id '\(RequestParser.printable(line[positional[index]]))' ([a-z0-9_.-]{1,32})")
        }
        return string(index)
    }

    /// A user id, or the system accounts `bank` / `platform`.
    func userOrSystem(_ index: Int) throws(ProtocolError) -> String { try userID(index) }

    func listing(_ index: Int) throws(ProtocolError) -> ListingID {
        try prefixed(index, "L", ListingID.init)
    }

    func prefixed<ID>(_ index: Int, _ prefix: Character, _ make: (UInt32) -> ID) throws(ProtocolError) -> ID {
        guard let number = parsePrefixedNumber(bytes(positional[index]), prefix: prefix.asciiValue!) else {
            throw ProtocolError(.badArgument, "bad id '\(RequestParser.printable(line[positional[index]]))' (expected \(prefix)<number>)")
        }
        return make(number)
    }

    func positiveAmount(_ index: Int) throws(ProtocolError) -> Money {
        guard let money = Money.parse(bytes(positional[index])), money.cents > 0 else {
            throw ProtocolError(.badAmount, "bad amount '\(RequestParser.printable(line[positional[index]]))' (yuan, at most two decimals, > 0)")
        }
        return money
    }

    static func positiveAmount(_ text: String) throws(ProtocolError) -> Money {
        guard let money = Money.parsePositive(text) else {
            throw ProtocolError(.badAmount, "bad amount '\(text.prefix(40))' (yuan, at most two decimals, > 0)")
        }
        return money
    }

    func moneyOption(_ key: String, allowZero: Bool = false) throws(ProtocolError) -> Money? {
        guard let text = option(key) else { return nil }
        guard let money = Money.parse(text), allowZero || money.cents > 0 else {
            throw ProtocolError(.badAmount, "bad amount for \(key)= '\(text.prefix(40))'")
        }
        return money
    }

    func flag(_ key: String) throws(ProtocolError) -> Bool? {
        guard let text = option(key) else { return nil }
        switch text {
        case "1": return true
        case "0": return false
        default: throw ProtocolError(.badArgument, "\(key)= must be 0 or 1")
        }
    }

    func riskLevel() throws(ProtocolError) -> UInt8? {
        guard let text = option("risk") else { return nil }
        guard text.count == 1, let value = UInt8(text), (1...5).contains(value) else {
            throw ProtocolError(.badArgument, "risk= must be 1 to 5")
        }
        return value
    }

    func percent(_ key: String) throws(ProtocolError) -> BasisPoints? {
        guard let text = option(key) else { return nil }
        guard let value = BasisPoints.parsePercent(text) else {
            throw ProtocolError(.badArgument, "\(key)= must be a percentage 0 to 100 with at most two decimals")
        }
        return value
    }

    func ref() throws(ProtocolError) -> Ref? {
        guard let text = option("ref") else { return nil }
        guard let ref = Ref(text) else { throw ProtocolError(.badArgument, "ref= must be 1-64 of [A-Za-z0-9_.:-]") }
        return ref
    }

    func limit(default value: Int) throws(ProtocolError) -> Int {
        guard let text = option("limit") else { return value }
        guard text.count <= 5, let limit = Int(text), limit >= 1, limit <= 10_000 else {
            throw ProtocolError(.badArgument, "limit= must be 1 to 10000")
        }
        return limit
    }

    /// `8-15` (percent, decimals allowed) as basis points.
    func rateRange(_ key: String) throws(ProtocolError) -> ClosedRange<Int32>? {
        guard let text = option(key) else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = BasisPoints.parsePercent(String(parts[0])),
            let high = BasisPoints.parsePercent(String(parts[1])), low <= high
        else { throw ProtocolError(.badArgument, "\(key)= must be a range like 8-15") }
        return low.value...high.value
    }

    func termRange(_ key: String) throws(ProtocolError) -> ClosedRange<UInt8>? {
        guard let text = option(key) else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count <= 2 }), let low = UInt8(parts[0]), let high = UInt8(parts[1]),
            low >= 1, low <= high, high <= 36
        else { throw ProtocolError(.badArgument, "\(key)= must be a month range like 1-12") }
        return low...high
    }

    func grades(_ key: String) throws(ProtocolError) -> UInt8? {
        guard let text = option(key) else { return nil }
        var bits: UInt8 = 0
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let grade = Grade.parse(part) else { throw ProtocolError(.badArgument, "\(key)= must be grades like A,B,C") }
            bits |= grade.bit
        }
        return bits
    }

    func autoBidRule() throws(ProtocolError) -> AutoBidRule {
        var rule = AutoBidRule()
        if let rate = try rateRange("rate") {
            rule.rateMin = BasisPoints(rate.lowerBound)
            rule.rateMax = BasisPoints(rate.upperBound)
        }
        if let term = try termRange("term") {
            rule.termMin = term.lowerBound
            rule.termMax = term.upperBound
        }
        if let grades = try grades("grades") { rule.grades = grades }
        if let text = option("methods") {
            var bits: UInt8 = 0
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let method = RepaymentMethod.parse(part) else {
                    throw ProtocolError(.badArgument, "methods= must be like epi,ep,ifo,bullet")
                }
                bits |= method.bit
            }
            rule.methods = bits
        }
        rule.maxPerListing = try moneyOption("max")
        rule.reserve = try moneyOption("reserve", allowZero: true) ?? .zero
        return rule
    }

    func listingTerms() throws(ProtocolError) -> ListingTerms {
        guard let amountText = option("amount"), let rateText = option("rate"), let termText = option("term"),
            let methodText = option("method"), let gradeText = option("grade")
        else { throw ProtocolError(.badArgument, "amount=, rate=, term=, method= and grade= are required") }
        let amount = try Self.positiveAmount(amountText)
        guard let rate = BasisPoints.parsePercent(rateText) else {
            throw ProtocolError(.badArgument, "rate= must be an annual percentage with at most two decimals")
        }
        guard termText.count <= 2, let term = UInt8(termText), (1...36).contains(term) else {
            throw ProtocolError(.badArgument, "term= must be 1 to 36 months")
        }
        guard let method = RepaymentMethod.parse(Substring(methodText)) else {
            throw ProtocolError(.badArgument, "method= must be epi, ep, ifo or bullet")
        }
        guard let grade = Grade.parse(Substring(gradeText)) else { throw ProtocolError(.badArgument, "grade= must be A to E") }
        var terms = ListingTerms(amount: amount, rate: rate, termMonths: term, method: method, grade: grade)
        if let text = option("type") {
            guard let type = LoanType.parse(Substring(text)) else {
                throw ProtocolError(.badArgument, "type= must be credit, consumer or auto")
            }
            terms.type = type
        }
        if let min = try moneyOption("min") { terms.minBid = min }
        if let step = try moneyOption("step") { terms.step = step }
        terms.cap = try moneyOption("cap")
        terms.newcomerOnly = try flag("newcomer") ?? false
        if let text = option("window") {
            guard let millis = RequestParser.duration(text) else { throw ProtocolError(.badArgument, "window= must be like 72h") }
            terms.windowMillis = millis
        }
        return terms
    }

    func listingQuery() throws(ProtocolError) -> ListingQuery {
        var query = ListingQuery()
        if let text = option("status") {
            if text == "all" {
                query.status = nil
            } else {
                guard let status = ListingStatus.parse(Substring(text)) else {
                    throw ProtocolError(.badArgument, "status= must be pending, open, full, repaying, settled, failed or all")
                }
                query.status = status
            }
        }
        if let text = option("sort") {
            let descending = text.hasPrefix("-")
            switch descending ? String(text.dropFirst()) : text {
            case "rate": query.sort = .rate
            case "term": query.sort = .term
            case "time": query.sort = .time
            default: throw ProtocolError(.badArgument, "sort= must be rate, term or time, optionally with a leading -")
            }
            query.descending = descending
        }
        query.rate = try rateRange("rate")
        query.term = try termRange("term")
        if let grades = try grades("grade") { query.grades = grades }
        if let text = option("type") {
            guard let type = LoanType.parse(Substring(text)) else { throw ProtocolError(.badArgument, "type= must be credit, consumer or auto") }
            query.type = type
        }
        query.limit = try limit(default: 50)
        if let text = option("after") {
            guard let number = parsePrefixedNumber(text.utf8, prefix: UInt8(ascii: "L")) else {
                throw ProtocolError(.badArgument, "after= must be a listing id like L42")
            }
            query.after = ListingID(number)
        }
        return query
    }
}
