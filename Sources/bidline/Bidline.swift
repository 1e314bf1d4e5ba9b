import ArgumentParser

@main
struct Bidline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bidline",
        abstract: "Bidline: the bid-matching engine of a P2P lending platform.",
        subcommands: [Serve.self, BenchCommand.self, CLICommand.self, Wal.self, SnapshotTool.self])
}
