import Testing

@testable import BidlineServer

/// The commit decision of each round (`--log-commits loop|thread|auto`), apart from the log and the loop.
@Suite struct CommitSchedulerTests {
    @Test func theLogThreadModeAlwaysWaitsWithACallbackAndLetsTheLogCommit() {
        var scheduler = CommitScheduler(mode: .logThread, commitWindowMicroseconds: 300)
        #expect(!scheduler.callerCommits)
        #expect(scheduler.commitWindowMicroseconds == 300)
        scheduler.batchRan(requests: 1)
        #expect(scheduler.wait() == .logCallback)
        #expect(scheduler.wait() == .logCallback)
        #expect(!scheduler.commitScheduled)
    }

    @Test func theLoopModesScheduleOneCommitPerIteration() {
        for mode in [LogCommits.engineLoop, .adaptive] {
            var scheduler = CommitScheduler(mode: mode)
            #expect(scheduler.callerCommits)
            #expect(scheduler.wait() == .commitOnLoop)
            #expect(scheduler.wait() == .alreadyScheduled)
            #expect(scheduler.wait() == .alreadyScheduled)
            _ = scheduler.decide(hasWork: true)
            #expect(scheduler.wait() == .commitOnLoop, "the next iteration schedules its own commit")
        }
    }

    @Test func aRoundWithNothingToCommitIsNotCounted() {
        var scheduler = CommitScheduler(mode: .adaptive)
        scheduler.batchRan(requests: 500)
        #expect(scheduler.decide(hasWork: false) == .nothing)
        #expect(scheduler.roundsHandedToLogThread == 0)
        #expect(scheduler.roundsCommittedOnLoop == 0)
        #expect(scheduler.roundBatches == 0 && scheduler.roundRequests == 0, "the round's counts reset anyway")
    }

    @Test func theLoopModeCommitsEveryRoundOnTheLoopHoweverLargeItsBatches() {
        var scheduler = CommitScheduler(mode: .engineLoop)
        scheduler.batchRan(requests: 4096)
        #expect(scheduler.decide(hasWork: true) == .engineLoop)
        scheduler.committedOnLoop()
        #expect(scheduler.roundsCommittedOnLoop == 1)
        #expect(scheduler.roundsHandedToLogThread == 0)
    }

    @Test func autoCommitsOnTheLoopUpToTwoRequestsPerBatchOnAverage() {
        var scheduler = CommitScheduler(mode: .adaptive)
        // Ten waiting clients, one request each: the loop has nothing else to do while it syncs.
        for _ in 0..<10 { scheduler.batchRan(requests: 1) }
        #expect(scheduler.decide(hasWork: true) == .engineLoop)
        // Exactly the threshold (2 per batch) stays on the loop; one more request goes to the log thread.
        scheduler.batchRan(requests: 2)
        scheduler.batchRan(requests: 2)
        #expect(scheduler.decide(hasWork: true) == .engineLoop)
        scheduler.batchRan(requests: 2)
        scheduler.batchRan(requests: 3)
        #expect(scheduler.decide(hasWork: true) == .logThread)
        #expect(scheduler.roundsHandedToLogThread == 1)
        #expect(scheduler.roundsCommittedOnLoop == 0, "only a commit the loop did is counted as one")
    }

    @Test func autoSendsAPipelineToTheLogThreadAndDecidesEachRoundAfresh() {
        var scheduler = CommitScheduler(mode: .adaptive)
        scheduler.batchRan(requests: 200)
        #expect(scheduler.decide(hasWork: true) == .logThread)
        scheduler.batchRan(requests: 1)
        #expect(scheduler.decide(hasWork: true) == .engineLoop, "the previous round's requests do not carry over")
        // A commit with no batch run this round (events or releases still waiting) goes on the loop.
        #expect(scheduler.decide(hasWork: true) == .engineLoop)
    }
}
