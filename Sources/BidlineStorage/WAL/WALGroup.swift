/// Encoded records waiting for one write (a commit group), split where a new segment begins.
///
/// `bytes` holds the records back to back; each span is the part of `bytes` that goes into one segment.
/// A span with `startsSegment` opens a new segment file named after its first sequence; any other span
/// continues the segment that is open. Buffers are reused from group to group (`removeAll` keeps capacity).
struct WALGroup: Sendable {
    struct Span: Sendable {
        var firstSequence: UInt64
        var lastSequence: UInt64
        var byteStart: Int
        var byteEnd: Int
        var startsSegment: Bool
    }

    var bytes: [UInt8] = []
    var spans: [Span] = []

    var isEmpty: Bool { spans.isEmpty }
    var firstSequence: UInt64? { spans.first?.firstSequence }
    var lastSequence: UInt64? { spans.last?.lastSequence }

    /// Empties the group, keeping its buffers' capacity.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
    }

    /// The spans from `index` on, with their byte ranges rebased to a new buffer.
    func suffix(fromSpan index: Int) -> WALGroup {
        guard index > 0 else { return self }
        guard index < spans.count else { return WALGroup() }
        let base = spans[index].byteStart
        var result = WALGroup()
        result.bytes = Array(bytes[base...])
        result.spans = spans[index...].map { span in
            var span = span
            span.byteStart -= base
            span.byteEnd -= base
            return span
        }
        return result
    }

    /// The number of records in the group.
    var recordCount: Int {
        guard let first = spans.first, let last = spans.last else { return 0 }
        return Int(last.lastSequence - first.firstSequence + 1)
    }

    /// Appends `other`'s spans after this group's (records stay in sequence order).
    mutating func append(contentsOf other: WALGroup) {
        let base = bytes.count
        bytes.append(contentsOf: other.bytes)
        for var span in other.spans {
            span.byteStart += base
            span.byteEnd += base
            spans.append(span)
        }
    }
}
