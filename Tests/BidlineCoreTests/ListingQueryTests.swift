import Testing

@testable import BidlineCore

/// `Engine.listingPage(_:)` (`LOAN.LIST`) against a reference that filters and sorts every listing: each order,
/// each status, filters, and paging by cursor until the end.
@Suite struct ListingPageTests {
    /// A book of 24 listings: rates, terms, grades and types in a pattern with ties, in every status but
    /// repaying (pending, open, full, failed).
    static func book() -> Fixture {
        var f = Fixture()
        let borrower = f.user("b", roles: .borrower, deposit: 1_000)
        let investor = f.user("i", deposit: 100_000)
        for number in 0..<24 {
            let terms = ListingTerms(
                amount: Money(yuan: 1_000), rate: BasisPoints(Int32(800 + 100 * (number % 5))),
                termMonths: UInt8(1 + number % 4 * 3), method: .epi, grade: Grade.allCases[number % 5],
                type: LoanType.allCases[number % 3])
            guard case .listing(let id, .pending) = f.ok(.submitListing(borrower, terms)) else {
                fatalError("listing not created")
            }
            switch number % 6 {
            case 0: break  // stays pending
            case 1:  // full
                f.ok(.approve(id))
                f.bid(investor, id, 100_000)
            case 2:  // failed
                f.ok(.approve(id))
                f.ok(.cancel(id))
            default: f.ok(.approve(id))  // open
            }
        }
        return f
    }

    /// Every matching listing in the requested order, by a full sort (ties in id order, reversed for `-time`).
    static func reference(_ engine: Engine, _ query: ListingQuery) -> [Int] {
        let listings = engine.state.listings
        func key(_ index: Int) -> Int64 {
            switch query.sort {
            case .rate: Int64(listings[index].terms.rate.value)
            case .term: Int64(listings[index].terms.termMonths)
            case .time: Int64(index)
            }
        }
        let everything = (0..<listings.count).sorted { a, b in
            if key(a) != key(b) { return query.descending ? key(a) > key(b) : key(a) < key(b) }
            return query.sort == .time && query.descending ? a > b : a < b
        }
        var order = everything
        if let after = query.after, let position = everything.firstIndex(of: after.index) {
            order = Array(everything[(position + 1)...])
        }
        return Array(order.filter { query.matches(listings[$0]) }.prefix(query.limit))
    }

    static let statuses: [ListingStatus?] = [.open, nil, .pending, .full, .failed]
    static let sorts: [(ListingQuery.Sort, Bool)] = [
        (.time, false), (.time, true), (.rate, false), (.rate, true), (.term, false), (.term, true),
    ]

    @Test(arguments: statuses)
    func everyOrderPagesToTheEnd(status: ListingStatus?) throws {
        let engine = Self.book().engine
        for (sort, descending) in Self.sorts {
            for limit in [1, 3, 50] {
                var query = ListingQuery()
                query.status = status
                query.sort = sort
                query.descending = descending
                query.limit = limit
                var seen: [Int] = []
                var pages = 0
                while true {
                    let page = try engine.listingPage(query)
                    #expect(page == Self.reference(engine, query), "\(query)")
                    seen += page
                    pages += 1
                    guard page.count == limit, let last = page.last, pages < 100 else { break }
                    query.after = ListingID(UInt32(last + 1))
                }
                query.after = nil
                query.limit = 10_000
                #expect(seen == Self.reference(engine, query), "status \(String(describing: status)) \(sort)")
            }
        }
    }

    @Test func filtersCombine() throws {
        let engine = Self.book().engine
        var query = ListingQuery()
        query.status = nil
        query.rate = 900...1000
        query.term = 4...10
        query.grades = Grade.b.bit | Grade.c.bit
        query.type = .consumer
        let page = try engine.listingPage(query)
        #expect(page == Self.reference(engine, query))
        for index in page {
            let terms = engine.state.listings[index].terms
            #expect((900...1000).contains(terms.rate.value) && (4...10).contains(terms.termMonths))
            #expect(terms.grade == .b || terms.grade == .c)
            #expect(terms.type == .consumer)
        }
        query.grades = 0
        #expect(try engine.listingPage(query) == [])
    }

    @Test func aCursorThatNoLongerMatchesKeepsItsPlace() throws {
        var f = Self.book()
        var query = ListingQuery()
        query.sort = .rate
        query.limit = 2
        let first = try f.engine.listingPage(query)
        // The last listing of the page closes between two pages: the next page starts after its place anyway.
        let closed = ListingID(UInt32(first[1] + 1))
        f.ok(.cancel(closed))
        query.after = closed
        let second = try f.engine.listingPage(query)
        #expect(second == Self.reference(f.engine, query))
        #expect(Set(first).isDisjoint(with: second))
    }

    @Test(arguments: [0, 25, 1_000] as [UInt32])
    func aCursorNamingNoListingIsRefused(number: UInt32) {
        let engine = Self.book().engine
        for status in Self.statuses {
            var query = ListingQuery()
            query.status = status
            query.after = ListingID(number)
            #expect(throws: RejectCode.noSuchListing) { try engine.listingPage(query) }
        }
    }
}
