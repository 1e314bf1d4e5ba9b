import NIOCore

/// A framed request line, or the marker of a line that was too long (already discarded up to its newline).
public enum LineFrame: Sendable {
    case line(ByteBuffer)
    case tooLong
}

/// Splits the inbound byte stream at `\n` (dropping a `\r` before it). A line longer than `maxLength` bytes is
/// discarded up to its newline and reported once as ``LineFrame/tooLong``; the connection stays usable. Memory
/// held per connection is bounded by `maxLength` plus one socket read.
public struct LineFramer: ByteToMessageDecoder {
    public typealias InboundOut = LineFrame

    public let maxLength: Int
    var discarding = false

    public init(maxLength: Int) { self.maxLength = maxLength }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if discarding || buffer.readableBytes > maxLength + 1 {
                discarding = true
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            }
            return .needMoreData
        }
        var length = newline - buffer.readerIndex
        if discarding {
            buffer.moveReaderIndex(forwardBy: length + 1)
            discarding = false
            context.fireChannelRead(wrapInboundOut(.tooLong))
            return .continue
        }
        let hasReturn = length > 0 && buffer.getInteger(at: newline - 1, as: UInt8.self) == UInt8(ascii: "\r")
        if hasReturn { length -= 1 }
        guard length <= maxLength else {
            buffer.moveReaderIndex(forwardBy: newline - buffer.readerIndex + 1)
            context.fireChannelRead(wrapInboundOut(.tooLong))
            return .continue
        }
        let line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: hasReturn ? 2 : 1)
        context.fireChannelRead(wrapInboundOut(.line(line)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A last line without a newline is ignored when the peer closes: there is nobody to answer.
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return .needMoreData
    }
}
