import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A simple pipelined line connection for set-up and checks: send many lines, await their replies in order.
/// Replies with rows (`OK rows=N`) are returned with their rows joined by `\n`.
public final class LineConnection: Sendable {
    let channel: any Channel
    let handler: Handler

    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        struct Waiter {
            var promise: EventLoopPromise<String>
            var lines: [String] = []
            var rowsLeft: Int? = nil
        }
        struct State {
            var buffer: [UInt8] = []
            var waiters: [Waiter] = []
            var waiterStart = 0
            var closed = false
        }
        let state = NIOLockedValueBox(State())

        func expect(_ promise: EventLoopPromise<String>) {
            let closed = state.withLockedValue { state -> Bool in
                if state.closed { return true }
                state.waiters.append(Waiter(promise: promise))
                return false
            }
            if closed { promise.fail(ChannelError.ioOnClosedChannel) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            var completed: [(EventLoopPromise<String>, String)] = []
            state.withLockedValue { state in
                state.buffer.append(contentsOf: bytes.readBytes(length: bytes.readableBytes) ?? [])
                var start = 0
                while let newline = state.buffer[start...].firstIndex(of: 0x0A) {
                    let line = String(decoding: state.buffer[start..<newline], as: UTF8.self)
                    start = newline + 1
                    guard state.waiterStart < state.waiters.count else { continue }
                    var waiter = state.waiters[state.waiterStart]
                    waiter.lines.append(line)
                    if waiter.rowsLeft == nil, line.hasPrefix("OK rows="),
                        let count = Int(line.dropFirst(8).prefix { $0.isNumber })
                    {
                        waiter.rowsLeft = count
                    } else if let left = waiter.rowsLeft {
                        waiter.rowsLeft = left - 1
                    }
                    if (waiter.rowsLeft ?? 0) <= 0 {
                        completed.append((waiter.promise, waiter.lines.joined(separator: "\n")))
                        state.waiterStart += 1
                        if state.waiterStart > 4096 {
                            state.waiters.removeFirst(state.waiterStart)
                            state.waiterStart = 0
                        }
                    } else {
                        state.waiters[state.waiterStart] = waiter
                    }
                }
                state.buffer.removeFirst(start)
            }
            for (promise, text) in completed { promise.succeed(text) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            let pending = state.withLockedValue { state -> [Waiter] in
                state.closed = true
                defer { state.waiters = [] }
                return Array(state.waiters[state.waiterStart...])
            }
            for waiter in pending { waiter.promise.fail(ChannelError.ioOnClosedChannel) }
        }
    }

    init(channel: any Channel, handler: Handler) {
        self.channel = channel
        self.handler = handler
    }

    public static func connect(host: String, port: Int, group: any EventLoopGroup) async throws -> LineConnection {
        let handler = Handler()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in channel.pipeline.addHandler(handler) }
            .connect(host: host, port: port).get()
        return LineConnection(channel: channel, handler: handler)
    }

    /// Sends every line in one write and returns the replies in order.
    public func send(_ lines: [String]) async throws -> [String] {
        guard !lines.isEmpty else { return [] }
        let promises = lines.map { _ in channel.eventLoop.makePromise(of: String.self) }
        for promise in promises { handler.expect(promise) }
        var text = lines.joined(separator: "\n")
        text.append("\n")
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
        var replies: [String] = []
        replies.reserveCapacity(lines.count)
        for promise in promises { replies.append(try await promise.futureResult.get()) }
        return replies
    }

    /// Sends one line and returns its reply.
    public func call(_ line: String) async throws -> String { try await send([line])[0] }

    /// Sends `lines` in chunks of `chunk`, so that set-up of a large population stays within the server's
    /// pipeline bound.
    public func sendChunked(_ lines: [String], chunk: Int = 2_000) async throws -> [String] {
        var replies: [String] = []
        replies.reserveCapacity(lines.count)
        var index = 0
        while index < lines.count {
            let end = min(lines.count, index + chunk)
            replies += try await send(Array(lines[index..<end]))
            index = end
        }
        return replies
    }

    public func close() async { try? await channel.close().get() }
}

/// `key=value` fields of a reply line.
public func replyFields(_ line: some StringProtocol) -> [String: String] {
    var result: [String: String] = [:]
    for token in line.split(separator: " ") {
        guard let equals = token.firstIndex(of: "=") else { continue }
        result[String(token[..<equals])] = String(token[token.index(after: equals)...])
    }
    return result
}

/// Parses a two-decimal money string into cents (`"12.50"` → 1250).
public func cents(_ text: String?) -> Int64? {
    guard let text else { return nil }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count <= 2, let whole = Int64(parts[0]) else { return nil }
    var fraction: Int64 = 0
    if parts.count == 2 {
        let digits = parts[1]
        guard digits.count <= 2, let value = Int64(digits) else { return nil }
        fraction = digits.count == 1 ? value * 10 : value
    }
    return whole * 100 + (whole < 0 ? -fraction : fraction)
}
