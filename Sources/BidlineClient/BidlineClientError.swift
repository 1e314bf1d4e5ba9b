/// Why a client call failed. An `ERR` reply from the server is not an error of ``BidlineClient/send(_:)`` (it is
/// a ``Reply``); the typed helpers turn it into ``rejected(code:message:)``.
public enum BidlineClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The client was closed (``BidlineClient/close()`` or `QUIT`).
    case closed
    /// The connection dropped after `request` was sent and before its reply arrived, and the request is not
    /// safe to resend (a write without `ref=`): it may or may not have been executed. Check the state (for
    /// example `BALANCE`, `LOAN.BIDS`) before repeating it, or use `ref=` so the client can retry it.
    case connectionLost(request: String)
    /// No reply to `request`, and nothing else from the server, for ``BidlineClient/Configuration/replyTimeoutMillis``
    /// (`millis`): the connection was closed as dead. The request may or may not have been executed.
    case timedOut(request: String, millis: Int64)
    /// Reconnecting failed `attempts` times in a row; the requests waiting for the connection were failed.
    case reconnectFailed(attempts: Int, reason: String)
    /// The server refused the credentials when the client re-authenticated after a reconnect.
    case reauthenticationFailed(reply: String)
    /// More than the configured number of requests were waiting for replies
    /// (``BidlineClient/Configuration/maxInFlight``).
    case tooManyInFlight(limit: Int)
    /// The request cannot be sent as one protocol line (empty, contains a line break, or is `SUBSCRIBE`,
    /// which has its own call: ``BidlineClient/subscribe(topics:)``).
    case invalidRequest(String)
    /// The server sent something the protocol does not allow (a reply line over the limit, too many rows).
    case protocolViolation(String)
    /// The server answered `ERR code message` to a typed helper.
    case rejected(code: String, message: String)
    /// A typed helper got an `OK` reply without the keys it expected.
    case unexpectedReply(String)
    /// Some requests of a ``BidlineClient/pipeline(_:)`` failed: `replies` holds the replies that arrived (nil
    /// where the request failed), `errors` the failure of each other request by index.
    indirect case pipelineIncomplete(replies: [BidlineClient.Reply?], errors: [Int: BidlineClientError])
    /// A subscription's consumer fell more than ``BidlineClient/Configuration/maxBufferedEvents`` events
    /// behind; the subscription was ended rather than silently dropping events.
    case subscriberTooSlow(limit: Int)

    /// One line naming the failure.
    public var description: String {
        switch self {
        case .closed: "client closed"
        case .connectionLost(let request):
            "connection lost before the reply to '\(request.prefix(80))' (outcome unknown; not retried)"
        case .timedOut(let request, let millis):
            "no reply to '\(request.prefix(80))' and nothing from the server for \(millis) ms (outcome unknown)"
        case .reconnectFailed(let attempts, let reason): "reconnect failed after \(attempts) attempts: \(reason)"
        case .reauthenticationFailed(let reply): "re-authentication after reconnect failed: \(reply)"
        case .tooManyInFlight(let limit): "more than \(limit) requests in flight"
        case .invalidRequest(let why): "invalid request: \(why)"
        case .protocolViolation(let why): "protocol violation: \(why)"
        case .rejected(let code, let message): "ERR \(code) \(message)"
        case .unexpectedReply(let line): "unexpected reply: \(line.prefix(120))"
        case .pipelineIncomplete(let replies, let errors):
            "\(errors.count) of \(replies.count) pipelined requests failed; first: "
                + (errors.min { $0.key < $1.key }.map { "\($0.value)" } ?? "")
        case .subscriberTooSlow(let limit): "subscription consumer more than \(limit) events behind"
        }
    }
}
