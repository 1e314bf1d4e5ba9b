import BidlineCore
import BidlineServer
import NIOCore
import Testing

/// The framer against a reference that frames the whole stream at once: however the bytes are cut into reads,
/// the same lines and too-long markers come out, in order.
@Suite struct LineFramerTests {
    static let maxLength = 16

    /// Frames of a complete stream: every segment before a `\n`, without a trailing `\r`, or `.tooLong`.
    static func reference(_ stream: [UInt8]) -> [LineFrame] {
        var frames: [LineFrame] = []
        var start = 0
        for (index, byte) in stream.enumerated() where byte == UInt8(ascii: "\n") {
            var line = stream[start..<index]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            frames.append(line.count > maxLength ? .tooLong : .line(ByteBuffer(bytes: line)))
            start = index + 1
        }
        return frames
    }

    @Test(arguments: 0..<200)
    func anyCutIntoReadsFramesLikeTheWholeStream(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed) &+ 0x4C49_4E45)
        var stream: [UInt8] = []
        for _ in 0..<(1 + Int(random.next() % 40)) {
            let length = Int(random.next() % UInt64(Self.maxLength * 3))
            for _ in 0..<length {
                // Any byte but a newline: text, binary, and the odd `\r` inside a line.
                var byte = UInt8(truncatingIfNeeded: random.next())
                if byte == UInt8(ascii: "\n") { byte = UInt8(ascii: "x") }
                stream.append(random.next() % 4 == 0 ? byte : UInt8(ascii: "a") + UInt8(random.next() % 26))
            }
            if random.next() % 3 == 0 { stream.append(UInt8(ascii: "\r")) }
            stream.append(UInt8(ascii: "\n"))
        }
        // A partial last line stays unanswered.
        stream += Array("PING".utf8)

        var framer = LineFramer(maxLength: Self.maxLength)
        var frames: [LineFrame] = []
        var offset = 0
        while offset < stream.count {
            let length = min(stream.count - offset, 1 + Int(random.next() % 24))
            framer.frames(in: ByteBuffer(bytes: stream[offset..<(offset + length)])) { frames.append($0) }
            offset += length
        }
        #expect(frames == Self.reference(stream))
    }

    @Test func aLineLongerThanTheLimitIsReportedOnceAndTheNextLineIsIntact() {
        var framer = LineFramer(maxLength: 4)
        var frames: [LineFrame] = []
        for chunk in ["abcdefgh", "ijklmnop", "qrs\nPING\r", "\n"] {
            framer.frames(in: ByteBuffer(string: chunk)) { frames.append($0) }
        }
        #expect(frames == [.tooLong, .line(ByteBuffer(string: "PING"))])
    }
}
