extension BidlineClient {
    /// How a client reconnects after its connection drops. Every bound is explicit: a client never retries
    /// forever.
    public struct ReconnectPolicy: Sendable, Equatable {
        /// Connection attempts after a drop before the waiting requests are failed; 0 disables reconnecting
        /// (every unanswered request then fails with ``BidlineClientError/connectionLost(request:)``, and every
        /// later one with ``BidlineClientError/reconnectFailed(attempts:reason:)``, without a connection attempt).
        public var maxAttempts: Int
        /// Delay before the first attempt, in milliseconds; doubled after each failed attempt.
        public var initialDelayMillis: Int64
        /// Upper bound of the delay between attempts, in milliseconds.
        public var maxDelayMillis: Int64

        /// A policy; the defaults try 20 times over roughly 30 seconds.
        public init(maxAttempts: Int = 20, initialDelayMillis: Int64 = 50, maxDelayMillis: Int64 = 2_000) {
            self.maxAttempts = maxAttempts
            self.initialDelayMillis = initialDelayMillis
            self.maxDelayMillis = maxDelayMillis
        }

        /// Never reconnect.
        public static let never = ReconnectPolicy(maxAttempts: 0)
    }

    /// A client's limits. The defaults suit bots; all are per client (per connection).
    public struct Configuration: Sendable, Equatable {
        /// What to do when the connection drops.
        public var reconnect = ReconnectPolicy()
        /// Time allowed for the TCP connection to be established, in milliseconds.
        public var connectTimeoutMillis: Int64 = 5_000
        /// How long the oldest unanswered request may wait while the server sends nothing at all, in
        /// milliseconds (`nil`: forever). Past it the connection counts as dead: that request fails with
        /// ``BidlineClientError/timedOut(request:millis:)`` (it may or may not have been executed), the connection
        /// is closed, and the other unanswered requests follow the reconnect rules (reads and `ref=` writes are
        /// resent). Replies arriving, even slowly (a long pipeline, a many-row reply), keep it alive.
        public var replyTimeoutMillis: Int64? = 30_000
        /// Most requests waiting for a reply (sent or waiting for a reconnect); a request beyond it fails with
        /// ``BidlineClientError/tooManyInFlight(limit:)``. The server itself stops reading a connection beyond
        /// its pipeline depth (16,384 by default), so this bounds only the client's memory.
        public var maxInFlight = 100_000
        /// Longest reply line accepted, in bytes; a longer one closes the connection as a protocol violation.
        public var maxReplyLineBytes = 1 << 20
        /// Most rows accepted in one `OK rows=N` reply.
        public var maxRowsPerReply = 1_000_000
        /// Events a subscription buffers for a slow consumer before it is ended with
        /// ``BidlineClientError/subscriberTooSlow(limit:)``.
        public var maxBufferedEvents = 100_000

        /// The default limits.
        public init() {}
    }
}
