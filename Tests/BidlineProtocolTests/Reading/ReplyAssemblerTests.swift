import BidlineCore
import BidlineProtocol
import Testing

@Suite struct ReplyAssemblerTests {
    /// Frames `reads` and assembles the lines; returns the replies and the events, in order.
    static func assemble(_ reads: [String], maxRows: Int = 100) throws -> [ReplyAssembler.Step] {
        var framer = StreamLineFramer(maxLength: 4_096)
        var assembler = ReplyAssembler(maxRows: maxRows)
        var steps: [ReplyAssembler.Step] = []
        for read in reads {
            var lines: [String] = []
            Array(read.utf8).withUnsafeBytes { bytes in
                framer.frames(in: bytes) { frame in
                    if case .line(let line) = frame { lines.append(String(decoding: line, as: UTF8.self)) }
                }
            }
            for line in lines {
                let step = try assembler.consume(line)
                if step != .incomplete { steps.append(step) }
            }
        }
        return steps
    }

    @Test func singleLinesAreRepliesAndRowsJoinTheirHead() throws {
        let steps = try Self.assemble(["OK pong\nOK rows=2\nbid=B1 amount=1.00\nbid=B2 amount=2.00\nERR BUSY full\n"])
        #expect(
            steps == [
                .reply(AssembledReply(head: "OK pong")),
                .reply(AssembledReply(head: "OK rows=2", rows: ["bid=B1 amount=1.00", "bid=B2 amount=2.00"])),
                .reply(AssembledReply(head: "ERR BUSY full")),
            ])
        #expect(try Self.assemble(["OK rows=0\n"]) == [.reply(AssembledReply(head: "OK rows=0"))])
    }

    @Test func rowsSplitAcrossReadsAssembleTheSame() throws {
        let stream = "OK rows=3\r\nentry=E1 amount=1.00\nentry=E2 amount=-2.00\nentry=E3 amount=3.00\nOK bye\n"
        let whole = try Self.assemble([stream])
        #expect(whole.count == 2)
        for cut in 0...stream.utf8.count {
            let bytes = Array(stream.utf8)
            let reads = [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)]
            #expect(try Self.assemble(reads) == whole, "cut at \(cut)")
        }
    }

    @Test func eventLinesInterleavedWithRowsAreReportedApart() throws {
        let steps = try Self.assemble([
            "EVENT loan.open listing=L1\nOK rows=2\nlisting=L1\nEVENT loan.full listing=L1\n", "listing=L2\nOK pong\n",
        ])
        #expect(
            steps == [
                .event("EVENT loan.open listing=L1"),
                .event("EVENT loan.full listing=L1"),
                .reply(AssembledReply(head: "OK rows=2", rows: ["listing=L1", "listing=L2"])),
                .reply(AssembledReply(head: "OK pong")),
            ])
    }

    @Test func tooManyRowsIsRefusedBeforeAnyRowIsHeld() throws {
        var assembler = ReplyAssembler(maxRows: 10)
        #expect(throws: ReplyAssembler.TooManyRows(announced: 11, limit: 10)) { try assembler.consume("OK rows=11") }
        #expect(!assembler.isAssembling)
        #expect(try assembler.consume("OK rows=10") == .incomplete)
        #expect(assembler.isAssembling)
        assembler.reset()
        #expect(try assembler.consume("OK pong") == .reply(AssembledReply(head: "OK pong")))
    }

    @Test func theTextOfAReplyIsItsLinesAsSent() {
        #expect(AssembledReply(head: "OK rows=2", rows: ["a=1", "a=2"]).text == "OK rows=2\na=1\na=2")
        #expect(AssembledReply(head: "OK pong").text == "OK pong")
    }
}
