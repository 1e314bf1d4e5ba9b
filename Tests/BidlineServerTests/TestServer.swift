import BidlineServer
import BidlineStorage
import BidlineTestSupport
import Foundation
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension TestServer {
    /// A connection, authenticated as admin when `admin` is true.
    func connect(admin: Bool = false) async throws -> LineClient {
        let client = try LineClient(port: port)
        if admin {
            let reply = try await client.call("AUTH admin \(adminToken)")
            precondition(reply.hasPrefix("OK"), "admin AUTH failed: \(reply)")
        }
        return client
    }
}

/// The shared line socket with async calls: socket work runs on a GCD thread, never on the concurrency pool.
final class LineClient: Sendable {
    typealias Timeout = LineSocket.Timeout
    typealias Closed = LineSocket.Closed
    let socket: LineSocket

    init(port: Int) throws { socket = try LineSocket(port: port) }

    func send(_ text: String) async throws {
        try await sendBytes(Array(text.utf8))
    }

    func sendBytes(_ bytes: [UInt8]) async throws {
        let socket = self.socket
        try await offload { try socket.send(bytes) }
    }

    func sendBlocking(_ bytes: [UInt8]) throws { try socket.send(bytes) }

    /// Reads one line (without its newline), waiting at most `timeoutMillis`.
    func readLine(timeoutMillis: Int32 = 10_000) async throws -> String {
        let socket = self.socket
        return try await offload { try socket.readLine(timeoutMillis: timeoutMillis) }
    }

    func readLineBlocking(timeoutMillis: Int32 = 10_000) throws -> String {
        try socket.readLine(timeoutMillis: timeoutMillis)
    }

    /// Closes the sending side (what `printf … | nc` does after its input).
    func shutdownWrite() { socket.shutdownWrite() }

    /// Sends one request and reads its one-line reply.
    func call(_ line: String) async throws -> String {
        try await send(line + "\n")
        return try await readLine()
    }

    /// Sends one request whose reply has rows (`OK rows=N` then N lines).
    func rows(_ line: String) async throws -> [String] {
        let head = try await call(line)
        guard let count = LineSocket.announcedRows(head) else { return [head] }
        var lines: [String] = []
        for _ in 0..<count { lines.append(try await readLine()) }
        return lines
    }

    /// True when the server closed the connection (reads EOF within the timeout).
    func isClosed(timeoutMillis: Int32 = 5_000) async -> Bool {
        do {
            while true { _ = try await readLine(timeoutMillis: timeoutMillis) }
        } catch is Closed {
            return true
        } catch {
            return false
        }
    }
}

/// `key=value` fields of a reply line.
func fields(_ line: String) -> [String: String] {
    var result: [String: String] = [:]
    for token in line.split(separator: " ") {
        guard let equals = token.firstIndex(of: "=") else { continue }
        result[String(token[..<equals])] = String(token[token.index(after: equals)...])
    }
    return result
}
