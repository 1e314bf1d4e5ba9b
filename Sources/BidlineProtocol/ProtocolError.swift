import BidlineCore

/// A refusal produced by the protocol layer (framing, parsing, the session checks): the code and a message
/// naming what was wrong. Written as `ERR CODE message` by ``ReplyWriter/error(_:)``.
public struct ProtocolError: Error, Sendable, Equatable {
    /// A wire error code: one of the engine's ``RejectCode``s, or one only the protocol produces. The wire text
    /// is the same either way (`ERR UNKNOWN_VERB …`, `ERR BAD_ARGUMENT …`).
    public enum Code: Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// A code the engine also produces (arguments, existence, business rules, sessions, storage).
        case rejected(RejectCode)
        /// The first token names no verb of the command table.
        case unknownVerb
        /// The line is longer than the limit (4096 bytes without the line ending); it is discarded.
        case lineTooLong
        /// The server cannot take the request now; the client may retry.
        case busy

        /// The protocol-only codes, after the engine's in ``allCases``.
        static let protocolOnly: [Code] = [.unknownVerb, .lineTooLong, .busy]

        /// Every code: the engine's in `RejectCode` order, then the protocol-only ones. `allCases[c.index] == c`.
        public static let allCases: [Code] = RejectCode.allCases.map(Code.rejected) + protocolOnly

        /// A dense index into ``allCases`` (0 ..< `allCases.count`), for per-code counters without a search.
        @inlinable
        public var index: Int {
            switch self {
            case .rejected(let code): Int(code.rawValue) - 1
            case .unknownVerb: RejectCode.allCases.count
            case .lineTooLong: RejectCode.allCases.count + 1
            case .busy: RejectCode.allCases.count + 2
            }
        }

        /// The upper-snake-case code sent on the wire.
        public var wireText: String {
            switch self {
            case .rejected(let code): code.code
            case .unknownVerb: "UNKNOWN_VERB"
            case .lineTooLong: "LINE_TOO_LONG"
            case .busy: "BUSY"
            }
        }

        /// The default human-readable text after the code.
        public var message: String {
            switch self {
            case .rejected(let code): code.message
            case .unknownVerb: "unknown verb"
            case .lineTooLong: "line longer than 4096 bytes"
            case .busy: "server busy, retry later"
            }
        }

        /// The wire text.
        public var description: String { wireText }
    }

    /// What kind of refusal.
    public var code: Code
    /// The text after the code (sanitized to printable ASCII when written).
    public var message: String

    /// A refusal with `code` and `message` (the code's default text if nil).
    public init(_ code: Code, _ message: String? = nil) {
        self.code = code
        self.message = message ?? code.message
    }

    /// A refusal with one of the engine's codes.
    public init(_ code: RejectCode, _ message: String? = nil) { self.init(.rejected(code), message) }
}
