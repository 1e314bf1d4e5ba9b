import BidlineClient
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// ``BidlineClient/Configuration/replyTimeoutMillis`` against servers that stop answering.
@Suite(.timeLimit(.minutes(1))) struct ReplyTimeoutTests {
    /// A line server on loopback whose first `silentConnections` connections read and never answer; later ones
    /// answer every line with `OK echo=<line>`.
    final class StubbornServer: Sendable {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let accepted = Atomic<Int>(0)
        let silentConnections: Int
        let channel = Mutex<(any Channel)?>(nil)

        init(silentConnections: Int) { self.silentConnections = silentConnections }

        func start() async throws -> Int {
            let server = self
            let listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { child in
                    let index = server.accepted.add(1, ordering: .relaxed).newValue
                    return child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LineDecoder()))
                        try child.pipeline.syncOperations.addHandler(
                            Answerer(silent: index <= server.silentConnections))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            channel.withLock { $0 = listener }
            return listener.localAddress!.port!
        }

        func stop() async {
            if let listener = channel.withLock({ $0 }) { try? await listener.close().get() }
            try? await group.shutdownGracefully()
        }

        struct LineDecoder: ByteToMessageDecoder {
            typealias InboundOut = String
            mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
                guard let newline = buffer.readableBytesView.firstIndex(of: 0x0A) else { return .needMoreData }
                let length = newline - buffer.readerIndex
                let line = buffer.readString(length: length)!
                buffer.moveReaderIndex(forwardBy: 1)
                context.fireChannelRead(wrapInboundOut(line))
                return .continue
            }
        }

        final class Answerer: ChannelInboundHandler {
            typealias InboundIn = String
            typealias OutboundOut = ByteBuffer
            let silent: Bool
            init(silent: Bool) { self.silent = silent }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                guard !silent else { return }
                let line = unwrapInboundIn(data)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "OK echo=\(line.split(separator: " ")[0])\n")), promise: nil)
            }
        }
    }

    static let reconnecting = BidlineClient.ReconnectPolicy(maxAttempts: 3, initialDelayMillis: 10, maxDelayMillis: 50)

    /// A client with the given reply timeout and reconnect policy, connected to a server whose first connection
    /// never answers and whose later ones do; both are closed afterwards.
    func withSilentFirstConnection(
        replyTimeoutMillis: Int64, reconnect: BidlineClient.ReconnectPolicy,
        _ body: (BidlineClient, StubbornServer) async throws -> Void
    ) async throws {
        let server = StubbornServer(silentConnections: 1)
        let port = try await server.start()
        var configuration = BidlineClient.Configuration()
        configuration.replyTimeoutMillis = replyTimeoutMillis
        configuration.reconnect = reconnect
        let client = try await BidlineClient.connect(port: port, configuration: configuration)
        do {
            try await body(client, server)
        } catch {
            await client.close()
            await server.stop()
            throw error
        }
        await client.close()
        await server.stop()
    }

    @Test func aSilentServerFailsTheRequestWithTimedOutInsteadOfHangingForever() async throws {
        // Long enough that the answering second connection always beats it, even on a loaded machine.
        try await withSilentFirstConnection(replyTimeoutMillis: 1_000, reconnect: Self.reconnecting) { client, server in
            await #expect(throws: BidlineClientError.timedOut(request: "PING", millis: 1_000)) {
                _ = try await client.send("PING")
            }
            // The dead connection was dropped and replaced: the next request is answered by the second one.
            let reply = try await client.send("PING")
            #expect(reply.line == "OK echo=PING")
            #expect(server.accepted.load(ordering: .relaxed) == 2)
            #expect(await client.statistics.reconnects == 1)
        }
    }

    @Test func withReconnectingDisabledLaterRequestsFailWithoutANewConnection() async throws {
        try await withSilentFirstConnection(replyTimeoutMillis: 200, reconnect: .never) { client, server in
            await #expect(throws: BidlineClientError.timedOut(request: "PING", millis: 200)) {
                _ = try await client.send("PING")
            }
            // Whether or not the drop has been processed yet, the next request fails the same way, and the
            // server never sees a second connection.
            do {
                _ = try await client.send("PING")
                Issue.record("expected reconnectFailed")
            } catch let error as BidlineClientError {
                guard case .reconnectFailed(attempts: 0, _) = error else {
                    Issue.record("expected reconnectFailed, got \(error)")
                    return
                }
            }
            #expect(server.accepted.load(ordering: .relaxed) == 1)
        }
    }

    @Test func requestsBehindTheTimedOutOneAreResentOnANewConnection() async throws {
        // Long enough that the answering connection's reply always beats it, even on a loaded machine.
        try await withSilentFirstConnection(replyTimeoutMillis: 2_000, reconnect: Self.reconnecting) { client, server in
            // Two reads in flight on the silent connection: the oldest times out, the other (safe to repeat) is
            // sent again after the reconnect and answered there.
            func outcome(_ line: String) async -> Result<BidlineClient.Reply, any Error> {
                do { return .success(try await client.send(line)) } catch { return .failure(error) }
            }
            async let first = outcome("PING")
            async let second = outcome("STATS")
            let outcomes = await [first, second]
            let timedOut = outcomes.filter {
                if case .failure(let error) = $0, case .timedOut = error as? BidlineClientError { return true }
                return false
            }
            let answered = outcomes.compactMap { try? $0.get() }
            #expect(timedOut.count == 1)
            #expect(answered.count == 1)
            #expect(answered.first?.line.hasPrefix("OK echo=") == true)
            #expect(server.accepted.load(ordering: .relaxed) == 2)
            #expect(await client.statistics.resent == 1)
        }
    }
}
