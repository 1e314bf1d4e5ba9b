import BidlineTestSupport

/// The shared line socket for replaying transcripts byte for byte (including requests the async client refuses
/// on purpose, such as `SUBSCRIBE` on a request connection).
final class BlockingLineClient: Sendable {
    let socket: LineSocket

    init(port: Int) throws { socket = try LineSocket(port: port) }

    func send(_ line: String) throws { try socket.send(Array((line + "\n").utf8)) }

    /// One line without its newline, waiting at most `timeoutMillis`.
    func readLine(timeoutMillis: Int32 = 10_000) throws -> String { try socket.readLine(timeoutMillis: timeoutMillis) }

    /// Sends `line` and reads its reply: one line, or `OK rows=N` and N more. `EVENT` lines are skipped.
    func call(_ line: String) throws -> [String] {
        try callBlocking(line)
    }

    /// ``call(_:)`` on a GCD thread (``offload(_:)``): the test's task does not hold a pool thread while it waits.
    func call(_ line: String) async throws -> [String] {
        try await offload { try self.callBlocking(line) }
    }

    private func callBlocking(_ line: String) throws -> [String] {
        try send(line)
        var head = try readLine()
        while head.hasPrefix("EVENT ") { head = try readLine() }
        var reply = [head]
        if let rows = LineSocket.announcedRows(head) {
            for _ in 0..<rows { reply.append(try readLine()) }
        }
        return reply
    }
}
