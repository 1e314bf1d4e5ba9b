import BidlineProtocol
import DequeModule
import NIOCore
import NIOPosix

/// What a request was, so its reply can be accounted for.
public struct RequestTag: Sendable {
    public var listing: UInt32
    public var kind: UInt8
    public init(listing: UInt32 = 0, kind: UInt8 = 0) {
        self.listing = listing
        self.kind = kind
    }
}

/// Generates a scenario's requests and accounts for their replies. Called only on the load generator's single
/// event loop thread, so implementations need no locking.
public protocol Workload: AnyObject {
    /// Appends the next request line (with its newline) for connection `connection` and returns its tag.
    func nextRequest(connection: Int, into buffer: inout ByteBuffer) -> RequestTag
    /// Accounts for a reply (the line without its newline).
    func completed(connection: Int, tag: RequestTag, reply: UnsafeRawBufferPointer, ok: Bool)
}

/// Load shape: closed loop (`pipeline` requests in flight per connection) or open loop (`rate` requests a
/// second over all connections, latency measured from each request's scheduled time).
public enum LoadMode: Sendable {
    case closed(pipeline: Int)
    case open(ratePerSecond: Double)
}

/// Progress of a run, once a second.
public struct LoadProgress: Sendable {
    public var elapsedSeconds: Double
    public var requestsLastSecond: UInt64
    public var errors: UInt64
    public var p50Micros: UInt64
    public var p99Micros: UInt64
}

/// The shared counters of a run. `@unchecked Sendable`: every access happens on the load event loop (one
/// thread), by the connection handlers and the progress task scheduled there.
final class RunState: @unchecked Sendable {
    var recorder = LatencyRecorder()
    var running = true
    var open = 0
    var drained: EventLoopPromise<Void>?
    var lastTotal: UInt64 = 0
    let workload: any Workload
    /// Open loop: requests scheduled but not sent because too many are in flight (still timed from schedule).
    var deferredSends: UInt64 = 0
    /// The connections and their handlers (created on the loop).
    var handlers: [(any Channel, LoadHandler)] = []

    init(workload: any Workload) { self.workload = workload }

    func connectionDone() {
        open -= 1
        if open == 0 { drained?.succeed(()) }
    }
}

