import BidlineServer
import Foundation
import SystemPackage

/// An in-process Bidline server on a loopback port with its own data directory, so tests read like usage: start,
/// stop, and restart on the same port and data.
public final class TestServer: Sendable {
    /// The data directory (a fresh temporary one unless given); ``removeData()`` deletes it.
    public let directory: FilePath
    /// The running server.
    public let server: BidlineServer
    /// The loopback port it listens on.
    public let port: Int
    /// The token of the `admin` user the first start created.
    public let adminToken: String

    private init(directory: FilePath, server: BidlineServer, port: Int, adminToken: String) {
        self.directory = directory
        self.server = server
        self.port = port
        self.adminToken = adminToken
    }

    /// Starts a server on `directory` (default: a fresh temporary one) and `port` (0: an ephemeral one). The clock
    /// is manual unless given, so tests decide when time moves; `configure` and `configureHost` adjust the rest.
    public static func start(
        directory: FilePath? = nil, port: Int = 0, clock: ClockMode = .manual,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        configureHost: (inout HostConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        let directory = directory ?? temporaryPath()
        var hostConfiguration = HostConfiguration(dataDirectory: directory)
        hostConfiguration.clock = clock
        configureHost(&hostConfiguration)
        let host = try await EngineHost(configuration: hostConfiguration)
        var configuration = ServerConfiguration()
        configuration.port = port
        configure(&configuration)
        let server = BidlineServer(host: host, configuration: configuration)
        let bound = try await server.start()
        let token = try String(contentsOfFile: directory.appending("admin.token").string, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return TestServer(directory: directory, server: server, port: bound, adminToken: token)
    }

    /// Stops the server (its data stays).
    public func stop() async { await server.stop() }

    /// Stops this server and starts a new one on the same port and data directory.
    public func restart(clock: ClockMode = .manual) async throws -> TestServer {
        await stop()
        return try await TestServer.start(directory: directory, port: port, clock: clock)
    }

    /// Deletes the data directory.
    public func removeData() { try? FileManager.default.removeItem(atPath: directory.string) }
}
