/// An append-mostly array stored in fixed-size chunks, so that a copy (a snapshot capture) is O(chunks) and
/// the first write after a copy duplicates one chunk, not the whole array.
///
/// This is what makes snapshots stall-free: the engine state is a value; capturing it retains the chunks, and
/// matching continues while the captured value is encoded elsewhere. Appends never move existing elements.
/// A chunk holds about 64 KiB (2^`chunkShift` elements, at least 64), so the first write after a capture copies
/// at most that much: the matching stall a snapshot causes is bounded by a few such copies. Indexing is O(1).
public struct ChunkedArray<Element>: RandomAccessCollection {
    @usableFromInline static var chunkShift: Int {
        let stride = Swift.max(1, MemoryLayout<Element>.stride)
        let log2Stride = Int.bitWidth - 1 - stride.leadingZeroBitCount
        return Swift.max(6, 16 - log2Stride)
    }
    @usableFromInline static var chunkSize: Int { 1 << chunkShift }
    @usableFromInline static var chunkMask: Int { chunkSize - 1 }

    @usableFromInline var chunks: [ContiguousArray<Element>]
    @usableFromInline var _count: Int
    @inlinable public var count: Int { _count }

    public init() {
        chunks = []
        _count = 0
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }

    @inlinable
    public subscript(position: Int) -> Element {
        get {
            precondition(position >= 0 && position < count, "ChunkedArray index out of range")
            return chunks[position &>> Self.chunkShift][position & Self.chunkMask]
        }
        _modify {
            precondition(position >= 0 && position < count, "ChunkedArray index out of range")
            yield &chunks[position &>> Self.chunkShift][position & Self.chunkMask]
        }
    }

    /// Appends `element`; allocates only when a new chunk starts (once per 64 KiB of elements).
    @inlinable
    public mutating func append(_ element: Element) {
        if count & Self.chunkMask == 0 {
            var chunk = ContiguousArray<Element>()
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[count &>> Self.chunkShift].append(element)
        _count += 1
    }

    /// Reserves room in the chunk directory for `capacity` elements (the chunks themselves are made on demand).
    public mutating func reserveCapacity(_ capacity: Int) {
        chunks.reserveCapacity((capacity + Self.chunkMask) >> Self.chunkShift)
    }

    /// The last element, if any.
    @inlinable public var last: Element? { count == 0 ? nil : self[count - 1] }
}

extension ChunkedArray: Sendable where Element: Sendable {}
extension ChunkedArray: Equatable where Element: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.count == rhs.count && lhs.chunks == rhs.chunks
    }
}
