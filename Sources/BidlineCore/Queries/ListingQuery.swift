/// `LOAN.LIST` filters, order and paging: which listings, in which order, how many after which.
public struct ListingQuery: Sendable, Equatable {
    /// The sort key; ties are broken by listing id (reversed for `-time`).
    public enum Sort: Sendable, Equatable {
        /// By annual rate.
        case rate
        /// By term in months.
        case term
        /// By listing id, which is creation order.
        case time
    }
    /// Only listings in this status; nil for all (`status=all`).
    public var status: ListingStatus? = .open
    /// The sort key (`sort=`); `time` by default.
    public var sort: Sort = .time
    /// Largest first (`sort=-rate`, `-term`, `-time`).
    public var descending = false
    /// Annual rate range in basis points, inclusive.
    public var rate: ClosedRange<Int32>? = nil
    /// Term range in months, inclusive.
    public var term: ClosedRange<UInt8>? = nil
    /// Accepted grades as a bit set (`Grade.bit`); all five by default.
    public var grades: UInt8 = 0b1_1111
    /// Only listings of this loan type; nil for all.
    public var type: LoanType? = nil
    /// The page length, 1 to 10 000 (the parser bounds it).
    public var limit = 50
    /// Continue after this listing (in id order for `time`, otherwise after its position in the sort).
    public var after: ListingID? = nil
    /// The default query: open listings, oldest first, 50 a page.
    public init() {}

    /// Whether `listing` passes the filters (status, rate, term, grade, type); the cursor is not a filter.
    public func matches(_ listing: Listing) -> Bool {
        if let status, listing.status != status { return false }
        if let rate, !rate.contains(listing.terms.rate.value) { return false }
        if let term, !term.contains(listing.terms.termMonths) { return false }
        if grades & listing.terms.grade.bit == 0 { return false }
        if let type, listing.terms.type != type { return false }
        return true
    }
}

extension Engine {
    /// The page of `LOAN.LIST`: the indexes (`ListingID.index`) of the first `query.limit` listings that match
    /// the filters and come after `query.after` in the requested order, in that order.
    ///
    /// `after=` continues after that listing's place in the order whether or not it still matches the filters
    /// (a listing that closed between two pages does not restart the paging); a cursor that names no listing
    /// throws `noSuchListing` (restarting would loop a bot). One scan that keeps only the page, in a sorted
    /// buffer of at most `limit` entries (no sort of every match, no allocation per listing): of the open
    /// listings for `status=open`, else of the book. In id order (`sort=time`, `-time`) over all listings or a
    /// status other than `open`, it walks the book from the cursor and stops at a full page: O(page), not O(book).
    public func listingPage(_ query: ListingQuery) throws(RejectCode) -> [Int] {
        let listings = state.listings
        if let cursor = query.after, !(0..<listings.count).contains(cursor.index) { throw .noSuchListing }
        let after = query.after?.index
        var page: [Int] = []
        page.reserveCapacity(min(query.limit, 1_024))
        if query.sort == .time && query.status != .open {
            // Id order is the listings' own order: walk it from the cursor and stop at a full page (a page of
            // `status=all` costs its length, not the book's).
            if query.descending {
                var index = (after ?? listings.count) - 1
                while index >= 0 && page.count < query.limit {
                    if query.matches(listings[index]) { page.append(index) }
                    index -= 1
                }
            } else {
                var index = (after ?? -1) + 1
                while index < listings.count && page.count < query.limit {
                    if query.matches(listings[index]) { page.append(index) }
                    index += 1
                }
            }
            return page
        }
        func key(_ index: Int) -> Int64 {
            switch query.sort {
            case .rate: Int64(listings[index].terms.rate.value)
            case .term: Int64(listings[index].terms.termMonths)
            case .time: Int64(index)
            }
        }
        /// Whether listing `a` comes before listing `b` in the requested order (ties in id order, reversed for
        /// `-time`).
        func precedes(_ a: Int, _ b: Int) -> Bool {
            let (ka, kb) = (key(a), key(b))
            if ka != kb { return query.descending ? ka > kb : ka < kb }
            return query.descending && query.sort == .time ? a > b : a < b
        }
        func consider(_ index: Int) {
            guard query.matches(listings[index]) else { return }
            if let after, !precedes(after, index) { return }
            if page.count == query.limit {
                guard let last = page.last, precedes(index, last) else { return }
                page.removeLast()
            }
            var low = 0
            var high = page.count
            while low < high {
                let middle = (low + high) / 2
                if precedes(page[middle], index) { low = middle + 1 } else { high = middle }
            }
            page.insert(index, at: low)
        }
        // `status=open` (the default) looks at the open listings only, in no particular order: the page buffer
        // puts them in order.
        if query.status == .open {
            for index in openListingIndexes { consider(Int(index)) }
        } else {
            for index in 0..<listings.count { consider(index) }
        }
        return page
    }
}
