import Testing

@testable import BidlineStorage

/// The commit window (``WALWriter/Options/commitWindowMicroseconds``) decided by the writer state, with
/// the clock passed in: no sleeping, no timing.
@Suite struct CommitWindowTests {
    private func state(window: Int, durability: WALWriter.Durability = .fsync) -> WALWriterState {
        var state = WALWriterState(
            nextSequence: 1, options: .init(durability: durability, commitWindowMicroseconds: window))
        state.ioRunning = true
        return state
    }

    private func enqueue(_ count: Int, into state: inout WALWriterState) {
        let payload: [UInt8] = [1, 2, 3]
        for _ in 0..<count { payload.withUnsafeBytes { state.encode(engineTimeMillis: 0, payload: $0) } }
    }

    private func isWrite(_ work: WALWriterState.Work, records: Int) -> Bool {
        if case .write(let group, isRetry: false) = work { return group.recordCount == records }
        return false
    }

    @Test func concurrentWritersWaitForTheWindowThenShareOneGroup() {
        var state = state(window: 300)
        enqueue(10, into: &state)
        #expect(isWrite(state.takeWork(now: 1_000_000), records: 10))  // nothing before it: at once
        enqueue(2, into: &state)
        // 100 µs after the last group began, which held 10 records: wait, in steps.
        guard case .wait(let nanoseconds) = state.takeWork(now: 1_100_000) else {
            Issue.record("expected a wait")
            return
        }
        #expect(nanoseconds == 50_000)  // one step
        enqueue(4, into: &state)  // arrivals meanwhile join the group, so it keeps waiting
        guard case .wait(let rest) = state.takeWork(now: 1_260_000) else {
            Issue.record("expected a second wait")
            return
        }
        #expect(rest == 40_000)  // the window's remainder is less than a step
        enqueue(1, into: &state)
        #expect(isWrite(state.takeWork(now: 1_300_000), records: 7))  // the window is over
    }

    @Test func aGroupAsLargeAsTheLargestRecentOneGoesAtOnce() {
        var state = state(window: 300)
        enqueue(16, into: &state)
        #expect(isWrite(state.takeWork(now: 1_000_000), records: 16))
        enqueue(15, into: &state)
        guard case .wait = state.takeWork(now: 1_100_000) else {
            Issue.record("expected a wait")
            return
        }
        enqueue(1, into: &state)  // the sixteenth writer is back: nobody else can come
        #expect(isWrite(state.takeWork(now: 1_120_000), records: 16))
    }

    @Test func aStepThatBringsNoRecordEndsTheWindow() {
        var state = state(window: 300)
        enqueue(16, into: &state)
        #expect(isWrite(state.takeWork(now: 1_000_000), records: 16))
        enqueue(5, into: &state)
        guard case .wait = state.takeWork(now: 1_100_000) else {
            Issue.record("expected a wait")
            return
        }
        // Nothing arrived during the step: every writer is waiting on this group, so it goes now.
        #expect(isWrite(state.takeWork(now: 1_150_000), records: 5))
    }

    @Test func aLoneWriterIsNeverHeld() {
        var state = state(window: 300)
        for step in 0..<5 {
            enqueue(1, into: &state)
            // Each group held one record, so the next one starts at once even 1 µs later.
            #expect(isWrite(state.takeWork(now: UInt64(1_000_000 + step * 1_000)), records: 1))
        }
    }

    @Test(arguments: [
        (0, WALWriter.Durability.fsync), (300, .interval(milliseconds: 5)), (300, .none),
    ])
    func noWindowWhenOffOrNotSyncingPerGroup(window: Int, durability: WALWriter.Durability) {
        var state = state(window: window, durability: durability)
        enqueue(3, into: &state)
        #expect(isWrite(state.takeWork(now: 1_000_000), records: 3))
        enqueue(3, into: &state)
        #expect(isWrite(state.takeWork(now: 1_000_001), records: 3))
    }

    @Test func closingIsNotHeld() {
        var state = state(window: 300)
        enqueue(3, into: &state)
        #expect(isWrite(state.takeWork(now: 1_000_000), records: 3))
        enqueue(1, into: &state)
        state.closeRequested = true
        #expect(isWrite(state.takeWork(now: 1_000_001), records: 1))
    }
}