/// Drives one connection: authenticates, then keeps requests flowing per the load mode.
final class LoadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let index: Int
    let run: RunState
    let mode: LoadMode
    let authLine: String
    let maxInFlight: Int
    var schedule: OpenLoopSchedule?
    var inFlight = Deque<(startNanos: UInt64, tag: RequestTag)>()
    /// Reply lines of up to 1 MiB (the client's limit); a longer one counts as an error reply.
    var framer = StreamLineFramer(maxLength: 1 << 20)
    var authenticated = false
    var outbound: ByteBuffer
    /// Open loop: the send scheduled at the next request's due time.
    var nextSend: Scheduled<Void>?
    /// Open loop: sending paused at `maxInFlight`; resumed by the next reply.
    var sendingBlocked = false
    var finished = false
    let ready: EventLoopPromise<Void>

    init(index: Int, run: RunState, mode: LoadMode, authLine: String, maxInFlight: Int, ready: EventLoopPromise<Void>) {
        self.index = index
        self.run = run
        self.mode = mode
        self.authLine = authLine
        self.maxInFlight = maxInFlight
        self.ready = ready
        self.outbound = ByteBuffer()
    }

    func channelActive(context: ChannelHandlerContext) {
        outbound = context.channel.allocator.buffer(capacity: 64 << 10)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: authLine + "\n")), promise: nil)
    }

    /// Starts sending (called on the loop once every connection is authenticated).
    func start(context: ChannelHandlerContext, ratePerConnection: Double?) {
        switch mode {
        case .closed(let pipeline):
            for _ in 0..<pipeline { send(startNanos: monotonicNanos()) }
            flush(context: context)
        case .open:
            schedule = OpenLoopSchedule(startNanos: monotonicNanos(), ratePerSecond: ratePerConnection ?? 1)
            sendDue(context: context)
        }
    }

    /// Open loop: a one-shot timer at the next request's due time (no polling tick, so a request leaves as
    /// close to its scheduled time as the event loop's timers allow; its latency still counts from that time).
    func scheduleNextSend(context: ChannelHandlerContext) {
        guard run.running, let schedule else { return }
        let (due, now) = (schedule.dueNanos(schedule.next), monotonicNanos())
        let wait = due > now ? due - now : 0
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        nextSend = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(min(wait, UInt64(Int64.max))))) {
            let (handler, context) = bound.value
            handler.sendDue(context: context)
        }
    }

    func send(startNanos: UInt64) {
        let tag = run.workload.nextRequest(connection: index, into: &outbound)
        inFlight.append((startNanos, tag))
    }

    func sendDue(context: ChannelHandlerContext) {
        guard run.running, var schedule else { return }
        let now = monotonicNanos()
        while inFlight.count < maxInFlight, let due = schedule.takeDue(nowNanos: now) { send(startNanos: due) }
        self.schedule = schedule
        flush(context: context)
        // At the in-flight bound the due requests wait (and their latency grows) until a reply frees a slot.
        sendingBlocked = inFlight.count >= maxInFlight
        if !sendingBlocked { scheduleNextSend(context: context) }
    }

    func flush(context: ChannelHandlerContext) {
        guard outbound.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
        outbound = context.channel.allocator.buffer(capacity: 4 << 10)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let now = monotonicNanos()
        bytes.withUnsafeReadableBytes { raw in
            framer.frames(in: raw) { frame in
                switch frame {
                case .line(let line): handle(line: line, now: now, context: context)
                case .tooLong:
                    Self.replyTooLong.withUTF8Buffer {
                        handle(line: UnsafeRawBufferPointer($0), now: now, context: context)
                    }
                }
            }
        }
    }

    /// Stands for a reply line over the framer's limit (it was discarded).
    static let replyTooLong: StaticString = "ERR REPLY_TOO_LONG reply line over 1 MiB; discarded"

    func handle(line: UnsafeRawBufferPointer, now: UInt64, context: ChannelHandlerContext) {
        guard authenticated else {
            authenticated = true
            if ReplyParser.isOK(line) { ready.succeed(()) } else {
                ready.fail(BenchError.setup("AUTH failed for connection \(index): \(String(decoding: line, as: UTF8.self))"))
            }
            return
        }
        guard let (startNanos, tag) = inFlight.popFirst() else { return }
        let ok = ReplyParser.isOK(line)
        var code: String? = nil
        if !ok {
            let bytes = ReplyParser.errorCode(line) ?? UnsafeRawBufferPointer(start: nil, count: 0)
            code = bytes.isEmpty ? "ERR" : String(decoding: bytes, as: UTF8.self)
        }
        run.recorder.record(startNanos: startNanos, endNanos: now, errorCode: code)
        run.workload.completed(connection: index, tag: tag, reply: line, ok: ok)
        // Closed loop: the next request is timed from this reply's arrival (it is written at the end of this
        // read, so its latency includes the rest of the read's processing: conservative, one clock read less).
        if run.running, case .closed = mode { send(startNanos: now) }
        if sendingBlocked && inFlight.count < maxInFlight { sendDue(context: context) }
        if !run.running && inFlight.isEmpty { finish(context: context) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context)
    }

    func finish(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        nextSend?.cancel()
        run.connectionDone()
    }

    func stop(context: ChannelHandlerContext) {
        nextSend?.cancel()
        if inFlight.isEmpty { finish(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !inFlight.isEmpty {
            for _ in inFlight { run.recorder.record(startNanos: 0, endNanos: 0, errorCode: "DISCONNECTED") }
            inFlight.removeAll()
        }
        if !authenticated { ready.fail(BenchError.setup("connection \(index) closed before AUTH")) }
        finish(context: context)
    }
}

public enum BenchError: Error, CustomStringConvertible {
    case setup(String)
    case booksMismatch([String])

    public var description: String {
        switch self {
        case .setup(let message): "set-up failed: \(message)"
        case .booksMismatch(let problems): "the books do not match: " + problems.joined(separator: "; ")
        }
    }
}

/// Runs a workload over `connections` connections on one event loop thread (the load generator uses one core,
/// leaving the other to the server on this 2-core machine).
public final class LoadRunner: Sendable {
    public let host: String
    public let port: Int
    public let group: MultiThreadedEventLoopGroup

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    public func shutdown() async { try? await group.shutdownGracefully() }

    /// `credentials[i]` is the `(user, token)` connection `i` authenticates as. Stops by itself after
    /// `durationSeconds`, then waits for the replies in flight.
    public func run(
        workload: any Workload, credentials: [(String, String)], mode: LoadMode, durationSeconds: Double,
        maxInFlightPerConnection: Int = 10_000, progress: (@Sendable (LoadProgress) -> Void)? = nil
    ) async throws -> (recorder: LatencyRecorder, seconds: Double) {
        let loop = group.next()
        let state = RunState(workload: workload)
        var channels: [any Channel] = []
        var readies: [EventLoopFuture<Void>] = []
        let ratePerConnection: Double?
        if case .open(let rate) = mode { ratePerConnection = rate / Double(credentials.count) } else { ratePerConnection = nil }
        for (index, credential) in credentials.enumerated() {
            let ready = loop.makePromise(of: Void.self)
            let authLine = "AUTH \(credential.0) \(credential.1)"
            let channel = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = LoadHandler(
                            index: index, run: state, mode: mode, authLine: authLine,
                            maxInFlight: maxInFlightPerConnection, ready: ready)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        state.handlers.append((channel, handler))
                    }
                }
                .connect(host: host, port: port).get()
            channels.append(channel)
            readies.append(ready.futureResult)
        }
        try await EventLoopFuture.andAllSucceed(readies, on: loop).get()
        let started = monotonicNanos()
        try await loop.submit {
            state.open = state.handlers.count
            for (channel, handler) in state.handlers {
                let context = try channel.pipeline.syncOperations.context(handler: handler)
                handler.start(context: context, ratePerConnection: ratePerConnection)
            }
        }.get()
        let progressTask = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            let total = state.recorder.total
            let p = LoadProgress(
                elapsedSeconds: Double(monotonicNanos() - started) / 1e9, requestsLastSecond: total - state.lastTotal,
                errors: state.recorder.errorCount, p50Micros: state.recorder.histogram.valueAtPercentile(50),
                p99Micros: state.recorder.histogram.valueAtPercentile(99))
            state.lastTotal = total
            progress?(p)
        }
        try await Task.sleep(for: .milliseconds(Int(durationSeconds * 1000)))
        let drained = try await loop.submit { () -> EventLoopFuture<Void> in
            state.running = false
            let promise = loop.makePromise(of: Void.self)
            state.drained = promise
            if state.open == 0 { promise.succeed(()) }
            for (channel, handler) in state.handlers {
                if let context = try? channel.pipeline.syncOperations.context(handler: handler) { handler.stop(context: context) }
            }
            return promise.futureResult
        }.get()
        try await drained.get()
        let elapsed = Double(monotonicNanos() - started) / 1e9
        progressTask.cancel()
        for channel in channels { try? await channel.close().get() }
        let recorder = try await loop.submit { state.recorder }.get()
        return (recorder, elapsed)
    }
}
