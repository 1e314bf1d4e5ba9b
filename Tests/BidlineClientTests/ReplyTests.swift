import Testing

@testable import BidlineClient

/// Reply parsing and the retry classification, without a server.
struct ReplyTests {
    @Test func parsesOKAndERR() {
        let ok = BidlineClient.Reply(line: "OK bid=B1 listing=L7 amount=500.00 remaining=1500.00 full=0")
        #expect(ok.isOK)
        #expect(ok["bid"] == "B1")
        #expect(ok["remaining"] == "1500.00")
        #expect(ok.errorCode == nil)
        let error = BidlineClient.Reply(line: "ERR BAD_ARGUMENT option 'x=' given twice")
        #expect(!error.isOK)
        #expect(error.errorCode == "BAD_ARGUMENT")
        #expect(error.errorMessage == "option 'x=' given twice")
        #expect(error.fields.isEmpty)
        #expect(BidlineClient.Reply(line: "OK pong").isOK)
        #expect(BidlineClient.Reply(line: "OKAY").isOK == false)
    }

    @Test func announcesRows() {
        #expect(BidlineClient.Reply.announcedRowCount("OK rows=3") == 3)
        #expect(BidlineClient.Reply.announcedRowCount("OK rows=0") == 0)
        #expect(BidlineClient.Reply.announcedRowCount("OK rows=3 more=1") == nil)
        #expect(BidlineClient.Reply.announcedRowCount("OK user=rows=3") == nil)
        let row = BidlineClient.Reply.Row("# TYPE bidline_requests_total counter")
        #expect(row.fields.isEmpty)
    }

    @Test func parsesEvents() {
        let event = BidlineClient.Event("EVENT loan.full listing=L7 at=1700000000000")
        #expect(event.name == "loan.full")
        #expect(event["listing"] == "L7")
    }

    @Test func retriesOnlyReadsAndRefWrites() {
        #expect(RequestSafety.isSafeToRetry("BALANCE"))
        #expect(RequestSafety.isSafeToRetry("loan.list status=all"))
        #expect(RequestSafety.isSafeToRetry("BID L7 100 ref=x1"))
        #expect(RequestSafety.isSafeToRetry("bid L7 100 aon=1 REF=x1"))
        #expect(RequestSafety.isSafeToRetry("DEPOSIT bob 10 ref=d"))
        #expect(RequestSafety.isSafeToRetry("NOSUCHVERB"))
        #expect(!RequestSafety.isSafeToRetry("BID L7 100"))
        #expect(!RequestSafety.isSafeToRetry("BID L7 100 ref="))
        #expect(!RequestSafety.isSafeToRetry("LOAN.REPAY L7"))
        #expect(!RequestSafety.isSafeToRetry("CLOCK.ADVANCE 1d"))
        #expect(!RequestSafety.isSafeToRetry("QUIT"))
        #expect(!RequestSafety.isSafeToRetry("USER.ADD x roles=investor"))
    }
}
