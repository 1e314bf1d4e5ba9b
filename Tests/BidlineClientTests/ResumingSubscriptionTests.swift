import BidlineClient
import BidlineProtocol
import BidlineTestSupport
import Foundation
import Testing

/// `subscribeResuming`: a subscription that subscribes again after its connection drops, and marks the gap.
@Suite(.serialized) struct ResumingSubscriptionTests {
    static let quickPolicy = BidlineClient.ReconnectPolicy(maxAttempts: 100, initialDelayMillis: 20, maxDelayMillis: 100)

    @Test func aRestartIsMarkedAndTheEventsAfterItArrive() async throws {
        try await withTimeout { try await restartScenario() }
    }

    func restartScenario() async throws {
        var server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.admin()
        _ = try await admin.send("USER.ADD inv roles=investor verified=1 risk=5")
        let subscription = try await admin.subscribeResuming(topics: [.account], policy: Self.quickPolicy)
        var updates = subscription.makeAsyncIterator()
        _ = try await admin.send("DEPOSIT inv 100")
        guard case .event(let first) = try await updates.next() else {
            Issue.record("expected the first deposit's event")
            return
        }
        #expect(first["user"] == "inv" && first["change"] == "100.00" && first["available"] == "100.00")

        server = try await server.restart()
        guard case .resubscribed(let attempts) = try await updates.next() else {
            Issue.record("expected the gap mark after the restart")
            return
        }
        #expect(attempts >= 1)
        let again = try await server.admin()
        _ = try await again.send("DEPOSIT inv 5")
        guard case .event(let second) = try await updates.next() else {
            Issue.record("expected the event after the resubscription")
            return
        }
        #expect(second["change"] == "5.00" && second["available"] == "105.00")

        // Cancel ends the sequence normally.
        await subscription.cancel()
        #expect(try await updates.next() == nil)
        await again.close()
        await admin.close()
        await server.stop()
    }

    @Test func aServerThatStaysDownEndsItAfterThePolicysAttempts() async throws {
        try await withTimeout { try await serverDownScenario() }
    }

    func serverDownScenario() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.admin()
        let subscription = try await admin.subscribeResuming(
            topics: [.loans], policy: .init(maxAttempts: 3, initialDelayMillis: 10, maxDelayMillis: 20))
        var updates = subscription.makeAsyncIterator()
        await server.stop()
        do {
            let update = try await updates.next()
            Issue.record("expected reconnectFailed, got \(String(describing: update))")
        } catch BidlineClientError.reconnectFailed(let attempts, _) {
            #expect(attempts == 3)
        }
        await admin.close()
    }
}
