import BidlineProtocol

extension BidlineClient {
    /// One reply of the server: the raw first line, its `key=value` fields, and the rows of a multi-row reply
    /// (`OK rows=N` followed by N lines).
    ///
    /// Value type, `Sendable`. Parsing splits on spaces only; `ERR` replies have no fields (their text is free-form),
    /// use ``errorCode`` and ``errorMessage`` instead.
    public struct Reply: Sendable, Hashable, CustomStringConvertible {
        /// One line of a multi-row reply, with its `key=value` fields (empty for rows that are not `key=value`
        /// pairs, such as the Prometheus text of `METRICS`).
        public struct Row: Sendable, Hashable, CustomStringConvertible {
            /// The row exactly as received, without its line ending.
            public let line: String
            /// The row's `key=value` pairs; a key seen twice keeps its last value.
            public let fields: [String: String]

            /// Parses `line` into fields.
            public init(_ line: String) {
                self.line = line
                self.fields = ReplyParser.fields(line)
            }

            /// The value of `key`, if the row has it.
            public subscript(key: String) -> String? { fields[key] }

            /// The raw row line.
            public var description: String { line }
        }

        /// The first (or only) line, exactly as received, without its line ending.
        public let line: String
        /// The `key=value` pairs of ``line`` (none for `ERR` replies).
        public let fields: [String: String]
        /// The rows of an `OK rows=N` reply, in server order; empty otherwise.
        public let rows: [Row]

        /// Builds a reply from its first line and rows.
        public init(line: String, rows: [Row] = []) {
            self.line = line
            self.rows = rows
            self.fields = line.hasPrefix("OK") ? ReplyParser.fields(line.dropFirst(2)) : [:]
        }

        /// True for `OK …` replies.
        public var isOK: Bool { ReplyParser.isOK(line) }

        /// The upper-snake-case code of an `ERR CODE text` reply (`INSUFFICIENT_FUNDS`), nil for `OK`.
        public var errorCode: String? { ReplyParser.error(line)?.code }

        /// The human-readable text after the code of an `ERR` reply, nil for `OK`.
        public var errorMessage: String? { ReplyParser.error(line)?.message }

        /// The value of `key` in the first line, if present.
        public subscript(key: String) -> String? { fields[key] }

        /// The raw first line.
        public var description: String { line }

        /// The row count announced by a first line of the form `OK rows=N` (nothing else on the line), else nil.
        public static func announcedRowCount(_ line: String) -> Int? { ReplyParser.announcedRowCount(line) }
    }

}

extension BidlineClient {
    /// A pushed `EVENT name key=value …` line of a subscription (`SUBSCRIBE loans account`).
    public struct Event: Sendable, Hashable, CustomStringConvertible {
        /// The line exactly as received, e.g. `EVENT loan.full listing=L1 at=1700000000000`.
        public let line: String
        /// The event name after `EVENT`, e.g. `loan.full`, `loan.open`, `repayment`, `account`.
        public let name: String
        /// The event's `key=value` pairs.
        public let fields: [String: String]

        /// Parses an `EVENT …` line.
        public init(_ line: String) {
            self.line = line
            self.name = ReplyParser.eventName(line) ?? String(line.prefix { $0 != " " })
            self.fields = ReplyParser.fields(line)
        }

        /// The value of `key`, if the event has it.
        public subscript(key: String) -> String? { fields[key] }

        /// The raw event line.
        public var description: String { line }
    }
}
