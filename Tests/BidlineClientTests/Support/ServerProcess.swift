import BidlineClient
import BidlineTestSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `bidline serve` as a real process (manual clock, fsync durability), so a test can kill it with SIGKILL and
/// start it again on the same port and data directory.
final class ServerProcess {
    let process: Process
    let port: Int
    let directory: String

    private init(process: Process, port: Int, directory: String) {
        self.process = process
        self.port = port
        self.directory = directory
    }

    var adminToken: String {
        get throws {
            try String(contentsOfFile: directory + "/admin.token", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
        }
    }

    /// Starts the server and returns once it accepts connections (polling at most `attempts` times).
    static func start(directory: String, port: Int, attempts: Int = 600) async throws -> ServerProcess {
        let binary = URL(fileURLWithPath: try BidlineExecutable.require())
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--port", "\(port)", "--data-dir", directory, "--clock", "manual"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = ServerProcess(process: process, port: port, directory: directory)
        var configuration = BidlineClient.Configuration()
        configuration.reconnect = .never
        for _ in 0..<attempts {
            if let probe = try? await BidlineClient.connect(port: port, configuration: configuration) {
                let alive = (try? await probe.ping()) ?? false
                await probe.close()
                if alive { return server }
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.kill()
        throw NotStarted()
    }

    struct NotStarted: Error {}

    /// SIGKILL: no shutdown, no final snapshot, connections dropped by the kernel.
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A loopback TCP port that was free a moment ago.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw NotStarted() }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
