import NIOCore

/// A framed request line, or the marker of a line that was too long (already discarded up to its newline).
public enum LineFrame: Sendable, Equatable {
    case line(ByteBuffer)
    case tooLong
}

/// Splits a connection's inbound byte stream at `\n` (dropping a `\r` before it), one socket read at a time.
/// A line longer than `maxLength` bytes is discarded up to its newline and reported once as
/// ``LineFrame/tooLong``; the connection stays usable. Memory held per connection is bounded by `maxLength` plus
/// one socket read.
///
/// Lines are slices of the read's buffer (no copy), handed to the connection's handler directly: no
/// `ByteToMessageHandler` and no channel-pipeline hop or `NIOAny` box per line. Only a line that spans two reads
/// is copied, into a buffer of its own.
public struct LineFramer: Sendable {
    public let maxLength: Int
    /// The start of a line whose newline has not arrived yet (owned: never a slice of a read buffer).
    var partial: ByteBuffer? = nil
    /// Dropping the rest of a too-long line until its newline.
    var discarding = false

    public init(maxLength: Int) { self.maxLength = maxLength }

    /// Calls `emit` with every complete line of `read` (continuing a partial line from earlier reads), in order.
    public mutating func frames(in read: ByteBuffer, _ emit: (LineFrame) -> Void) {
        var buffer = read
        if var carried = partial {
            partial = nil
            carried.writeImmutableBuffer(buffer)
            buffer = carried
        }
        while buffer.readableBytes > 0 {
            guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                if discarding || buffer.readableBytes > maxLength + 1 {
                    discarding = true
                } else {
                    var owned = ByteBufferAllocator().buffer(capacity: max(buffer.readableBytes, 256))
                    owned.writeImmutableBuffer(buffer)
                    partial = owned
                }
                return
            }
            var length = newline - buffer.readerIndex
            if discarding {
                buffer.moveReaderIndex(forwardBy: length + 1)
                discarding = false
                emit(.tooLong)
                continue
            }
            let hasReturn = length > 0 && buffer.getInteger(at: newline - 1, as: UInt8.self) == UInt8(ascii: "\r")
            if hasReturn { length -= 1 }
            guard length <= maxLength else {
                buffer.moveReaderIndex(forwardBy: newline - buffer.readerIndex + 1)
                emit(.tooLong)
                continue
            }
            let line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: hasReturn ? 2 : 1)
            emit(.line(line))
        }
    }
}
