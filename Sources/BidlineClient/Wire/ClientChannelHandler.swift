import NIOCore

/// What a connection reports to its client, in order: the lines of each socket read as one batch, then one
/// ``closed`` when the connection ends.
enum ClientInbound: Sendable {
    case lines([String])
    case closed(reason: String?)
}

/// The end of a client connection's pipeline: collects the lines of one socket read and hands them to the
/// client as one batch (one actor hop per read, not per line); reports the end of the connection once.
final class ClientChannelHandler: ChannelInboundHandler {
    typealias InboundIn = String

    let continuation: AsyncStream<ClientInbound>.Continuation
    var batch: [String] = []
    var failure: String? = nil

    init(continuation: AsyncStream<ClientInbound>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        batch.append(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        flush()
        continuation.yield(.closed(reason: failure))
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if failure == nil { failure = "\(error)" }
        context.close(promise: nil)
    }

    private func flush() {
        guard !batch.isEmpty else { return }
        continuation.yield(.lines(batch))
        batch.removeAll(keepingCapacity: true)
    }
}
