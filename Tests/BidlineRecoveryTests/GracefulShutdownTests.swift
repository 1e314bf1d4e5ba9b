import BidlineTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `bidline serve` as a real process: SIGTERM stops accepting, flushes the log, takes a snapshot and exits 0;
/// a restart recovers every acknowledged change.
@Suite struct GracefulShutdownTests {
    /// Reads the bound port from the server's start-up log (stderr, unbuffered), waiting at most 60 s.
    static func boundPort(stderrPath: String) throws -> Int {
        for _ in 0..<600 {
            let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: "address=127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return port }
            }
            usleep(100_000)
        }
        throw CocoaError(.fileReadUnknown)
    }

    /// One request over a plain socket, its one-line reply.
    static func call(port: Int, _ lines: [String]) throws -> [String] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw CocoaError(.fileReadUnknown) }
        let request = Array((lines.joined(separator: "\n") + "\n").utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(fd, Int32(SHUT_WR))  // the server answers everything, then closes
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while poll(&poller, 1, 10_000) > 0 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += chunk[0..<count]
        }
        return String(decoding: received, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func sigtermFlushesSnapshotsAndExitsZero() throws {
        let binary = try BidlineExecutable.require()
        let directory = temporaryPath("bidline-graceful").string
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"

        func start() throws -> (Process, Int) {
            let errPath = directory + "/stderr-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["serve", "--port", "0", "--data-dir", data, "--clock", "manual"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            process.standardInput = FileHandle.nullDevice
            try process.run()
            return (process, try Self.boundPort(stderrPath: errPath))
        }

        let (first, port) = try start()
        let token = try String(contentsOfFile: data + "/admin.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let replies = try Self.call(port: port, ["AUTH admin \(token)", "USER.ADD zed roles=investor", "DEPOSIT zed 123.45"])
        #expect(replies.count == 3)
        #expect(replies.last == "OK user=zed amount=123.45 available=123.45")
        kill(first.processIdentifier, SIGTERM)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: data + "/snapshots").filter { $0.hasSuffix(".zst") }
        #expect(snapshots == ["snapshot-00000000000000000003.zst"])

        // A restart recovers from that snapshot with the deposit in place.
        let (second, port2) = try start()
        let after = try Self.call(port: port2, ["AUTH admin \(token)", "BALANCE zed"])
        #expect(after.last?.hasPrefix("OK available=123.45 ") == true)
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        #expect(second.terminationStatus == 0)
    }
}
