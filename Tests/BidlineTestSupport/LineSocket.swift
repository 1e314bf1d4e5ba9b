import BidlineProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking line socket to a server on 127.0.0.1 (tests only): the one socket client the test targets share.
/// Every read has a timeout, so a broken server fails the test instead of hanging it; a call interrupted by a
/// signal (tests spawn processes, whose exits raise SIGCHLD) is retried, never reported as a closed connection.
public final class LineSocket: @unchecked Sendable {
    // @unchecked: one test task uses a socket at a time; each call runs to completion before the next starts.
    let fd: Int32
    /// Lines of up to 1 MiB (a longer one is read as `ERR REPLY_TOO_LONG`).
    var framer = StreamLineFramer(maxLength: 1 << 20)
    /// Lines framed but not read yet, oldest first.
    var lines: [String] = []
    var nextLine = 0

    /// No line arrived within the timeout.
    public struct Timeout: Error {}
    /// The connection could not be made, or the server closed it.
    public struct Closed: Error {}

    /// Connects to `127.0.0.1:port` with `TCP_NODELAY`.
    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        func connectOnce() -> (result: Int32, error: Int32) {
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            return (result, result == 0 ? 0 : errno)
        }
        // A signal (e.g. SIGCHLD from a process another test spawned) can interrupt the connect; it then goes
        // on in the background: wait for it and ask again until it is established or refused.
        var (result, error) = connectOnce()
        var attempts = 0
        while result != 0 && (error == EINTR || error == EALREADY || error == EINPROGRESS) && attempts < 100 {
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&poller, 1, 100)
            (result, error) = connectOnce()
            if result != 0 && error == EISCONN { result = 0 }
            attempts += 1
        }
        guard result == 0 else {
            close(fd)
            throw Closed()
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Writes all of `bytes`.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 && errno == EINTR { continue }  // interrupted by a signal: nothing was sent
            guard sent > 0 else { throw Closed() }
            offset += sent
        }
    }

    /// One line without its newline (and without a `\r` before it), waiting at most `timeoutMillis` for more
    /// bytes each time.
    public func readLine(timeoutMillis: Int32 = 10_000) throws -> String {
        while true {
            if nextLine < lines.count {
                defer {
                    nextLine += 1
                    if nextLine == lines.count { (lines, nextLine) = ([], 0) }
                }
                return lines[nextLine]
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, timeoutMillis)
            if ready < 0 && errno == EINTR { continue }  // a signal, not a timeout: wait again
            guard ready > 0 else { throw Timeout() }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw Closed() }
            chunk.withUnsafeBytes { bytes in
                framer.frames(in: UnsafeRawBufferPointer(rebasing: bytes[0..<count])) { frame in
                    switch frame {
                    case .line(let line): lines.append(String(decoding: line, as: UTF8.self))
                    case .tooLong: lines.append("ERR REPLY_TOO_LONG reply line over 1 MiB; discarded")
                    }
                }
            }
        }
    }

    /// Closes the sending side (what `printf … | nc` does after its input).
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// The row count announced by an `OK rows=N` reply head, if it is one.
    public static func announcedRows(_ head: String) -> Int? { ReplyParser.announcedRowCount(head) }

    /// Reads one reply: skips `EVENT` lines, then returns one line, or `OK rows=N` and its N rows.
    public func readReply(timeoutMillis: Int32 = 10_000) throws -> AssembledReply {
        var assembler = ReplyAssembler()
        while true {
            if case .reply(let reply) = try assembler.consume(try readLine(timeoutMillis: timeoutMillis)) {
                return reply
            }
        }
    }
}
