import BidlineCore
import BidlineProtocol
import Testing

@Suite struct ReplyParserTests {
    @Test func okFieldsIgnoreTheLeadingWordAndOddSpacing() {
        #expect(
            ReplyParser.fields("OK bid=B1042  listing=L7 amount=500.00   remaining=1500.00 full=0 ")
                == ["bid": "B1042", "listing": "L7", "amount": "500.00", "remaining": "1500.00", "full": "0"])
        #expect(ReplyParser.fields("OK pong").isEmpty)
        #expect(ReplyParser.fields("OK").isEmpty)
        #expect(ReplyParser.fields("").isEmpty)
    }

    @Test func aFieldHasAKeyOfKeyBytesAndMayHaveAnEmptyValueOrAnEqualsSignInIt() {
        #expect(ReplyParser.fields("OK a= =b c=d=e x_y.z-1=2") == ["a": "", "c": "d=e", "x_y.z-1": "2"])
        // Prometheus text is no field.
        #expect(ReplyParser.fields(#"bidline_requests_total{verb="BID"} 12"#).isEmpty)
    }

    @Test func aRepeatedKeyKeepsItsLastValue() {
        #expect(ReplyParser.fields("OK a=1 a=2")["a"] == "2")
        Array("OK a=1 b=x a=2".utf8).withUnsafeBytes { line in
            #expect(ReplyParser.value(of: "a", in: line).map { Array($0) } == Array("2".utf8))
            #expect(ReplyParser.value(of: "b", in: line).map { Array($0) } == Array("x".utf8))
            #expect(ReplyParser.value(of: "c", in: line) == nil)
            var keys: [Bool] = []
            ReplyParser.forEachField(in: line) { key, _ in keys.append(ReplyParser.isKey(key, "a")) }
            #expect(keys == [true, false, true])
        }
    }

    @Test func rowsKeepTheirFieldOrderAndNonFieldRowsHaveNone() {
        let row = "entry=E3 at=1700000000000 kind=deposit amount=100.00 balance=100.00"
        #expect(ReplyParser.orderedFields(row)?.map(\.key) == ["entry", "at", "kind", "amount", "balance"])
        #expect(ReplyParser.orderedFields(row)?.last?.value == "100.00")
        #expect(ReplyParser.orderedFields("# TYPE bidline_requests_total counter") == nil)
        #expect(ReplyParser.orderedFields("a=1 b") == nil)
    }

    @Test func errorLinesGiveTheirCodeAndText() {
        let error = ReplyParser.error("ERR INSUFFICIENT_FUNDS available 10.00 is less than 500.00")
        #expect(error?.code == "INSUFFICIENT_FUNDS")
        #expect(error?.message == "available 10.00 is less than 500.00")
        #expect(ReplyParser.error("ERR  BUSY")?.code == "BUSY")
        #expect(ReplyParser.error("ERR  BUSY")?.message == "")
        #expect(ReplyParser.error("OK bid=B1") == nil)
        Array("ERR LINE_TOO_LONG line longer than 4096 bytes".utf8).withUnsafeBytes { line in
            #expect(ReplyParser.errorCode(line).map { Array($0) } == Array("LINE_TOO_LONG".utf8))
            #expect(!ReplyParser.isOK(line))
        }
        Array("OK".utf8).withUnsafeBytes { #expect(ReplyParser.isOK($0) && ReplyParser.errorCode($0) == nil) }
        Array("OKAY".utf8).withUnsafeBytes { #expect(!ReplyParser.isOK($0)) }
        #expect(ReplyParser.isOK("OK pong") && ReplyParser.isOK("OK") && !ReplyParser.isOK("OKAY"))
    }

    @Test func moneyIsParsedBackToCents() {
        #expect(ReplyParser.money("1500.00")?.cents == 150_000)
        #expect(ReplyParser.money("0.05")?.cents == 5)
        #expect(ReplyParser.money("7")?.cents == 700)
        #expect(ReplyParser.money("1.5")?.cents == 150)
        #expect(ReplyParser.money("-3.07")?.cents == -307)
        #expect(ReplyParser.money("-0.50")?.cents == -50)
        for bad in ["", "-", "--1.00", "1.005", "1e3", "+1", "1.", ".5", "abc"] {
            #expect(ReplyParser.money(bad) == nil, "\(bad)")
        }
        #expect(ReplyParser.money(nil as String?) == nil)
    }

    @Test func rowCountIsAnnouncedOnlyByAnExactHead() {
        #expect(ReplyParser.announcedRowCount("OK rows=3") == 3)
        #expect(ReplyParser.announcedRowCount("OK rows=0") == 0)
        #expect(ReplyParser.announcedRowCount("OK rows=") == nil)
        #expect(ReplyParser.announcedRowCount("OK rows=3 more=1") == nil)
        #expect(ReplyParser.announcedRowCount("OK rows=1234567890") == nil)
        #expect(ReplyParser.announcedRowCount("OK user=rows=3") == nil)
    }

    @Test func eventsHaveANameAndFields() {
        let line = "EVENT loan.full listing=L7 at=1700000000000"
        #expect(ReplyParser.isEvent(line))
        #expect(ReplyParser.eventName(line) == "loan.full")
        #expect(ReplyParser.fields(line) == ["listing": "L7", "at": "1700000000000"])
        #expect(ReplyParser.eventName("OK subscribed=loans") == nil)
    }

    @Test func bidRepliesAreTyped() {
        let reply = BidReply(replyLine: "OK bid=B1042 listing=L7 amount=500.00 remaining=1500.00 full=1")
        #expect(
            reply
                == BidReply(
                    bid: BidID(1042), listing: ListingID(7), amount: Money(yuan: 500), remaining: Money(yuan: 1_500),
                    full: true))
        // Any field order, extra fields allowed.
        #expect(BidReply(replyLine: "OK full=0 remaining=0.00 x=1 amount=0.01 listing=L1 bid=B2")?.amount.cents == 1)
        #expect(BidReply(replyLine: "OK bid=B1 listing=L7 amount=500.00 remaining=1500.00") == nil)
        #expect(BidReply(replyLine: "OK bid=B1 listing=L7 amount=500.00 remaining=1500.00 full=2") == nil)
        #expect(BidReply(replyLine: "OK bid=L1 listing=L7 amount=500.00 remaining=1500.00 full=0") == nil)
        #expect(BidReply(replyLine: "ERR BAD_AMOUNT bid=B1 listing=L7 amount=1.00 remaining=1.00 full=0") == nil)
    }
}
