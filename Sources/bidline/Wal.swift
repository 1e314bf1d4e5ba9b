import ArgumentParser

/// `bidline wal`: the write-ahead log ops tool (the counterpart of `redis-check-aof`). Every subcommand works on a
/// stopped server's data directory and, except `append-test`, changes nothing in it.
struct Wal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal",
        abstract: "Read, check and replay the write-ahead log of a data directory (offline, read-only).",
        discussion: """
            --data-dir names the data directory, as for `bidline serve`: it holds wal/ (log segments) and \
            snapshots/. See docs/OPERATIONS.md for what to do with each finding.
            """,
        subcommands: [Inspect.self, Verify.self, Replay.self, AppendTest.self])
}
