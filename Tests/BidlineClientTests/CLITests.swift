import BidlineClient
import BidlineTestSupport
import Foundation
import Testing

/// `bidline cli` as a user runs it: the built binary, spawned against an in-process server, with standard input
/// a pipe (not a terminal).
@Suite(.serialized) struct CLITests {
    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs the CLI with `arguments`. Standard input is a pipe that receives `input` and is closed only after
    /// the process exits when `closeInput` is false (so a CLI that read it would hang, and the timeout fails).
    static func cli(
        _ arguments: [String], input: String = "", closeInput: Bool = true, subcommand: String = "cli"
    ) async throws -> Run {
        let binary = URL(fileURLWithPath: try BidlineExecutable.require())
        let process = Process()
        process.executableURL = binary
        process.arguments = [subcommand] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = NSTemporaryDirectory()
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let exited = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { process in
            exited.continuation.yield(process.terminationStatus)
            exited.continuation.finish()
        }
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        if closeInput { try stdin.fileHandleForWriting.close() }
        let status = try await withTimeout(seconds: 60) {
            for await status in exited.stream { return status }
            return Int32(-1)
        }
        if !closeInput { try stdin.fileHandleForWriting.close() }
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Run(status: status, output: output, errors: errors)
    }

    @Test func oneShotCommands() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.admin()
        let alice = try token(of: try await admin.send("USER.ADD alice roles=investor verified=1"))
        _ = try await admin.send("DEPOSIT alice 100")
        let port = "\(server.port)"
        let tokenFile = server.directory.appending("admin.token").string

        // OK: exit 0, the reply verbatim; standard input stays open and is not read.
        let balance = try await Self.cli(
            ["--port", port, "--token-file", tokenFile, "-c", "BALANCE alice"], closeInput: false)
        #expect(balance.status == 0, "\(balance)")
        #expect(
            balance.output
                == "OK available=100.00 frozen=0.00 receivable_principal=0.00 receivable_interest=0.00 borrowed=0.00\n")

        // ERR: exit 1.
        let missing = try await Self.cli(["--port", port, "--token-file", tokenFile, "-c", "BALANCE nobody"])
        #expect(missing.status == 1)
        #expect(missing.output.hasPrefix("ERR NO_SUCH_USER"))

        // Several -c in order; any ERR makes the status 1.
        let several = try await Self.cli([
            "--port", port, "--user", "alice", "--token", alice, "-c", "WHOAMI", "-c", "LOAN.GET L9",
        ])
        #expect(several.status == 1)
        #expect(several.output.hasPrefix("OK user=alice roles=investor\nERR NO_SUCH_LISTING"))

        // Rows come after their OK rows=N line; --table aligns them.
        let ledger = try await Self.cli(["--port", port, "--token-file", tokenFile, "-c", "LEDGER alice"])
        #expect(ledger.status == 0)
        let lines = ledger.output.split(separator: "\n")
        #expect(lines.first == "OK rows=1")
        #expect(lines.count == 2 && lines[1].hasPrefix("entry="))
        let table = try await Self.cli(["--port", port, "--token-file", tokenFile, "--table", "-c", "LEDGER alice"])
        #expect(
            table.output.split(separator: "\n").dropFirst().first?.hasPrefix("#  entry  at") == true, "\(table.output)")

        // A wrong token is an ERR; an unreachable server is status 2.
        let wrong = try await Self.cli(["--port", port, "--user", "alice", "--token", "nope", "-c", "PING"])
        #expect(wrong.status == 1)
        #expect(wrong.output.hasPrefix("ERR AUTH_FAILED"))
        await admin.close()
        await server.stop()
        let down = try await Self.cli(["--port", port, "-c", "PING"])
        #expect(down.status == 2)
        #expect(down.errors.contains("could not connect"))
    }

    @Test func commandsOnStandardInput() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let run = try await Self.cli(
            ["--port", "\(server.port)", "--token-file", server.directory.appending("admin.token").string],
            input: "PING\n\nUSER.ADD bob roles=investor\nhelp BID\nBALANCE bob\n")
        #expect(run.status == 0, "\(run)")
        let lines = run.output.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "OK pong")
        #expect(lines[1].hasPrefix("OK user=bob token="))
        #expect(lines[2] == "OK rows=2")
        #expect(lines[3] == "usage=BID_L7_amount_[ref=...]_[aon=1]")
        #expect(
            lines[5] == "OK available=0.00 frozen=0.00 receivable_principal=0.00 receivable_interest=0.00 borrowed=0.00"
        )
        await server.stop()
    }

    @Test func benchReportsHowTheServersLogRanAndChecksTheBooks() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let run = try await Self.cli(
            [
                "--port", "\(server.port)", "--token", server.adminToken, "--scenario", "steady", "--connections", "2",
                "--pipeline", "4", "--duration", "1",
            ], subcommand: "bench")
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("server_log: durability=fsync log_commits=auto"), "\(run.output)")
        #expect(run.output.contains("log_records_per_sync: "), "\(run.output)")
        #expect(run.output.contains("books: balanced, counted amounts match the server"), "\(run.output)")
        #expect(run.output.contains("closed loop, pipeline 4"), "the load shape in words: \(run.output)")
        await server.stop()
    }

    /// Enum-valued options list their values in `--help`, and a bad value gets the parser's error (exit 64).
    @Test func enumOptionsListTheirValuesAndRefuseOthers() async throws {
        let help = try await Self.cli(["--help"], subcommand: "serve")
        #expect(help.status == 0)
        let text = help.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for values in ["fsync, interval=MS, none", "loop, thread, auto", "keep, archive, delete", "system, manual"] {
            #expect(text.contains("(values: \(values);"), "\(help.output)")
        }
        for (subcommand, arguments) in [
            ("serve", ["--clock", "lunar"]), ("serve", ["--durability", "interval=0"]),
            ("serve", ["--log-commits", "sometimes"]), ("serve", ["--wal-retention", "shred"]),
            ("bench", ["--scenario", "stampede"]),
        ] {
            let bad = try await Self.cli(arguments, subcommand: subcommand)
            #expect(bad.status == 64, "\(subcommand) \(arguments): \(bad)")
            #expect(bad.errors.contains("The value '\(arguments[1])' is invalid for '\(arguments[0])"), "\(bad.errors)")
        }
    }
}
