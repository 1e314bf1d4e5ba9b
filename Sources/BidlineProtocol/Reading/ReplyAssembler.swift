/// One complete reply as received: its first line and, for `OK rows=N`, its N rows, without line endings.
public struct AssembledReply: Sendable, Hashable {
    /// The first (or only) line: `OK …` or `ERR …`.
    public var head: String
    /// The rows announced by an `OK rows=N` head, in server order; empty otherwise.
    public var rows: [String]

    /// A reply of `head` and its `rows`.
    public init(head: String, rows: [String] = []) {
        self.head = head
        self.rows = rows
    }

    /// The head and rows as the server sent them, joined by `\n` (no final newline).
    public var text: String { rows.isEmpty ? head : ([head] + rows).joined(separator: "\n") }
}

/// Groups the lines of a connection into replies: a line is a reply by itself, except `OK rows=N`, which is
/// completed by the next N lines, and `EVENT …` lines, pushed by a subscription at any point (even between the
/// rows of a reply), which are reported apart. The one reply assembler of the client, `bidline bench` and the
/// tests.
///
/// Bounded: a head announcing more than ``maxRows`` rows is refused before any row is held. A value type: one per
/// connection, used by one thread at a time.
public struct ReplyAssembler: Sendable {
    /// What a line completed.
    public enum Step: Sendable, Hashable {
        /// A complete reply.
        case reply(AssembledReply)
        /// A pushed `EVENT …` line.
        case event(String)
        /// The line was the head or a row of a reply whose rows have not all arrived.
        case incomplete
    }

    /// A head announced more rows than ``ReplyAssembler/maxRows``.
    public struct TooManyRows: Error, Sendable, Hashable {
        /// The row count the head announced.
        public let announced: Int
        /// The assembler's limit.
        public let limit: Int

        /// The refusal of a head announcing `announced` rows over `limit`.
        public init(announced: Int, limit: Int) {
            self.announced = announced
            self.limit = limit
        }
    }

    /// The most rows one reply may announce.
    public let maxRows: Int
    /// The head of the reply being assembled.
    var head: String? = nil
    var expected = 0
    var rows: [String] = []

    /// An assembler refusing replies of more than `maxRows` rows.
    public init(maxRows: Int = 1_000_000) { self.maxRows = maxRows }

    /// True between an `OK rows=N` head and its last row.
    public var isAssembling: Bool { head != nil }

    /// Takes the next line of the connection (without its line ending). Throws ``TooManyRows`` for a head over
    /// the limit (the assembler is then as before the head: the connection cannot be trusted and should be
    /// closed).
    public mutating func consume(_ line: String) throws(TooManyRows) -> Step {
        if ReplyParser.isEvent(line) { return .event(line) }
        if let head {
            rows.append(line)
            guard rows.count == expected else { return .incomplete }
            let reply = AssembledReply(head: head, rows: rows)
            reset()
            return .reply(reply)
        }
        if let count = ReplyParser.announcedRowCount(line), count > 0 {
            guard count <= maxRows else { throw TooManyRows(announced: count, limit: maxRows) }
            head = line
            expected = count
            rows.reserveCapacity(min(count, 10_000))
            return .incomplete
        }
        return .reply(AssembledReply(head: line))
    }

    /// Drops a reply in assembly (its connection ended).
    public mutating func reset() {
        head = nil
        expected = 0
        rows = []
    }
}
