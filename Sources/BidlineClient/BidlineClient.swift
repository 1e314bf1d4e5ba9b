import BidlineProtocol
import NIOCore
import NIOPosix

/// An async client of the Bidline line protocol over one TCP connection, for bots and tools.
///
/// - Pipelining: any number of tasks may call ``send(_:)`` concurrently, and ``pipeline(_:)`` sends many lines
///   in one write; requests go out in call order and replies are matched to them in order (the protocol
///   answers in request order). Bounded by ``Configuration/maxInFlight``.
/// - Reconnect: when the connection drops, the client reconnects (``ReconnectPolicy``), authenticates again
///   with the credentials of the last successful `AUTH`, and resends, in their original order, the unanswered
///   requests that are safe to repeat: reads, and writes carrying `ref=` (the server answers a repeated ref with
///   the first reply and executes it once). Other unanswered writes fail with
///   ``BidlineClientError/connectionLost(request:)``: they may or may not have been executed.
/// - Subscriptions: ``subscribe(topics:)`` opens a second connection in push mode and returns its events as an
///   `AsyncSequence`.
///
/// An actor: all state is isolated; one hop per call and one per socket read of replies.
public actor BidlineClient {
    enum State {
        case connected
        case reconnecting
        case disconnected(reason: String)
        case closed
    }

    /// A request waiting for its reply.
    struct Pending {
        let line: String
        let safeToRetry: Bool
        let completion: Completion
        /// Times this request was sent again after a reconnect.
        var resends = 0
        /// When it was last written to a connection (nil while it waits for one).
        var sentAt: ContinuousClock.Instant? = nil
    }

    enum Completion {
        case single(CheckedContinuation<Reply, any Error>)
        case batch(PipelineBatch, index: Int)
    }

    /// What the client did about dropped connections, since it was created.
    public struct Statistics: Sendable, Equatable {
        /// Connections re-established (after authentication, when credentials are known).
        public var reconnects = 0
        /// Unanswered requests sent again after a reconnect (reads and `ref=` writes).
        public var resent = 0
        /// Unanswered requests failed with ``BidlineClientError/connectionLost(request:)`` (not safe to resend).
        public var failedUnsafe = 0
    }

    /// Resends of one request across reconnects before it fails (a request the server keeps dropping the
    /// connection on must not loop forever).
    static let maxResendsPerRequest = 3

    /// Server host name or address.
    public nonisolated let host: String
    /// Server TCP port.
    public nonisolated let port: Int
    /// This client's limits.
    public nonisolated let configuration: Configuration

    var state: State = .connected
    var channel: (any Channel)?
    /// Incremented per connection; reports of an older connection are ignored.
    var generation = 0
    /// Sent requests, oldest first: the next reply belongs to the first.
    var pending = CircularBuffer<Pending>()
    /// Requests not sent yet (the connection is being re-established), in call order.
    var waiting: [Pending] = []
    /// Groups the connection's lines into replies (`OK rows=N` and its rows) and events.
    var assembler: ReplyAssembler
    var credentials: (user: String, token: String)? = nil
    var quitting = false
    var pushMode = false
    /// Set after a protocol violation: the rest of this connection's lines are ignored until it is closed.
    var discarding = false
    /// The last line the server sent that no request was waiting for (e.g. `ERR BUSY` at connect).
    var lastNotice: String? = nil
    /// When the current connection last delivered anything (for ``Configuration/replyTimeoutMillis``).
    var lastReceivedAt = ContinuousClock.now
    var reconnectTask: Task<Void, Never>? = nil
    /// Counters for monitoring.
    public private(set) var statistics = Statistics()
    let events: AsyncThrowingStream<Event, any Error>
    let eventsContinuation: AsyncThrowingStream<Event, any Error>.Continuation

    init(host: String, port: Int, configuration: Configuration) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.assembler = ReplyAssembler(maxRows: configuration.maxRowsPerReply)
        (events, eventsContinuation) = AsyncThrowingStream.makeStream(
            of: Event.self, bufferingPolicy: .bufferingOldest(configuration.maxBufferedEvents))
    }

    deinit {
        reconnectTask?.cancel()
        channel?.close(promise: nil)
        eventsContinuation.finish()
    }

    /// Connects to a Bidline server. Throws when the TCP connection cannot be established within
    /// ``Configuration/connectTimeoutMillis``. The connection is not authenticated yet: call ``auth(user:token:)``.
    public static func connect(
        host: String = "127.0.0.1", port: Int = 7878, configuration: Configuration = Configuration()
    ) async throws -> BidlineClient {
        let (channel, inbound) = try await openChannel(host: host, port: port, configuration: configuration)
        let client = BidlineClient(host: host, port: port, configuration: configuration)
        await client.attach(channel, inbound)
        return client
    }

    static func openChannel(host: String, port: Int, configuration: Configuration) async throws
        -> (any Channel, AsyncStream<ClientInbound>)
    {
        let (inbound, continuation) = AsyncStream.makeStream(of: ClientInbound.self)
        let maxLine = configuration.maxReplyLineBytes
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(configuration.connectTimeoutMillis))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(ClientLineDecoder(maxLength: maxLine)))
                    try channel.pipeline.syncOperations.addHandler(ClientChannelHandler(continuation: continuation))
                }
            }
            .connect(host: host, port: port).get()
        return (channel, inbound)
    }

    /// Makes `channel` the current connection and starts reading its replies.
    func attach(_ channel: any Channel, _ inbound: AsyncStream<ClientInbound>) {
        generation += 1
        self.channel = channel
        discarding = false
        lastReceivedAt = .now
        let generation = self.generation
        Task { [weak self] in
            for await item in inbound {
                guard let self else { return }
                await self.receive(item, generation: generation)
            }
        }
        if let timeout = configuration.replyTimeoutMillis, timeout > 0 {
            // The watchdog of this connection: ends with it (a newer generation) or with the client.
            let period = Duration.milliseconds(max(timeout / 4, 5))
            Task { [weak self] in
                while true {
                    try? await Task.sleep(for: period)
                    guard let self, await self.checkReplyTimeout(generation: generation) else { return }
                }
            }
        }
    }

    /// Fails the oldest request and closes the connection when it has waited longer than the reply timeout with
    /// nothing received meanwhile. Returns whether the watchdog should keep watching this connection.
    func checkReplyTimeout(generation: Int) -> Bool {
        guard generation == self.generation, let timeout = configuration.replyTimeoutMillis else { return false }
        if case .closed = state { return false }
        guard let channel, let oldest = pending.first, let sentAt = oldest.sentAt else { return true }
        let quiet = ContinuousClock.now - max(sentAt, lastReceivedAt)
        guard quiet > .milliseconds(timeout) else { return true }
        _ = pending.popFirst()
        finish(oldest, .failure(.timedOut(request: oldest.line, millis: timeout)))
        // Replies still on their way would be matched to the wrong requests: ignore the rest of this connection.
        discarding = true
        channel.close(promise: nil)
        return false
    }

    // MARK: Requests

    /// Sends one request line (without its line ending) and returns the server's reply: `OK …` or `ERR …`
    /// (an `ERR` reply is not thrown), with its rows for `OK rows=N` replies.
    ///
    /// Throws ``BidlineClientError`` when no reply can be had: the line is not a valid single request, the client
    /// is closed, the connection dropped and the request was not safe to resend, or reconnecting failed.
    /// Sending `QUIT` closes the client after its reply. `SUBSCRIBE` is refused here: use ``subscribe(topics:)``.
    public func send(_ line: String) async throws -> Reply {
        let spec = try Self.validate(line)
        try checkCapacity(1)
        if spec?.verb == .quit { quitting = true }
        let reply = try await withCheckedThrowingContinuation { continuation in
            enqueue([
                Pending(line: line, safeToRetry: RequestSafety.isSafeToRetry(line), completion: .single(continuation))
            ])
        }
        if spec?.verb == .auth { rememberCredentials(line, reply) }
        if spec?.verb == .quit { await close() }
        return reply
    }

    /// Sends all `lines` in one write and returns their replies in the same order. Same rules as ``send(_:)``
    /// per line (and `QUIT` is refused: end with ``close()``); if some requests fail, throws
    /// ``BidlineClientError/pipelineIncomplete(replies:errors:)`` with the replies that did arrive.
    public func pipeline(_ lines: [String]) async throws -> [Reply] {
        guard !lines.isEmpty else { return [] }
        var specs: [VerbSpec?] = []
        specs.reserveCapacity(lines.count)
        for line in lines {
            let spec = try Self.validate(line)
            if spec?.verb == .quit { throw BidlineClientError.invalidRequest("QUIT inside a pipeline; use close()") }
            specs.append(spec)
        }
        try checkCapacity(lines.count)
        let replies = try await withCheckedThrowingContinuation { continuation in
            let batch = PipelineBatch(count: lines.count, continuation: continuation)
            var items: [Pending] = []
            items.reserveCapacity(lines.count)
            for (index, line) in lines.enumerated() {
                items.append(
                    Pending(
                        line: line, safeToRetry: RequestSafety.isSafeToRetry(line),
                        completion: .batch(batch, index: index)))
            }
            enqueue(items)
        }
        for (index, spec) in specs.enumerated() where spec?.verb == .auth {
            rememberCredentials(lines[index], replies[index])
        }
        return replies
    }

    /// Authenticates the connection (`AUTH user token`) and remembers the credentials for reconnects. Throws
    /// ``BidlineClientError/rejected(code:message:)`` (`AUTH_FAILED`) when the server refuses them.
    @discardableResult
    public func auth(user: String, token: String) async throws -> Reply {
        try Self.checkToken(user, "user")
        try Self.checkToken(token, "token")
        return try Self.requireOK(try await send("AUTH \(user) \(token)"))
    }

    /// Closes the connection. Requests still waiting fail with ``BidlineClientError/closed``; subscriptions made
    /// on this connection end. Idempotent.
    public func close() async {
        if case .closed = state { return }
        state = .closed
        reconnectTask?.cancel()
        failAll(.closed)
        eventsContinuation.finish()
        let channel = self.channel
        self.channel = nil
        try? await channel?.close().get()
    }

    /// Whether the client currently has a working, authenticated connection (false while reconnecting).
    public var isConnected: Bool {
        if case .connected = state, let channel, channel.isActive { return true }
        return false
    }

    static func validate(_ line: String) throws(BidlineClientError) -> VerbSpec? {
        guard !line.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else {
            throw .invalidRequest("a request is one line: no line breaks")
        }
        guard line.utf8.contains(where: { $0 != 0x20 && $0 != 0x09 }) else {
            throw .invalidRequest("empty request (the server does not answer blank lines)")
        }
        let spec = RequestSafety.spec(of: line)
        if spec?.verb == .subscribe {
            throw .invalidRequest("SUBSCRIBE switches a connection to push mode; use subscribe(topics:)")
        }
        return spec
    }

    static func checkToken(_ value: String, _ what: String) throws(BidlineClientError) {
        guard !value.isEmpty, !value.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw .invalidRequest("\(what) must be one token without spaces or control characters")
        }
    }

    /// The reply if it is `OK`, else ``BidlineClientError/rejected(code:message:)``.
    static func requireOK(_ reply: Reply) throws(BidlineClientError) -> Reply {
        guard reply.isOK else {
            throw .rejected(code: reply.errorCode ?? "UNKNOWN", message: reply.errorMessage ?? reply.line)
        }
        return reply
    }

    func checkCapacity(_ count: Int) throws(BidlineClientError) {
        if case .closed = state { throw .closed }
        guard pending.count + waiting.count + count <= configuration.maxInFlight else {
            throw .tooManyInFlight(limit: configuration.maxInFlight)
        }
    }

    func rememberCredentials(_ line: String, _ reply: Reply) {
        guard reply.isOK else { return }
        let tokens = line.split(whereSeparator: RequestSafety.isSpace)
        guard tokens.count == 3 else { return }
        credentials = (String(tokens[1]), String(tokens[2]))
    }

    /// Sends `items` now, or queues them until the connection is back.
    func enqueue(_ items: [Pending]) {
        switch state {
        case .connected:
            guard let channel, channel.isActive else {
                // The connection's end is being reported; the requests go out after the reconnect.
                waiting.append(contentsOf: items)
                return
            }
            pending.append(contentsOf: items)
            write(items, to: channel)
        case .reconnecting:
            waiting.append(contentsOf: items)
        case .disconnected(let reason):
            guard configuration.reconnect.maxAttempts > 0 else {
                // `ReconnectPolicy.never`: a lost connection stays lost; requests say so at once.
                for item in items {
                    finish(item, .failure(.reconnectFailed(attempts: 0, reason: "\(reason); reconnecting is disabled")))
                }
                return
            }
            waiting.append(contentsOf: items)
            startReconnect()
        case .closed:
            for item in items { finish(item, .failure(.closed)) }
        }
    }

    func write(_ items: some Collection<Pending>, to channel: any Channel) {
        // The items are the newest in `pending`: stamp their send time there.
        let now = ContinuousClock.now
        var index = pending.endIndex
        for _ in 0..<items.count where index > pending.startIndex {
            index = pending.index(before: index)
            pending[index].sentAt = now
        }
        var buffer = channel.allocator.buffer(capacity: items.reduce(0) { $0 + $1.line.utf8.count + 1 })
        for item in items {
            buffer.writeString(item.line)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        channel.writeAndFlush(buffer, promise: nil)
    }

    func finish(_ item: Pending, _ result: Result<Reply, BidlineClientError>) {
        switch item.completion {
        case .single(let continuation): continuation.resume(with: result.mapError { $0 as any Error })
        case .batch(let batch, let index): batch.complete(index, result)
        }
    }

    func failAll(_ error: BidlineClientError) {
        while let item = pending.popFirst() { finish(item, .failure(error)) }
        let queued = waiting
        waiting = []
        for item in queued { finish(item, .failure(error)) }
        assembler.reset()
    }

    // MARK: Replies

    func receive(_ inbound: ClientInbound, generation: Int) {
        guard generation == self.generation else { return }
        switch inbound {
        case .lines(let lines):
            lastReceivedAt = .now
            for line in lines { consume(line) }
        case .closed(let reason):
            connectionLost(reason)
        }
    }

    func consume(_ line: String) {
        guard !discarding else { return }
        let step: ReplyAssembler.Step
        do {
            step = try assembler.consume(line)
        } catch {
            discarding = true
            channel?.pipeline.fireErrorCaught(
                BidlineClientError.protocolViolation("\(error.announced) rows in one reply (limit \(error.limit))"))
            return
        }
        switch step {
        case .event(let line): deliver(Event(line))
        case .reply(let reply): complete(Reply(line: reply.head, rows: reply.rows.map(Reply.Row.init)))
        case .incomplete: break
        }
    }

    func complete(_ reply: Reply) {
        guard let item = pending.popFirst() else {
            lastNotice = reply.line  // nobody asked: e.g. ERR BUSY when the server refuses the connection
            return
        }
        finish(item, .success(reply))
    }

    func deliver(_ event: Event) {
        if case .dropped = eventsContinuation.yield(event) {
            eventsContinuation.finish(
                throwing: BidlineClientError.subscriberTooSlow(limit: configuration.maxBufferedEvents))
            channel?.close(promise: nil)
        }
    }

    // MARK: Reconnect

    func connectionLost(_ reason: String?) {
        let why = reason ?? lastNotice.map { "server said: \($0)" } ?? "connection closed by the server"
        var unanswered: [Pending] = []
        while let item = pending.popFirst() { unanswered.append(item) }
        assembler.reset()
        channel = nil
        if quitting || pushMode {
            if case .closed = state {} else { state = .closed }
            for item in unanswered { finish(item, .failure(quitting ? .closed : .connectionLost(request: item.line))) }
            failAll(.closed)
            if quitting {
                eventsContinuation.finish()
            } else {
                eventsContinuation.finish(throwing: BidlineClientError.connectionLost(request: "SUBSCRIBE"))
            }
            return
        }
        switch state {
        case .connected:
            var resend: [Pending] = []
            for var item in unanswered {
                if item.safeToRetry && item.resends < Self.maxResendsPerRequest {
                    item.resends += 1
                    statistics.resent += 1
                    resend.append(item)
                } else {
                    statistics.failedUnsafe += 1
                    finish(item, .failure(.connectionLost(request: item.line)))
                }
            }
            waiting = resend + waiting
            if configuration.reconnect.maxAttempts > 0 {
                startReconnect()
            } else {
                state = .disconnected(reason: why)
                let queued = waiting
                waiting = []
                for item in queued {
                    finish(item, .failure(.reconnectFailed(attempts: 0, reason: "\(why); reconnecting is disabled")))
                }
            }
        case .reconnecting:
            // Lost while re-authenticating: the reconnect loop sees its AUTH fail and tries again.
            for item in unanswered { finish(item, .failure(.connectionLost(request: "AUTH"))) }
        case .disconnected, .closed:
            for item in unanswered { finish(item, .failure(.closed)) }
        }
    }

    func startReconnect() {
        state = .reconnecting
        reconnectTask = Task { await self.reconnectLoop() }
    }

    func reconnectLoop() async {
        let policy = configuration.reconnect
        var delay = max(policy.initialDelayMillis, 1)
        var reason = "no attempt made"
        for _ in 0..<max(policy.maxAttempts, 1) {
            try? await Task.sleep(for: .milliseconds(delay))
            delay = min(delay * 2, max(policy.maxDelayMillis, 1))
            guard case .reconnecting = state else { return }
            let opened: (any Channel, AsyncStream<ClientInbound>)
            do {
                opened = try await Self.openChannel(host: host, port: port, configuration: configuration)
            } catch {
                reason = "\(error)"
                continue
            }
            guard case .reconnecting = state else {
                opened.0.close(promise: nil)
                return
            }
            attach(opened.0, opened.1)
            if let credentials {
                let reply: Reply
                do {
                    reply = try await withCheckedThrowingContinuation { continuation in
                        let line = "AUTH \(credentials.user) \(credentials.token)"
                        pending.append(Pending(line: line, safeToRetry: false, completion: .single(continuation)))
                        write(CollectionOfOne(pending.last!), to: opened.0)
                    }
                } catch {
                    reason = "connection lost while authenticating"
                    continue
                }
                guard case .reconnecting = state else { return }
                guard reply.isOK else {
                    state = .disconnected(reason: reply.line)
                    channel = nil
                    opened.0.close(promise: nil)
                    let queued = waiting
                    waiting = []
                    for item in queued { finish(item, .failure(.reauthenticationFailed(reply: reply.line))) }
                    return
                }
            }
            state = .connected
            statistics.reconnects += 1
            let resend = waiting
            waiting = []
            enqueue(resend)
            return
        }
        state = .disconnected(reason: reason)
        let queued = waiting
        waiting = []
        for item in queued { finish(item, .failure(.reconnectFailed(attempts: policy.maxAttempts, reason: reason))) }
    }
}

/// Collects the replies of one ``BidlineClient/pipeline(_:)`` call and resumes its caller once, when the last
/// one is in. Used only inside the client actor.
final class PipelineBatch {
    var replies: [BidlineClient.Reply?]
    var errors: [Int: BidlineClientError] = [:]
    var remaining: Int
    let continuation: CheckedContinuation<[BidlineClient.Reply], any Error>

    init(count: Int, continuation: CheckedContinuation<[BidlineClient.Reply], any Error>) {
        replies = Array(repeating: nil, count: count)
        remaining = count
        self.continuation = continuation
    }

    func complete(_ index: Int, _ result: Result<BidlineClient.Reply, BidlineClientError>) {
        switch result {
        case .success(let reply): replies[index] = reply
        case .failure(let error): errors[index] = error
        }
        remaining -= 1
        guard remaining == 0 else { return }
        if errors.isEmpty {
            continuation.resume(returning: replies.map { $0! })
        } else {
            continuation.resume(throwing: BidlineClientError.pipelineIncomplete(replies: replies, errors: errors))
        }
    }
}
