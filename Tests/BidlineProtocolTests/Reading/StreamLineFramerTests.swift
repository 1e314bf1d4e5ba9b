import BidlineCore
import BidlineProtocol
import Testing

/// The framer against a reference that frames the whole stream at once: however the bytes are cut into reads,
/// the same lines and too-long markers come out, in order.
@Suite struct StreamLineFramerTests {
    /// What the framer reported, in a comparable form.
    enum Framed: Equatable, CustomStringConvertible {
        case line([UInt8])
        case tooLong

        var description: String {
            switch self {
            case .line(let bytes): "line(\(String(decoding: bytes, as: UTF8.self).debugDescription))"
            case .tooLong: "tooLong"
            }
        }
    }

    /// Frames `reads` one after the other with one framer.
    static func frame(_ reads: [[UInt8]], maxLength: Int) -> [Framed] {
        var framer = StreamLineFramer(maxLength: maxLength)
        var result: [Framed] = []
        for read in reads {
            read.withUnsafeBytes { bytes in
                framer.frames(in: bytes) { frame in
                    switch frame {
                    case .line(let line): result.append(.line(Array(line)))
                    case .tooLong: result.append(.tooLong)
                    }
                }
            }
        }
        return result
    }

    static func frame(_ reads: [String], maxLength: Int = 16) -> [Framed] {
        frame(reads.map { Array($0.utf8) }, maxLength: maxLength)
    }

    /// Frames of a complete stream: every segment before a `\n`, without a trailing `\r`, or `.tooLong`.
    static func reference(_ stream: [UInt8], maxLength: Int) -> [Framed] {
        var frames: [Framed] = []
        var start = 0
        for (index, byte) in stream.enumerated() where byte == UInt8(ascii: "\n") {
            var line = stream[start..<index]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            frames.append(line.count > maxLength ? .tooLong : .line(Array(line)))
            start = index + 1
        }
        return frames
    }

    @Test(arguments: 0..<300)
    func anyCutIntoReadsFramesLikeTheWholeStream(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed) &+ 0x5354_5245)
        let maxLength = 1 + Int(random.next() % 24)
        var stream: [UInt8] = []
        for _ in 0..<(1 + Int(random.next() % 40)) {
            // Lengths around the limit are the interesting ones: maxLength - 1 ... maxLength + 2, and far over.
            let length =
                random.next() % 2 == 0
                ? max(0, maxLength - 1 + Int(random.next() % 4)) : Int(random.next() % UInt64(maxLength * 3))
            for _ in 0..<length {
                // Any byte but a newline: text, binary, and the odd `\r` inside a line.
                var byte = UInt8(truncatingIfNeeded: random.next())
                if byte == UInt8(ascii: "\n") { byte = UInt8(ascii: "x") }
                stream.append(random.next() % 4 == 0 ? byte : UInt8(ascii: "a") + UInt8(random.next() % 26))
            }
            if random.next() % 3 == 0 { stream.append(UInt8(ascii: "\r")) }
            stream.append(UInt8(ascii: "\n"))
        }
        // A partial last line is not reported.
        stream += Array("PING".utf8)

        var reads: [[UInt8]] = []
        var offset = 0
        while offset < stream.count {
            let length = min(stream.count - offset, Int(random.next() % UInt64(maxLength * 2 + 2)))
            reads.append(Array(stream[offset..<(offset + length)]))  // empty reads too
            offset += length
        }
        #expect(Self.frame(reads, maxLength: maxLength) == Self.reference(stream, maxLength: maxLength))
    }

    @Test func crLfAndLfEndLinesAndOnlyTheLastCrIsDropped() {
        #expect(
            Self.frame(["OK a=1\r\nOK b=2\n\r\n", "x\r\r\n"])
                == [.line(Array("OK a=1".utf8)), .line(Array("OK b=2".utf8)), .line([]), .line(Array("x\r".utf8))])
    }

    @Test func aCrLfCutBetweenItsBytesStillEndsTheLine() {
        #expect(Self.frame(["PING\r", "\nPONG\r", "", "\n"]) == [.line(Array("PING".utf8)), .line(Array("PONG".utf8))])
    }

    @Test func aLineLongerThanTheLimitIsReportedOnceAndTheNextLineIsIntact() {
        #expect(
            Self.frame(["abcdefgh", "ijklmnop", "qrs\nPING\r", "\n"], maxLength: 4)
                == [.tooLong, .line(Array("PING".utf8))])
        // Inside one read, too.
        #expect(Self.frame(["abcdefgh\nPING\n"], maxLength: 4) == [.tooLong, .line(Array("PING".utf8))])
    }

    @Test func theLimitExcludesTheLineEnding() {
        #expect(Self.frame(["abcd\r", "\nabcde", "\r\n"], maxLength: 4) == [.line(Array("abcd".utf8)), .tooLong])
        #expect(Self.frame(["abcd\r\n"], maxLength: 4) == [.line(Array("abcd".utf8))])
    }

    @Test func memoryIsBoundedWhileALongLineIsDiscarded() {
        var framer = StreamLineFramer(maxLength: 8)
        let chunk = [UInt8](repeating: UInt8(ascii: "z"), count: 1_000)
        var frames = 0
        for _ in 0..<100 {
            chunk.withUnsafeBytes { framer.frames(in: $0) { _ in frames += 1 } }
            #expect(framer.bufferedByteCount <= 9)
        }
        #expect(framer.isDiscarding)
        #expect(frames == 0)
        Array("\nok\n".utf8).withUnsafeBytes { framer.frames(in: $0) { _ in frames += 1 } }
        #expect(!framer.isDiscarding)
        #expect(frames == 2)
    }

    @Test func resetForgetsAPartialLine() {
        var framer = StreamLineFramer(maxLength: 16)
        Array("half a li".utf8).withUnsafeBytes { framer.frames(in: $0) { _ in } }
        #expect(framer.bufferedByteCount == 9)
        framer.reset()
        var lines: [[UInt8]] = []
        Array("OK\n".utf8).withUnsafeBytes {
            framer.frames(in: $0) { frame in
                if case .line(let line) = frame { lines.append(Array(line)) }
            }
        }
        #expect(lines == [Array("OK".utf8)])
    }
}
