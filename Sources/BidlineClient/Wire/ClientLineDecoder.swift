import BidlineProtocol
import NIOCore

/// Splits the server's byte stream into lines with the protocol's ``StreamLineFramer``. A line longer than
/// `maxLength` bytes is a protocol violation: decoding fails (as soon as the line passes the limit, without
/// waiting for its newline) and the connection is closed, so a broken or hostile server cannot make the client
/// buffer without bound.
struct ClientLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String

    var framer: StreamLineFramer

    init(maxLength: Int) { framer = StreamLineFramer(maxLength: maxLength) }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes > 0 else { return .needMoreData }
        var lines: [String] = []
        var tooLong = false
        buffer.withUnsafeReadableBytes { bytes in
            framer.frames(in: bytes) { frame in
                guard !tooLong else { return }
                switch frame {
                case .line(let line): lines.append(String(decoding: line, as: UTF8.self))
                case .tooLong: tooLong = true
                }
            }
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        // The lines before a too-long one are replies like any other.
        for line in lines { context.fireChannelRead(wrapInboundOut(line)) }
        guard !tooLong && !framer.isDiscarding else {
            throw BidlineClientError.protocolViolation("reply line longer than \(framer.maxLength) bytes")
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        _ = try decode(context: context, buffer: &buffer)
        // A last line without a newline is incomplete: the reply it starts never finished.
        framer.reset()
        return .needMoreData
    }
}
