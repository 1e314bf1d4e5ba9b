import BidlineCore
import BidlineProtocol
import NIOCore
import Synchronization

/// Push subscriptions (`SUBSCRIBE loans account`): formats each event once and writes it to the subscribed
/// connections. A subscriber whose outbound buffer is full (it stopped reading) is disconnected, so one slow
/// client never holds memory or the engine.
public final class SubscriberHub: Sendable {
    struct Subscriber: Sendable {
        let channel: any Channel
        let user: UserIndex
        let admin: Bool
        let topics: [Topic]
    }

    let subscribers = Mutex<[ObjectIdentifier: Subscriber]>([:])
    /// The number of subscribers, readable without the lock (the engine host checks it per command).
    private let subscriberCount = Atomic<Int>(0)

    /// Whether anyone is subscribed now; events applied while nobody is are not kept for publication.
    var hasSubscribers: Bool { subscriberCount.load(ordering: .relaxed) > 0 }

    /// A hub with no subscribers.
    public init() {}

    /// The number of subscribed connections now.
    public var count: Int { subscribers.withLock { $0.count } }

    func add(_ channel: any Channel, session: Session) {
        guard let user = session.user else { return }
        let subscriber = Subscriber(channel: channel, user: user, admin: session.isAdmin, topics: session.topics)
        subscribers.withLock {
            $0[ObjectIdentifier(channel)] = subscriber
            subscriberCount.store($0.count, ordering: .relaxed)
        }
    }

    func remove(_ channel: any Channel) {
        subscribers.withLock {
            $0.removeValue(forKey: ObjectIdentifier(channel))
            subscriberCount.store($0.count, ordering: .relaxed)
        }
    }

    /// Sends `events` to whoever subscribed to them. Called by the engine host after the events are durable.
    func publish(_ events: [Event], engine: Engine) {
        let current = subscribers.withLock { Array($0.values) }
        guard !current.isEmpty else { return }
        // Each event is formatted once; every subscriber gets its events in engine order.
        var lines = ReplyWriter(capacity: 4096)
        var spans: [(event: Event, range: Range<Int>)] = []
        spans.reserveCapacity(events.count)
        for event in events {
            let start = lines.bytes.count
            lines.event(event, in: engine.state)
            spans.append((event, start..<lines.bytes.count))
        }
        for subscriber in current {
            var bytes: [UInt8] = []
            for (event, range) in spans {
                let wanted = event.kind == .accountChanged
                    ? subscriber.topics.contains(.account) && (subscriber.admin || event.user == subscriber.user)
                    : subscriber.topics.contains(.loans)
                if wanted { bytes.append(contentsOf: lines.bytes[range]) }
            }
            guard !bytes.isEmpty else { continue }
            let channel = subscriber.channel
            guard channel.isWritable else {
                remove(channel)
                channel.close(promise: nil)
                continue
            }
            channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
        }
    }

}
