import BidlineProtocol
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
        struct State {
            var framer = StreamLineFramer(maxLength: 1 << 20)
            var assembler = ReplyAssembler()
            var waiters: [EventLoopPromise<String>] = []
            var waiterStart = 0
            var closed = false
        }
        let state = NIOLockedValueBox(State())

        func expect(_ promise: EventLoopPromise<String>) {
            let closed = state.withLockedValue { state -> Bool in
                if state.closed { return true }
                state.waiters.append(promise)
                return false
            }
            if closed { promise.fail(ChannelError.ioOnClosedChannel) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            var completed: [(EventLoopPromise<String>, String)] = []
            state.withLockedValue { state in
                var lines: [String] = []
                bytes.withUnsafeReadableBytes { raw in
                    state.framer.frames(in: raw) { frame in
                        switch frame {
                        case .line(let line): lines.append(String(decoding: line, as: UTF8.self))
                        case .tooLong: lines.append("ERR REPLY_TOO_LONG reply line over 1 MiB; discarded")
                        }
                    }
                }
                for line in lines {
                    // A reply too large to assemble, or an event, answers no request.
                    guard case .reply(let reply)? = try? state.assembler.consume(line),
                        state.waiterStart < state.waiters.count
                    else { continue }
                    completed.append((state.waiters[state.waiterStart], reply.text))
                    state.waiterStart += 1
                    if state.waiterStart > 4096 {
                        state.waiters.removeFirst(state.waiterStart)
                        state.waiterStart = 0
                    }
                }
            }
            for (promise, text) in completed { promise.succeed(text) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            let pending = state.withLockedValue { state -> [EventLoopPromise<String>] in
                state.closed = true
                defer { state.waiters = [] }
                return Array(state.waiters[state.waiterStart...])
            }
            for promise in pending { promise.fail(ChannelError.ioOnClosedChannel) }
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

/// `key=value` fields of a reply line (``ReplyParser/fields(_:)``; a key seen twice keeps its last value).
public func replyFields(_ line: some StringProtocol) -> [String: String] { ReplyParser.fields(line) }

/// Parses a money string of a reply into cents (`"12.50"` → 1250, `"-3.07"` → -307), with
/// ``ReplyParser/money(_:)-(String?)``.
public func cents(_ text: String?) -> Int64? { ReplyParser.money(text)?.cents }
