import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy in front of a server that can cut its first connection at a chosen point: it passes the first
/// `forwardReplies` reply lines to the client, keeps reading (and swallowing) the server's replies until it has
/// seen `cutAfterReplies` of them — so the server has executed those requests — and then closes both sides.
/// Later connections pass through untouched. All on one event loop.
final class CuttingProxy: Sendable {
    struct Plan: Sendable {
        var forwardReplies: Int
        var cutAfterReplies: Int
    }

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let targetPort: Int
    let plan: Mutex<Plan?>
    let channel: Mutex<(any Channel)?> = Mutex(nil)
    /// Connections accepted so far, and whether the cut happened.
    let accepted = Atomic<Int>(0)
    let cuts = Atomic<Int>(0)

    init(targetPort: Int, plan: Plan) {
        self.targetPort = targetPort
        self.plan = Mutex(plan)
    }

    /// Starts listening on an ephemeral loopback port and returns it.
    func start() async throws -> Int {
        let proxy = self
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                proxy.accepted.add(1, ordering: .relaxed)
                let plan = proxy.plan.withLock { plan in
                    defer { plan = nil }  // only the first connection is cut
                    return plan
                }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(FrontHandler(proxy: proxy, plan: plan))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        channel.withLock { $0 = server }
        return server.localAddress!.port!
    }

    func stop() async {
        if let server = channel.withLock({ $0 }) { try? await server.close().get() }
        try? await group.shutdownGracefully()
    }

    /// The client-facing side: forwards the client's bytes to the server once connected.
    final class FrontHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let proxy: CuttingProxy
        let plan: Plan?
        var backend: (any Channel)? = nil
        var buffered: [ByteBuffer] = []

        init(proxy: CuttingProxy, plan: Plan?) {
            self.proxy = proxy
            self.plan = plan
        }

        func channelActive(context: ChannelHandlerContext) {
            let front = context.channel
            let plan = self.plan
            let proxy = self.proxy
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            ClientBootstrap(group: context.eventLoop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { back in
                    back.eventLoop.makeCompletedFuture {
                        try back.pipeline.syncOperations.addHandler(BackHandler(proxy: proxy, front: front, plan: plan))
                    }
                }
                .connect(host: "127.0.0.1", port: proxy.targetPort)
                .whenComplete { result in
                    let handler = bound.value
                    switch result {
                    case .success(let back):
                        handler.backend = back
                        for buffer in handler.buffered { back.write(buffer, promise: nil) }
                        back.flush()
                        handler.buffered = []
                    case .failure:
                        front.close(promise: nil)
                    }
                }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            if let backend { backend.writeAndFlush(buffer, promise: nil) } else { buffered.append(buffer) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            backend?.close(promise: nil)
            context.fireChannelInactive()
        }
    }

    /// The server-facing side: forwards replies to the client, or cuts according to the plan.
    final class BackHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let proxy: CuttingProxy
        let front: any Channel
        let plan: Plan?
        var linesSeen = 0
        var cut = false

        init(proxy: CuttingProxy, front: any Channel, plan: Plan?) {
            self.proxy = proxy
            self.front = front
            self.plan = plan
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            guard let plan, !cut else {
                if !cut { front.writeAndFlush(buffer, promise: nil) }
                return
            }
            // Forward the bytes up to and including the `forwardReplies`-th newline; swallow the rest.
            var forwardCount = 0
            for (offset, byte) in buffer.readableBytesView.enumerated() where byte == UInt8(ascii: "\n") {
                linesSeen += 1
                if linesSeen <= plan.forwardReplies { forwardCount = offset + 1 }
            }
            if linesSeen < plan.forwardReplies { forwardCount = buffer.readableBytes }
            if forwardCount > 0, let slice = buffer.readSlice(length: forwardCount) {
                front.writeAndFlush(slice, promise: nil)
            }
            if linesSeen >= plan.cutAfterReplies {
                cut = true
                proxy.cuts.add(1, ordering: .relaxed)
                front.close(promise: nil)
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            front.close(promise: nil)
            context.fireChannelInactive()
        }
    }
}
