import NIOCore

/// Splits the server's byte stream into lines at `\n` (dropping a `\r` before it). A line longer than
/// `maxLength` bytes is a protocol violation: decoding fails and the connection is closed, so a broken or
/// hostile server cannot make the client buffer without bound.
struct ClientLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String

    let maxLength: Int
    /// Bytes of the current buffer already searched for a newline (avoids rescanning on partial reads).
    var scanned = 0

    init(maxLength: Int) { self.maxLength = maxLength }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        let start = view.startIndex + scanned
        guard let newline = view[start...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = view.count
            if scanned > maxLength + 1 {
                throw BidlineClientError.protocolViolation("reply line longer than \(maxLength) bytes")
            }
            return .needMoreData
        }
        scanned = 0
        var length = newline - view.startIndex
        let hasReturn = length > 0 && view[newline - 1] == UInt8(ascii: "\r")
        if hasReturn { length -= 1 }
        guard length <= maxLength else {
            throw BidlineClientError.protocolViolation("reply line longer than \(maxLength) bytes")
        }
        let line = buffer.readString(length: length)!
        buffer.moveReaderIndex(forwardBy: hasReturn ? 2 : 1)
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A last line without a newline is incomplete: the reply it starts never finished.
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return .needMoreData
    }
}
