#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Splits a byte stream into lines at `\n`, dropping a `\r` before it, one read at a time: the one framer of the
/// readers of the line protocol (the client, `bidline cli`, `bidline bench`, the test socket).
///
/// A line longer than ``maxLength`` bytes (its line ending excluded) is discarded up to its newline and reported
/// once as ``Frame/tooLong``; the lines after it are framed as usual. Lines inside one read are handed out in
/// place, without a copy; only a line that spans reads is copied, into a buffer that is reused for the next such
/// line, so framing allocates nothing once that buffer has grown. Memory held between reads is at most
/// `maxLength + 1` bytes. A value type: one framer per stream, used by one thread at a time.
public struct StreamLineFramer: Sendable {
    /// What ``frames(in:_:)`` finds in a stream.
    public enum Frame {
        /// A complete line without its line ending. The bytes are valid only during the call that receives them.
        case line(UnsafeRawBufferPointer)
        /// A line longer than ``StreamLineFramer/maxLength`` bytes was discarded.
        case tooLong
    }

    /// The longest line accepted, in bytes, without its line ending.
    public let maxLength: Int
    /// The start of a line whose newline has not arrived yet (never more than `maxLength + 1` bytes).
    @usableFromInline var partial: [UInt8] = []
    /// Dropping the rest of a too-long line until its newline.
    @usableFromInline var discarding = false

    /// A framer for lines of at most `maxLength` bytes (`maxLength` ≥ 0).
    public init(maxLength: Int) {
        precondition(maxLength >= 0, "a negative line limit")
        self.maxLength = maxLength
    }

    /// True while the framer drops the bytes of a line longer than ``maxLength`` whose newline has not come yet.
    /// A reader that treats an over-long line as fatal can stop here instead of waiting for the newline.
    public var isDiscarding: Bool { discarding }

    /// Bytes held of a line whose newline has not arrived yet: zero between complete lines.
    public var bufferedByteCount: Int { partial.count }

    /// Calls `emit` with every complete line of `read`, in stream order, continuing a line begun in earlier
    /// reads. The bytes after the last newline are kept for the next call (a stream that ends without a newline
    /// leaves its last line unreported). If `emit` throws, framing stops and the rest of `read` is lost.
    @inlinable
    public mutating func frames(in read: UnsafeRawBufferPointer, _ emit: (Frame) throws -> Void) rethrows {
        let count = read.count
        var start = 0
        if discarding || !partial.isEmpty {
            guard let newline = Self.newline(in: read, from: 0) else {
                keep(read, from: 0)
                return
            }
            start = newline + 1
            if discarding {
                discarding = false
                try emit(.tooLong)
            } else if partial.count + newline > maxLength + 1 {
                partial.removeAll(keepingCapacity: true)
                try emit(.tooLong)
            } else {
                partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: read[0..<newline]))
                defer { partial.removeAll(keepingCapacity: true) }
                try partial.withUnsafeBytes { try Self.emitLine($0, maxLength: maxLength, emit) }
            }
        }
        while start < count, let newline = Self.newline(in: read, from: start) {
            try Self.emitLine(UnsafeRawBufferPointer(rebasing: read[start..<newline]), maxLength: maxLength, emit)
            start = newline + 1
        }
        if start < count { keep(read, from: start) }
    }

    /// Forgets a partial line and any discarding in progress (for a stream that starts over, e.g. a reconnect).
    public mutating func reset() {
        partial.removeAll(keepingCapacity: true)
        discarding = false
    }

    /// Keeps `read[start...]`, the start of a line, or starts discarding it when it is already too long (a line
    /// may hold `maxLength + 1` bytes before its newline: the last may be the `\r` of its ending).
    @usableFromInline
    mutating func keep(_ read: UnsafeRawBufferPointer, from start: Int) {
        guard !discarding else { return }
        if partial.count + (read.count - start) > maxLength + 1 {
            partial.removeAll(keepingCapacity: true)
            discarding = true
        } else {
            partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: read[start...]))
        }
    }

    /// Emits `line` (the bytes before a newline) without a trailing `\r`, or ``Frame/tooLong``.
    @inlinable
    static func emitLine(_ line: UnsafeRawBufferPointer, maxLength: Int, _ emit: (Frame) throws -> Void) rethrows {
        var length = line.count
        if length > 0 && line[length - 1] == UInt8(ascii: "\r") { length -= 1 }
        guard length <= maxLength else { return try emit(.tooLong) }
        try emit(.line(UnsafeRawBufferPointer(rebasing: line[0..<length])))
    }

    /// The offset of the first `\n` in `bytes[start...]` (`memchr`: vectorized by the C library).
    @inlinable
    static func newline(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + start, 0x0A, bytes.count - start) else { return nil }
        return UnsafeRawPointer(found) - base
    }
}
