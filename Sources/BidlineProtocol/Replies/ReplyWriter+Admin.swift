import BidlineCore

/// Replies of the admin verbs: `USER.ADD`, `USER.SET`, `CLOCK`, `CLOCK.ADVANCE`, `SNAPSHOT`, `RECONCILE`, `STATS`.
extension ReplyWriter {
    /// `OK user=… token=…`: a new user and its token (shown once).
    public mutating func userCreated(_ id: String, token: String) {
        ok()
        field("user", id)
        field("token", token)
        end()
    }

    /// `OK user=… roles=… verified=0|1 risk=N blacklist=0|1`: a user's flags after `USER.SET`.
    public mutating func userFlags(_ user: UserIndex, in state: EngineState) {
        let account = state.accounts[user.int]
        ok()
        field("user", state.users[user.int].id)
        field("roles", account.roles.wireText)
        field("verified", account.verified)
        field("risk", Int64(account.riskLevel))
        field("blacklist", account.blacklisted)
        end()
    }

    /// `OK now=<ms>`: engine time in milliseconds since the epoch.
    public mutating func clock(nowMillis: Int64) {
        ok()
        field("now", nowMillis)
        end()
    }

    /// `OK now=<ms> failed=N overdue=N`: the reply of `CLOCK.ADVANCE`, after its tick.
    public mutating func clockAdvanced(nowMillis: Int64, failedListings: UInt32, overdueInstallments: UInt32) {
        ok()
        field("now", nowMillis)
        field("failed", Int64(failedListings))
        field("overdue", Int64(overdueInstallments))
        end()
    }

    /// `OK snapshot=<path> seq=N`.
    public mutating func snapshotTaken(path: String, sequence: UInt64) {
        ok()
        field("snapshot", path)
        field("seq", Int64(sequence))
        end()
    }

    /// `OK balanced=0|1 total=… entries=N accounts=N bank=… platform=… problems=N`.
    public mutating func reconciliation(_ report: ReconcileReport) {
        ok()
        field("balanced", report.balanced)
        field("total", cents: report.totalCents)
        field("entries", report.entries)
        field("accounts", report.accounts)
        field("bank", cents: report.bankCents)
        field("platform", cents: report.platformCents)
        field("problems", report.problems.count)
        end()
    }

    /// `OK disbursed=… interest_paid=… loans_repaying=N users=N listings_open=N frozen=… bids_per_sec=N bids=N
    /// seq=N durability=… log_commits=… log_syncs=N`: the engine's totals, then how the server runs (figures the
    /// engine state does not hold): accepted bids per second over its recent window, the last journaled sequence,
    /// the durability and commit modes' wire names, and the log's data syncs since start.
    public mutating func stats(
        _ stats: Stats, bidsPerSecond: Int64, sequence: Int64, durability: String, logCommits: String, logSyncs: Int64
    ) {
        ok()
        field("disbursed", cents: stats.disbursedCents)
        field("interest_paid", cents: stats.interestPaidCents)
        field("loans_repaying", stats.loansRepaying)
        field("users", stats.users)
        field("listings_open", stats.listingsOpen)
        field("frozen", cents: stats.frozenCents)
        field("bids_per_sec", bidsPerSecond)
        field("bids", stats.bidsAccepted)
        field("seq", sequence)
        // How the log runs, and its data syncs since start: a load generator divides the `seq` it saw advance
        // by the syncs to report records per group commit.
        field("durability", durability)
        field("log_commits", logCommits)
        field("log_syncs", logSyncs)
        end()
    }
}
