import BidlineTestSupport
import Foundation
import Testing

/// `LOAN.LIST` against a reference computed in the test from the full listing rows: every sort order, the
/// filters, and paging with `after=`, including after a listing that stopped matching between two pages.
@Suite(.serialized) struct ListingQueryTests {
    struct Row: Equatable {
        var id: Int
        var rateBasisPoints: Int
        var term: Int
        var status: String
    }

    static func parse(_ line: String) -> Row {
        let f = fields(line)
        return Row(
            id: Int(f["listing"]!.dropFirst())!, rateBasisPoints: Int(f["rate"]!.replacingOccurrences(of: ".", with: ""))!,
            term: Int(f["term"]!)!, status: f["status"]!)
    }

    /// The expected order: by key (id for `time`), ties by id; a leading `-` reverses the key (and the ids for time).
    static func ordered(_ rows: [Row], _ sort: String) -> [Int] {
        let descending = sort.hasPrefix("-")
        let field = descending ? String(sort.dropFirst()) : sort
        func key(_ row: Row) -> Int {
            switch field {
            case "rate": row.rateBasisPoints
            case "term": row.term
            default: row.id
            }
        }
        return rows.sorted { a, b in
            if key(a) != key(b) { return descending ? key(a) > key(b) : key(a) < key(b) }
            return descending && field == "time" ? a.id > b.id : a.id < b.id
        }.map(\.id)
    }

    @Test func everyOrderAndEveryPageMatchesTheReference() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.connect(admin: true)
        // 6 borrowers × 5 listings, rates and terms with ties; every third stays pending (not open).
        let rates = ["8", "12.5", "10", "12.5", "9.75", "15", "10"]
        let terms = [3, 6, 12, 6, 24, 3, 36]
        var number = 0
        for b in 0..<6 {
            let token = fields(try await admin.call("USER.ADD b\(b) roles=borrower verified=1"))["token"]!
            let borrower = try await server.connect()
            _ = try await borrower.call("AUTH b\(b) \(token)")
            for _ in 0..<5 {
                let rate = rates[number % rates.count]
                let term = terms[(number * 3) % terms.count]
                let reply = try await borrower.call("LOAN.NEW amount=1000 rate=\(rate) term=\(term) method=epi grade=B")
                #expect(reply.hasPrefix("OK listing=L\(number + 1) "), "\(reply)")
                if number % 3 != 2 { #expect(try await admin.call("LOAN.APPROVE L\(number + 1)").hasPrefix("OK")) }
                number += 1
            }
        }
        let all = try await admin.rows("LOAN.LIST status=all limit=10000").map(Self.parse)
        #expect(all.count == 30)
        let open = all.filter { $0.status == "open" }
        #expect(open.count == 20)

        for sort in ["time", "-time", "rate", "-rate", "term", "-term"] {
            let expected = Self.ordered(open, sort)
            let whole = try await admin.rows("LOAN.LIST sort=\(sort) limit=10000").map { Self.parse($0).id }
            #expect(whole == expected, "sort=\(sort)")
            // Pages of 6, each continuing after the last id of the previous one.
            var paged: [Int] = []
            var after = ""
            while true {
                let page = try await admin.rows("LOAN.LIST sort=\(sort) limit=6\(after)").map { Self.parse($0).id }
                if page.isEmpty { break }
                #expect(page.count <= 6)
                paged += page
                after = " after=L\(page.last!)"
            }
            #expect(paged == expected, "paged, sort=\(sort)")
        }

        // Other statuses in id order walk the book from the cursor and stop at a full page: same pages.
        for (status, subset) in [("all", all), ("pending", all.filter { $0.status == "pending" })] {
            for sort in ["time", "-time"] {
                var paged: [Int] = []
                var after = ""
                while true {
                    let page = try await admin.rows("LOAN.LIST status=\(status) sort=\(sort) limit=4\(after)")
                        .map { Self.parse($0).id }
                    if page.isEmpty { break }
                    #expect(page.count <= 4)
                    paged += page
                    after = " after=L\(page.last!)"
                }
                #expect(paged == Self.ordered(subset, sort), "status=\(status) sort=\(sort)")
                #expect(!subset.isEmpty)
            }
        }

        // Filters: rate and term ranges.
        let filtered = try await admin.rows("LOAN.LIST rate=10-12.5 term=6-24 sort=-rate limit=10000").map { Self.parse($0) }
        let reference = Self.ordered(
            open.filter { (1000...1250).contains($0.rateBasisPoints) && (6...24).contains($0.term) }, "-rate")
        #expect(filtered.map(\.id) == reference)
        #expect(!reference.isEmpty)

        // A listing that fills between two pages: the next page still continues after its old place.
        let firstPage = try await admin.rows("LOAN.LIST sort=rate limit=5").map { Self.parse($0) }
        let boundary = try #require(firstPage.last)
        let investorToken = fields(try await admin.call("USER.ADD inv roles=investor verified=1 risk=5"))["token"]!
        _ = try await admin.call("DEPOSIT inv 5000")
        let investor = try await server.connect()
        _ = try await investor.call("AUTH inv \(investorToken)")
        #expect(try await investor.call("BID L\(boundary.id) 1000").contains("full=1"))
        let next = try await admin.rows("LOAN.LIST sort=rate limit=5 after=L\(boundary.id)").map { Self.parse($0).id }
        let stillOpen = open.filter { $0.id != boundary.id }
        let afterBoundary = Self.ordered(stillOpen + [boundary], "rate").drop { $0 != boundary.id }.dropFirst()
        #expect(next == Array(afterBoundary.prefix(5)))

        // A cursor naming no listing is refused, not taken as "from the start" (a paging bot would loop).
        #expect(try await admin.call("LOAN.LIST after=L\(open.count + 1000)").hasPrefix("ERR NO_SUCH_LISTING after=L"))
        #expect(try await admin.call("LOAN.LIST after=L0").hasPrefix("ERR"))
        await server.stop()
    }
}
