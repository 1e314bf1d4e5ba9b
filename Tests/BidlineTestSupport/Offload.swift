import Dispatch

/// Runs blocking socket work on a GCD thread, so tests never block the Swift concurrency pool: on 2 cores the pool
/// has 2 threads, and an in-process server needs one of them for its snapshot task (a test blocking both in
/// `read` would wait for a reply that cannot come).
public func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
