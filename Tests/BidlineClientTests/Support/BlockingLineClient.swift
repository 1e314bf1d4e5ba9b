import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking line client over a plain socket, for replaying transcripts byte for byte (including requests the
/// async client refuses on purpose, such as `SUBSCRIBE` on a request connection). Every read has a timeout, so a
/// broken server fails the test instead of hanging it.
final class BlockingLineClient {
    let fd: Int32
    var buffer: [UInt8] = []

    struct Timeout: Error {}
    struct Closed: Error {}

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw Closed()
        }
    }

    deinit { close(fd) }

    func send(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw Closed() }
            offset += sent
        }
    }

    /// One line without its newline, waiting at most `timeoutMillis`.
    func readLine(timeoutMillis: Int32 = 10_000) throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                return line
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, timeoutMillis) > 0 else { throw Timeout() }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Closed() }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }

    /// Sends `line` and reads its reply: one line, or `OK rows=N` and N more. `EVENT` lines are skipped.
    func call(_ line: String) throws -> [String] {
        try send(line)
        var head = try readLine()
        while head.hasPrefix("EVENT ") { head = try readLine() }
        var reply = [head]
        if let rows = BidlineClientRows.count(head) {
            for _ in 0..<rows { reply.append(try readLine()) }
        }
        return reply
    }
}

enum BidlineClientRows {
    static func count(_ head: String) -> Int? {
        guard head.hasPrefix("OK rows=") else { return nil }
        return Int(head.dropFirst("OK rows=".count))
    }
}
