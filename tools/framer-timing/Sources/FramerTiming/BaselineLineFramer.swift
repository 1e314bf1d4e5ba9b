// The server's framer before issue 11 (commit eb5a50c, Sources/BidlineServer/Wire/LineFramer.swift), renamed:
// the baseline of the timing.
import NIOCore

/// A framed request line, or the marker of a line that was too long (already discarded up to its newline).
public enum BaselineLineFrame: Sendable, Equatable {
    case line(ByteBuffer)
    case tooLong
}

/// Splits a connection's inbound byte stream at `\n` (dropping a `\r` before it), one socket read at a time.
/// A line longer than `maxLength` bytes is discarded up to its newline and reported once as
/// ``LineFrame/tooLong``; the connection stays usable. Memory held per connection is bounded by `maxLength` plus
/// one socket read.
///
/// Lines are slices of the read's buffer (no copy), handed to the connection's handler directly: no
/// `ByteToMessageHandler` and no channel-pipeline hop or `NIOAny` box per line. Only a line that spans reads is
/// copied, into a buffer of its own (its start, then the next read's bytes up to the newline).
public struct BaselineLineFramer: Sendable {
    public let maxLength: Int
    /// The start of a line whose newline has not arrived yet (owned: never a slice of a read buffer).
    var partial: ByteBuffer? = nil
    /// Dropping the rest of a too-long line until its newline.
    var discarding = false

    public init(maxLength: Int) { self.maxLength = maxLength }

    /// Calls `emit` with every complete line of `read` (continuing a partial line from earlier reads), in order.
    public mutating func frames(in read: ByteBuffer, _ emit: (BaselineLineFrame) -> Void) {
        var buffer = read
        if var carried = partial {
            // Complete the carried line with this read's bytes up to its first newline only; the rest of the read
            // is framed in place, without a copy.
            partial = nil
            let view = buffer.readableBytesView
            let head = view.firstIndex(of: UInt8(ascii: "\n")).map { $0 - buffer.readerIndex + 1 } ?? buffer.readableBytes
            carried.writeImmutableBuffer(buffer.readSlice(length: head)!)
            scan(&carried, emit)
        }
        scan(&buffer, emit)
    }

    /// Emits the complete lines of `buffer`; keeps a copy of a trailing partial line (or starts discarding it).
    private mutating func scan(_ buffer: inout ByteBuffer, _ emit: (BaselineLineFrame) -> Void) {
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
