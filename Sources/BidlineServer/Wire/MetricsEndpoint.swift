import NIOCore
import NIOHTTP1
import NIOPosix

/// The `--metrics-port` endpoint: a minimal HTTP/1.1 server that answers `GET /metrics` with the engine host's
/// Prometheus registry, the same text `METRICS` returns. Any other path gets 404, any other method 405. Each
/// response closes its connection, so nothing is left open at shutdown.
///
/// It runs on the engine's event loop: a scrape renders the registry there, synchronously (a few microseconds,
/// rarely), and needs no hop.
final class MetricsEndpoint: Sendable {
    /// The bound port (the ephemeral one when asked for port 0).
    let port: Int
    let channel: any Channel

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    /// Binds `host:port` on the engine host's event loop.
    static func bind(host: String, port: Int, engineHost: EngineHost) async throws -> MetricsEndpoint {
        let channel = try await ServerBootstrap(group: engineHost.eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(host: engineHost))
                }
            }
            .bind(host: host, port: port).get()
        return MetricsEndpoint(channel: channel, port: channel.localAddress?.port ?? port)
    }

    /// Stops listening.
    func close() async {
        try? await channel.close().get()
    }
}

/// Answers one HTTP request per connection: the registry for `GET /metrics` (or `HEAD`), else an error status.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The Prometheus text exposition format's content type.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    let host: EngineHost
    var request: HTTPRequestHead? = nil

    init(host: EngineHost) { self.host = host }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break  // a scrape has no body; one sent anyway is ignored
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let status: HTTPResponseStatus
        var body = context.channel.allocator.buffer(capacity: 0)
        var headers = HTTPHeaders()
        if head.method != .GET && head.method != .HEAD {
            status = .methodNotAllowed
            headers.add(name: "Allow", value: "GET, HEAD")
            body.writeString("only GET /metrics\n")
        } else if path != "/metrics" {
            status = .notFound
            body.writeString("not found: the metrics are at /metrics\n")
        } else {
            status = .ok
            // The endpoint is bound on the engine's loop: the host's state is read here, without a hop.
            let text = host.assumeIsolated { host in host.prometheusText() }
            body.writeBytes(text)
        }
        headers.add(name: "Content-Type", value: status == .ok ? Self.contentType : "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
