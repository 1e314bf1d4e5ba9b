import BidlineServer
import BidlineStorage
import Foundation
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// An in-process server on an ephemeral port with a temporary data directory, so tests read like usage.
final class TestServer: @unchecked Sendable {
    // @unchecked: the fields are set once in `start` and only read afterwards, from the test's task.
    let directory: FilePath
    var server: BidlineServer!
    var port = 0
    var adminToken = ""

    init(directory: FilePath? = nil) {
        self.directory = directory ?? FilePath(NSTemporaryDirectory()).appending("bidline-test-\(UUID().uuidString)")
    }

    static func start(
        directory: FilePath? = nil, clock: ClockMode = .manual, configure: (inout ServerConfiguration) -> Void = { _ in },
        configureHost: (inout HostConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        let test = TestServer(directory: directory)
        var hostConfiguration = HostConfiguration(dataDirectory: test.directory)
        hostConfiguration.clock = clock
        configureHost(&hostConfiguration)
        let host = try await EngineHost(configuration: hostConfiguration)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configure(&configuration)
        test.server = BidlineServer(host: host, configuration: configuration)
        test.port = try await test.server.start()
        test.adminToken = try String(contentsOfFile: test.directory.appending("admin.token").string, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return test
    }

    func stop() async { await server.stop() }

    func removeData() { try? FileManager.default.removeItem(atPath: directory.string) }

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

/// Runs blocking socket work on a GCD thread, so tests never block the Swift concurrency pool (on 2 cores the
/// in-process server needs it).
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// A line client over a plain socket (tests only). Socket calls block a GCD thread, never the concurrency pool;
/// every read has a timeout, so a broken server fails the test instead of hanging it.
final class LineClient: @unchecked Sendable {
    // @unchecked: one test task uses a client at a time; each call runs to completion before the next starts.
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
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw Closed() }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) async throws {
        try await sendBytes(Array(text.utf8))
    }

    func sendBytes(_ bytes: [UInt8]) async throws {
        try await offload { try self.sendBlocking(bytes) }
    }

    func sendBlocking(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Closed() }
            offset += sent
        }
    }

    /// Reads one line (without its newline), waiting at most `timeoutMillis`.
    func readLine(timeoutMillis: Int32 = 10_000) async throws -> String {
        try await offload { try self.readLineBlocking(timeoutMillis: timeoutMillis) }
    }

    func readLineBlocking(timeoutMillis: Int32 = 10_000) throws -> String {
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

    /// Closes the sending side (what `printf … | nc` does after its input).
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Sends one request and reads its one-line reply.
    func call(_ line: String) async throws -> String {
        try await send(line + "\n")
        return try await readLine()
    }

    /// Sends one request whose reply has rows (`OK rows=N` then N lines).
    func rows(_ line: String) async throws -> [String] {
        let head = try await call(line)
        guard head.hasPrefix("OK rows="), let count = Int(head.dropFirst("OK rows=".count).prefix { $0.isNumber }) else {
            return [head]
        }
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
