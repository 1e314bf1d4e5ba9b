import BidlineProtocol

/// The events of a `SUBSCRIBE` on a dedicated connection, as an `AsyncSequence`.
///
/// The sequence ends normally after ``cancel()``; it throws ``BidlineClientError/connectionLost(request:)``
/// when the connection drops (events cannot be replayed, so a subscription does not reconnect: subscribe again
/// and re-read the state you need, or use ``BidlineClient/subscribeResuming(topics:policy:)``, which does both) and ``BidlineClientError/subscriberTooSlow(limit:)`` when the consumer falls
/// too far behind. Dropping the last reference to the subscription closes its connection.
public struct Subscription: AsyncSequence, Sendable {
    /// One pushed event.
    public typealias Element = BidlineClient.Event

    /// The topics subscribed to.
    public let topics: [Topic]
    /// The server's confirmation, `OK subscribed=…`.
    public let reply: BidlineClient.Reply
    let connection: BidlineClient
    let events: AsyncThrowingStream<BidlineClient.Event, any Error>

    /// Iterates the events in the order the server sent them.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<BidlineClient.Event, any Error>.AsyncIterator

        /// The next event; nil after ``Subscription/cancel()``.
        public mutating func next() async throws -> BidlineClient.Event? { try await base.next() }
    }

    /// An iterator over the events.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: events.makeAsyncIterator()) }

    /// Ends the subscription: closes its connection; iteration then ends normally.
    public func cancel() async { await connection.close() }
}

extension BidlineClient {
    /// Opens a second connection to the same server, authenticates it with this client's credentials (from the
    /// last successful ``auth(user:token:)``), and sends `SUBSCRIBE topics`. Returns once the server confirmed
    /// (`OK subscribed=…`), so every event after that point is delivered.
    ///
    /// Throws ``BidlineClientError/rejected(code:message:)`` when the server refuses (for example
    /// `NOT_AUTHENTICATED` if this client never authenticated).
    public func subscribe(topics: [Topic]) async throws -> Subscription {
        guard !topics.isEmpty else { throw BidlineClientError.invalidRequest("SUBSCRIBE needs at least one topic") }
        var configuration = self.configuration
        configuration.reconnect = .never
        let connection = try await BidlineClient.connect(host: host, port: port, configuration: configuration)
        let reply: Reply
        do {
            if let credentials { try await connection.auth(user: credentials.user, token: credentials.token) }
            reply = try await connection.enterPushMode(topics)
        } catch {
            await connection.close()
            throw error
        }
        return Subscription(topics: topics, reply: reply, connection: connection, events: connection.events)
    }

    func enterPushMode(_ topics: [Topic]) async throws -> Reply {
        let line = "SUBSCRIBE " + topics.map(\.wireText).joined(separator: " ")
        try checkCapacity(1)
        let reply = try await withCheckedThrowingContinuation { continuation in
            enqueue([Pending(line: line, safeToRetry: false, completion: .single(continuation))])
        }
        _ = try Self.requireOK(reply)
        pushMode = true
        return reply
    }
}
