import BidlineCore
import BidlineProtocol
import Logging
import NIOCore

/// One client connection: parses the lines of each socket read on the event loop (bytes, not Strings), checks
/// the session and role, and hands the engine host one batch per read; the batch's replies go back as one
/// write, in request order. At most one batch is in flight per connection; while one is, later lines wait
/// (bounded by the pipeline depth, beyond which the server stops reading the socket).
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let host: EngineHost
    let configuration: ServerConfiguration
    let logger: Logger
    let hub: SubscriberHub
    let onClose: @Sendable () -> Void
    var parser = RequestParser()
    var framer: StreamLineFramer
    var session = Session()
    var pending: [BatchItem] = []
    /// The buffer of the last batch handed to the engine, emptied (at most 1,024 items of capacity): the next
    /// `pending`, so that a batch costs no array allocation.
    var spareBatch: [BatchItem] = []
    var inFlight = false
    var closing = false
    var readingPaused = false
    var quitAfterIndex: Int? = nil
    /// Lines read after an `AUTH` or `SUBSCRIBE` that is still in flight: their session checks must see its
    /// outcome, so they are parsed only when it is back.
    var deferred: [ByteBuffer] = []
    /// The client closed its sending side: close after answering what it sent.
    var inputClosed = false
    /// The server is shutting down (`ChannelShouldQuiesceEvent`): read no more, answer what was read, close.
    var quiescing = false
    var sessionChanging = false

    init(host: EngineHost, configuration: ServerConfiguration, logger: Logger, onClose: @escaping @Sendable () -> Void) {
        self.host = host
        self.configuration = configuration
        self.logger = logger
        self.hub = host.hub
        self.onClose = onClose
        self.framer = StreamLineFramer(maxLength: configuration.maxLineLength)
        pending.reserveCapacity(256)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        unwrapInboundIn(data).withUnsafeReadableBytes { bytes in framer.frames(in: bytes) { received($0) } }
        if pending.count + deferred.count > configuration.maxPipelineDepth && !readingPaused {
            readingPaused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
    }

    /// One framed line: parsed into the pending batch, or held while a session change is in flight.
    func received(_ frame: StreamLineFramer.Frame) {
        guard !closing else { return }
        switch frame {
        case .tooLong:
            refuse(ProtocolError(.lineTooLong, "line longer than \(configuration.maxLineLength) bytes; discarded"))
        case .line(let line):
            if quitAfterIndex != nil { return }  // nothing after QUIT is answered
            if sessionChanging {
                deferred.append(ByteBuffer(bytes: line))  // the read's bytes are gone after this call: keep a copy
            } else {
                parse(line)
            }
        }
    }

    /// Parses one line into the pending batch: a request, or a ready-made error reply.
    func parse(_ line: UnsafeRawBufferPointer) {
        do {
            guard let spec = try parser.parseVerb(line) else { return }  // blank line: no reply
            host.metrics.parsed(spec.verb)
            if !session.isAuthenticated && !spec.roles.contains(.unauthenticated) {
                refuse(ProtocolError(.notAuthenticated, "authenticate first with AUTH user token"))
                return
            }
            if !session.topics.isEmpty && spec.verb != .quit && spec.verb != .ping {
                refuse(ProtocolError(.badState, "connection is in push mode (SUBSCRIBE); only PING and QUIT"))
                return
            }
            guard session.may(spec) else {
                refuse(ProtocolError(.forbidden, "\(spec.name) is for \(CommandTable.roleNames(spec.roles))"))
                return
            }
            let request = try parser.parseArguments(spec, line)
            switch request {
            case .quit: quitAfterIndex = pending.count
            case .auth, .subscribe: sessionChanging = true
            default: break
            }
            pending.append(.request(request))
        } catch {
            // Check order: framing, then authentication, then the verb and its arguments.
            let refusal =
                session.isAuthenticated
                ? error : ProtocolError(.notAuthenticated, "authenticate first with AUTH user token")
            refuse(refusal)
        }
    }

    static func changesSession(_ item: BatchItem) -> Bool {
        switch item {
        case .request(.auth), .request(.subscribe): true
        default: false
        }
    }

    /// Answers a line the connection refuses itself (framing, session, role, arguments): counted, and kept in
    /// the batch at the line's place so replies stay in request order.
    func refuse(_ refusal: ProtocolError) {
        host.metrics.rejected(refusal.code)
        var writer = ReplyWriter(capacity: 96)
        writer.error(refusal)
        pending.append(.ready(writer.bytes))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        dispatch(context: context)
    }

    /// Sends the pending lines (up to the batch limit) to the engine host, unless a batch is in flight.
    func dispatch(context: ChannelHandlerContext) {
        guard !inFlight, !pending.isEmpty, !closing else { return }
        let count = min(pending.count, configuration.maxBatchSize)
        var items: [BatchItem]
        if count == pending.count {
            // The whole queue is the batch: hand its buffer over and continue in the spare one.
            items = pending
            pending = spareBatch
            spareBatch = []
        } else {
            items = Array(pending.prefix(count))
            pending.removeFirst(count)
        }
        let quitting = quitAfterIndex.map { $0 < count } ?? false
        if let index = quitAfterIndex { quitAfterIndex = index < count ? nil : index - count }
        inFlight = true
        let host = self.host
        let started = ContinuousClock.now
        host.metrics.batchSize.record(Double(count))
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let needsAwait = items.contains { if case .request(.snapshot) = $0 { true } else { false } }
        if needsAwait {
            let session = self.session
            let eventLoop = context.eventLoop
            Task {
                let (replies, newSession) = await host.process(items, session: session)
                eventLoop.execute {
                    let (handler, context) = loopBound.value
                    handler.finish(
                        context: context, replies: ByteBuffer(bytes: replies), session: newSession, quitting: quitting)
                }
            }
            return
        }
        // The engine runs on this loop: run the batch now, release its replies when the log has them.
        let session = self.session
        let result = host.assumeIsolated { host in host.run(items, session: session) }
        // Keep the emptied buffer for the next batch unless it grew past a typical pipeline (bounded memory per
        // connection: `pending` keeps its own capacity too).
        items.removeAll(keepingCapacity: true)
        if items.capacity <= 1_024 && spareBatch.capacity < items.capacity { spareBatch = items }
        host.assumeIsolated { host in
            let newSession = result.session
            host.release(result) { replies in
                host.metrics.batchLatency.record(ContinuousClock.now - started)
                let (handler, context) = loopBound.value
                handler.finish(context: context, replies: replies, session: newSession, quitting: quitting)
            }
        }
    }

    func finish(context: ChannelHandlerContext, replies: ByteBuffer, session newSession: Session, quitting: Bool) {
        inFlight = false
        let becameSubscriber = session.topics.isEmpty && !newSession.topics.isEmpty
        session = newSession
        guard context.channel.isActive else { return }
        context.writeAndFlush(wrapOutboundOut(replies), promise: nil)
        if becameSubscriber { hub.add(context.channel, session: session) }
        if sessionChanging && !pending.contains(where: Self.changesSession) {
            // The session change is done: parse what was read after it, with the new session.
            sessionChanging = false
            var lines = deferred[...]
            deferred = []
            while let line = lines.popFirst() {
                if sessionChanging || quitAfterIndex != nil {
                    if quitAfterIndex == nil { deferred.append(line) }
                    continue
                }
                line.withUnsafeReadableBytes { parse($0) }
            }
        }
        if quitting {
            closing = true
            context.close(promise: nil)
            return
        }
        if readingPaused && !quiescing && pending.count <= configuration.maxPipelineDepth / 2
            && context.channel.isWritable
        {
            readingPaused = false
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
        dispatch(context: context)
        closeIfDone(context: context)
    }

    /// A client that does not read its replies: stop reading its requests; disconnect it if it stays over the
    /// outbound limit for `slowClientMillis`. Other connections are unaffected.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            if readingPaused && !quiescing && pending.count <= configuration.maxPipelineDepth / 2 {
                readingPaused = false
                context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            }
        } else {
            readingPaused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            let channel = context.channel
            let logger = self.logger
            context.eventLoop.scheduleTask(in: .milliseconds(configuration.slowClientMillis)) {
                if !channel.isWritable {
                    logger.warning("disconnecting a client that does not read its replies", metadata: ["peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
                    channel.close(promise: nil)
                }
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            closeIfDone(context: context)
        } else if event is ChannelShouldQuiesceEvent {
            // Graceful shutdown: stop reading; the batch in flight and the lines already read are answered
            // (`finish` calls `closeIfDone`), then the connection closes and the quiescing helper hears of it.
            quiescing = true
            readingPaused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            closeIfDone(context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// After the client's EOF or at shutdown: close once every request read has been answered.
    func closeIfDone(context: ChannelHandlerContext) {
        guard inputClosed || quiescing, !inFlight, pending.isEmpty, deferred.isEmpty, !closing else { return }
        closing = true
        context.close(promise: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        logger.info("connection opened", metadata: ["peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")"])
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        logger.info("connection closed", metadata: ["peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")", "user": "\(session.userID)"])
        closing = true
        hub.remove(context.channel)
        onClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.info("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
