import BidlineProtocol
import Synchronization

/// What a ``ResumingSubscription`` yields: events, and a mark where its connection dropped and it subscribed
/// again.
public enum SubscriptionUpdate: Sendable, Hashable {
    /// A pushed event, in the order the server sent it.
    case event(BidlineClient.Event)
    /// The connection dropped and the subscription is in place again (the server confirmed `OK subscribed=…`)
    /// after `attempts` connection attempts. Events between the drop and this mark are lost (the server does not
    /// replay them): re-read whatever state you follow (`BALANCE`, `LOAN.GET`, …) before trusting it again.
    case resubscribed(attempts: Int)
}

/// A `SUBSCRIBE` that survives dropped connections (server restarts, network cuts): it subscribes again under a
/// ``BidlineClient/ReconnectPolicy`` and marks each gap with ``SubscriptionUpdate/resubscribed(attempts:)``.
///
/// The sequence ends normally after ``cancel()`` (or when the last reference goes). It throws
/// ``BidlineClientError/reconnectFailed(attempts:reason:)`` when the policy's attempts are used up, the server's
/// refusal (``BidlineClientError/rejected(code:message:)``, e.g. the token no longer works) when it refuses the
/// new subscription, and ``BidlineClientError/subscriberTooSlow(limit:)`` when the consumer falls more than
/// ``BidlineClient/Configuration/maxBufferedEvents`` behind (a consumer problem, so no resume).
public final class ResumingSubscription: AsyncSequence, Sendable {
    public typealias Element = SubscriptionUpdate

    /// The topics subscribed to.
    public let topics: [Topic]
    let updates: AsyncThrowingStream<SubscriptionUpdate, any Error>
    let driver: Mutex<Task<Void, Never>?>

    init(topics: [Topic], updates: AsyncThrowingStream<SubscriptionUpdate, any Error>) {
        self.topics = topics
        self.updates = updates
        self.driver = Mutex(nil)
    }

    deinit { driver.withLock { $0?.cancel() } }

    /// Iterates the updates.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<SubscriptionUpdate, any Error>.AsyncIterator

        /// The next update; nil after ``ResumingSubscription/cancel()``.
        public mutating func next() async throws -> SubscriptionUpdate? { try await base.next() }
    }

    /// An iterator over the updates (iterate once: the updates are not replayed to a second iterator).
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: updates.makeAsyncIterator()) }

    /// Ends the subscription: closes its connection and stops resubscribing; iteration then ends normally.
    public func cancel() async {
        let task = driver.withLock { $0 }
        task?.cancel()
        await task?.value
    }
}

extension BidlineClient {
    /// Like ``subscribe(topics:)`` (a second connection, authenticated with this client's credentials, in push
    /// mode; returns once the server confirmed, so every event after that is delivered), but when that connection
    /// drops it subscribes again under `policy` (default: the client's ``Configuration/reconnect``), with the
    /// credentials of this client's last successful `AUTH`, and yields
    /// ``SubscriptionUpdate/resubscribed(attempts:)`` before the events of the new connection.
    public func subscribeResuming(topics: [Topic], policy: ReconnectPolicy? = nil) async throws -> ResumingSubscription {
        let policy = policy ?? configuration.reconnect
        let limit = configuration.maxBufferedEvents
        let first = try await subscribe(topics: topics)
        let (updates, continuation) = AsyncThrowingStream<SubscriptionUpdate, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(limit))
        let subscription = ResumingSubscription(topics: topics, updates: updates)
        let task = Task { [self] in
            var current = first
            while true {
                let ending: (any Error)?
                do {
                    for try await event in current {
                        if case .dropped = continuation.yield(.event(event)) {
                            await current.cancel()
                            continuation.finish(throwing: BidlineClientError.subscriberTooSlow(limit: limit))
                            return
                        }
                    }
                    ending = nil
                } catch {
                    ending = error
                }
                guard let ending, !Task.isCancelled, Self.subscriptionMayResume(after: ending) else {
                    await current.cancel()
                    continuation.finish(throwing: Task.isCancelled ? nil : ending)
                    return
                }
                switch await resubscribe(topics, policy: policy, lastError: ending) {
                case .success(let (next, attempts)):
                    current = next
                    continuation.yield(.resubscribed(attempts: attempts))
                case .failure(let error):
                    continuation.finish(throwing: Task.isCancelled ? nil : error)
                    return
                }
            }
        }
        subscription.driver.withLock { $0 = task }
        continuation.onTermination = { _ in task.cancel() }
        return subscription
    }

    /// Whether a subscription that ended with `error` should subscribe again: only when its connection was lost.
    static func subscriptionMayResume(after error: any Error) -> Bool {
        switch error as? BidlineClientError {
        case .connectionLost, .timedOut, .reconnectFailed: true
        default: false
        }
    }

    /// Subscribes again with backoff; gives up after `policy.maxAttempts` attempts, at the first refusal by the
    /// server, or when cancelled.
    func resubscribe(
        _ topics: [Topic], policy: ReconnectPolicy, lastError: any Error
    ) async -> Result<(Subscription, Int), BidlineClientError> {
        var delay = policy.initialDelayMillis
        var reason = "\(lastError)"
        var attempt = 0
        while attempt < policy.maxAttempts {
            attempt += 1
            do {
                try await Task.sleep(for: .milliseconds(delay))
            } catch {
                return .failure(.closed)
            }
            delay = min(delay * 2, policy.maxDelayMillis)
            do {
                return .success((try await subscribe(topics: topics), attempt))
            } catch let error as BidlineClientError {
                // A refusal stands (a revoked token will not work on the next try), except "busy" and
                // "unavailable", which a server says while it is full or its log recovers.
                if case .rejected(let code, _) = error, code != "BUSY", code != "UNAVAILABLE" { return .failure(error) }
                reason = "\(error)"
            } catch {
                reason = "\(error)"
            }
        }
        return .failure(.reconnectFailed(attempts: attempt, reason: reason))
    }
}
