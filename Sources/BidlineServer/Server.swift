import BidlineCore
import BidlineProtocol
import BidlineStorage
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The Bidline server: the engine host behind a SwiftNIO line-protocol listener. A lifecycle `Service`:
/// `run()` serves until graceful shutdown (SIGTERM/SIGINT through a `ServiceGroup`), then stops accepting,
/// lets each connection finish its in-flight batch (NIOExtras' `ServerQuiescingHelper` tells every open
/// connection to quiesce and completes once the last one has closed), flushes the log, takes a snapshot and
/// returns. Nothing sleeps or polls: every step awaits the completion of the one before.
public final class BidlineServer: Service, Sendable {
    /// Where the server is in its life.
    public enum State: Sendable, Equatable {
        case idle
        case serving(port: Int)
        case draining
        case stopped
    }

    /// What the server holds while it runs, under one lock.
    struct Running {
        var state = State.idle
        /// Closes the listener and quiesces every accepted connection (set by `start()`).
        var quiescing: ServerQuiescingHelper? = nil
        /// The `--metrics-port` listener, when configured.
        var metrics: MetricsEndpoint? = nil
        /// Journals a tick once a second when a deadline has passed (an event-loop timer; the next tick is
        /// scheduled once the last one is durable, so ticks never overlap).
        var ticker: RepeatedTask? = nil
        /// Callers of `run()` and `stop()` waiting for the drain, flush and final snapshot to end.
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The engine host the connections hand their batches to.
    public let host: EngineHost
    /// The listener's addresses and limits.
    public let configuration: ServerConfiguration
    let logger: Logger
    let running = Mutex(Running())
    let connectionCount = Atomic<Int>(0)

    /// A server for `host`; nothing is bound before ``start()`` or ``run()``.
    public init(
        host: EngineHost, configuration: ServerConfiguration, logger: Logger = Logger(label: "bidline.server")
    ) {
        self.host = host
        self.configuration = configuration
        self.logger = logger
    }

    /// Where the server is in its life now.
    public var state: State { running.withLock { $0.state } }

    /// The port the `--metrics-port` endpoint is bound to, once started (`nil` when not configured).
    public var metricsPort: Int? { running.withLock { $0.metrics?.port } }

    /// Binds and starts serving (and the metrics endpoint, when configured); returns the bound port (useful with
    /// port 0).
    @discardableResult
    public func start() async throws -> Int {
        let host = self.host
        let configuration = self.configuration
        let logger = self.logger
        let server = self
        let quiescing = ServerQuiescingHelper(group: host.eventLoop)
        // One loop for the engine and every connection: batches reach the engine without a thread hop.
        let bootstrap = ServerBootstrap(group: host.eventLoop)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                // Collects the accepted connections, to quiesce them at shutdown.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A client may send its requests and close its side (`printf … | nc`): answer them, then close.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: configuration.maxOutboundBytes / 2, high: configuration.maxOutboundBytes)
            )
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { channel in
                let open = server.connectionCount.wrappingAdd(1, ordering: .relaxed).newValue
                host.metrics.connections.record(Double(open))
                let onClose: @Sendable () -> Void = {
                    let left = server.connectionCount.wrappingSubtract(1, ordering: .relaxed).newValue
                    host.metrics.connections.record(Double(left))
                }
                if open > configuration.maxConnections {
                    logger.warning(
                        "refusing a connection: limit reached", metadata: ["limit": "\(configuration.maxConnections)"])
                    host.metrics.rejected(.busy)
                    var line = ReplyWriter(capacity: 96)
                    line.error(.busy, "too many connections (limit \(configuration.maxConnections))")
                    let buffer = channel.allocator.buffer(bytes: line.bytes)
                    return channel.writeAndFlush(buffer).flatMap { channel.close() }.always { _ in onClose() }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectionHandler(host: host, configuration: configuration, logger: logger, onClose: onClose))
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        let port = channel.localAddress?.port ?? configuration.port
        var metrics: MetricsEndpoint? = nil
        if let metricsPort = configuration.metricsPort {
            do {
                metrics = try await MetricsEndpoint.bind(
                    host: configuration.metricsHost, port: metricsPort, engineHost: host)
            } catch {
                try? await channel.close().get()
                throw error
            }
        }
        running.withLock { running in
            running.state = .serving(port: port)
            running.quiescing = quiescing
            running.metrics = metrics
            running.ticker = host.eventLoop.scheduleRepeatedAsyncTask(initialDelay: .seconds(1), delay: .seconds(1)) {
                _ in
                let ticked = host.eventLoop.makePromise(of: Void.self)
                ticked.completeWithTask { await host.tickIfDue() }
                return ticked.futureResult
            }
        }
        logger.info("serving", metadata: ["address": "\(configuration.host):\(port)"])
        if let metrics {
            let address = "\(configuration.metricsHost):\(metrics.port)"
            logger.info("metrics", metadata: ["address": "\(address)", "path": "/metrics"])
        }
        return port
    }

    /// Stops accepting, lets every connection finish its in-flight batch and close, flushes the log and takes the
    /// final snapshot. Returns once all of that is done, also when called again meanwhile (or from `run()`).
    public func stop() async {
        enum Role {
            case drain(ServerQuiescingHelper?, MetricsEndpoint?, RepeatedTask?)
            case wait, none
        }
        let role = running.withLock { running -> Role in
            switch running.state {
            case .serving:
                running.state = .draining
                return .drain(running.quiescing, running.metrics, running.ticker)
            case .draining: return .wait
            case .idle, .stopped: return .none
            }
        }
        switch role {
        case .none: return
        case .wait: return await stopped()
        case .drain(let quiescing, let metrics, let ticker):
            ticker?.cancel()
            // Closes the listener, sends every open connection `ChannelShouldQuiesceEvent` (it answers what it has
            // read, then closes), and completes once the last of them has closed.
            let drained = host.eventLoop.makePromise(of: Void.self)
            quiescing?.initiateShutdown(promise: drained)
            if quiescing == nil { drained.succeed() }
            do { try await drained.futureResult.get() } catch {
                logger.warning("draining connections failed", metadata: ["error": "\(error)"])
            }
            await metrics?.close()
            await host.shutdown()
            let waiters = running.withLock { running in
                running.state = .stopped
                running.quiescing = nil
                running.metrics = nil
                running.ticker = nil
                defer { running.stopWaiters = [] }
                return running.stopWaiters
            }
            for waiter in waiters { waiter.resume() }
            logger.info("stopped")
        }
    }

    /// Returns once the server has stopped (at once if it has).
    func stopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = running.withLock { running -> Bool in
                guard running.state != .stopped else { return true }
                running.stopWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Serves until graceful shutdown (or cancellation), then stops as ``stop()`` does and returns when it has.
    public func run() async throws {
        if case .idle = state { try await start() }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await stopped()
            } onGracefulShutdown: {
                Task { await self.stop() }
            }
        } onCancel: {
            Task { await self.stop() }
        }
    }
}
