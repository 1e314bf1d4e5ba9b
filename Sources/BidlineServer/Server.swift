import BidlineCore
import BidlineStorage
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The Bidline server: the engine host behind a SwiftNIO line-protocol listener. A lifecycle `Service`:
/// `run()` serves until graceful shutdown (SIGTERM/SIGINT through a `ServiceGroup`), then stops accepting,
/// lets in-flight batches finish, flushes the log, takes a snapshot and returns.
public final class BidlineServer: Service, Sendable {
    /// Where the server is in its life.
    public enum State: Sendable, Equatable {
        case idle
        case serving(port: Int)
        case draining
        case stopped
    }

    public let host: EngineHost
    public let configuration: ServerConfiguration
    let logger: Logger
    let stateBox = Mutex<State>(.idle)
    let channelBox = Mutex<(any Channel)?>(nil)
    let connectionCount = Atomic<Int>(0)
    let tickerBox = Mutex<Task<Void, Never>?>(nil)
    /// Open client connections, closed by `stop()` after their in-flight batch.
    let clients = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    public init(host: EngineHost, configuration: ServerConfiguration, logger: Logger = Logger(label: "bidline.server")) {
        self.host = host
        self.configuration = configuration
        self.logger = logger
    }

    public var state: State { stateBox.withLock { $0 } }

    /// Binds and starts serving; returns the bound port (useful with port 0).
    @discardableResult
    public func start() async throws -> Int {
        let host = self.host
        let configuration = self.configuration
        let logger = self.logger
        let counter = self
        // One loop for the engine and every connection: batches reach the engine without a thread hop.
        let bootstrap = ServerBootstrap(group: host.eventLoop)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A client may send its requests and close its side (`printf … | nc`): answer them, then close.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: configuration.maxOutboundBytes / 2, high: configuration.maxOutboundBytes))
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { channel in
                let open = counter.connectionCount.wrappingAdd(1, ordering: .relaxed).newValue
                host.metrics.connections.record(Double(open))
                let id = ObjectIdentifier(channel)
                counter.clients.withLockedValue { $0[id] = channel }
                let onClose: @Sendable () -> Void = {
                    counter.clients.withLockedValue { _ = $0.removeValue(forKey: id) }
                    let left = counter.connectionCount.wrappingSubtract(1, ordering: .relaxed).newValue
                    host.metrics.connections.record(Double(left))
                }
                if open > configuration.maxConnections {
                    logger.warning("refusing a connection: limit reached", metadata: ["limit": "\(configuration.maxConnections)"])
                    var buffer = channel.allocator.buffer(capacity: 64)
                    buffer.writeString("ERR BUSY too many connections (limit \(configuration.maxConnections))\n")
                    return channel.writeAndFlush(buffer).flatMap { channel.close() }.always { _ in onClose() }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectionHandler(host: host, configuration: configuration, logger: logger, onClose: onClose))
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        let port = channel.localAddress?.port ?? configuration.port
        channelBox.withLock { $0 = channel }
        stateBox.withLock { $0 = .serving(port: port) }
        tickerBox.withLock { ticker in
            ticker = Task.detached {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    await host.tickIfDue()
                }
            }
        }
        logger.info("serving", metadata: ["address": "\(configuration.host):\(port)"])
        return port
    }

    /// Stops accepting, closes connections after their in-flight batch, flushes the log and snapshots.
    public func stop() async {
        let shouldStop = stateBox.withLock { state -> Bool in
            guard case .serving = state else { return false }
            state = .draining
            return true
        }
        guard shouldStop else { return }
        tickerBox.withLock { $0?.cancel() }
        if let channel = channelBox.withLock({ $0 }) { try? await channel.close().get() }
        // Let batches already handed to the engine finish, then close the connections before the final snapshot.
        try? await Task.sleep(for: .milliseconds(50))
        for channel in clients.withLockedValue({ Array($0.values) }) { try? await channel.close().get() }
        await host.shutdown()
        stateBox.withLock { $0 = .stopped }
        logger.info("stopped")
    }

    public func run() async throws {
        if case .idle = state { try await start() }
        await withGracefulShutdownHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let box = Mutex<CheckedContinuation<Void, Never>?>(continuation)
                Task {
                    // Return only once `stop()` has drained, flushed and snapshotted.
                    while self.state != .stopped {
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                    box.withLock { $0?.resume(); $0 = nil }
                }
            }
        } onGracefulShutdown: {
            Task { await self.stop() }
        }
    }
}
