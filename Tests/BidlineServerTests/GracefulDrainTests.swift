import BidlineServer
import BidlineTestSupport
import Logging
import ServiceLifecycle
import Testing

/// Graceful shutdown in process: connections are quiesced (their read requests answered, then closed), the final
/// snapshot is taken, and every caller of `stop()`/`run()` returns once all of that is done.
@Suite struct GracefulDrainTests {
    @Test func stopAnswersWhatWasReadThenClosesEveryConnection() async throws {
        let server = try await TestServer.start(configureHost: { $0.durability = .fsync })
        defer { server.removeData() }
        let admin = try await server.connect(admin: true)
        #expect(try await admin.call("USER.ADD inv roles=investor verified=1 risk=5").hasPrefix("OK"))
        let idle = try await server.connect()
        let subscriber = try await server.connect(admin: true)
        #expect(try await subscriber.call("SUBSCRIBE loans").hasPrefix("OK"))

        // A pipeline in one write; once its first reply is back the server has read it.
        try await admin.send(String(repeating: "DEPOSIT inv 1\n", count: 200))
        #expect(try await admin.readLine().hasPrefix("OK user=inv amount=1.00"))
        async let stopped: Void = server.stop()
        for _ in 1..<200 { #expect(try await admin.readLine().hasPrefix("OK user=inv amount=1.00")) }
        #expect(await admin.isClosed())
        #expect(await idle.isClosed())
        #expect(await subscriber.isClosed())
        await stopped
        #expect(server.server.state == .stopped)

        // The final snapshot holds every acknowledged deposit.
        let again = try await TestServer.start(directory: server.directory)
        let check = try await again.connect(admin: true)
        #expect(try await check.call("BALANCE inv").hasPrefix("OK available=200.00 "))
        await again.stop()
    }

    @Test func aSecondStopWaitsForTheFirstToFinish() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        _ = try await server.connect(admin: true)
        async let first: Void = server.stop()
        async let second: Void = server.stop()
        _ = await (first, second)
        #expect(server.server.state == .stopped)
        await server.stop()  // stopped already: returns at once
    }

    @Test func runReturnsAfterTheServiceGroupsGracefulShutdown() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let client = try await server.connect(admin: true)
        let group = ServiceGroup(services: [server.server], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await client.call("PING").hasPrefix("OK"))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(await client.isClosed())
        #expect(server.server.state == .stopped)
    }
}
