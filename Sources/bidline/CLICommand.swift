import ArgumentParser
import BidlineClient
import BidlineProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `bidline cli`: the interactive client (like `redis-cli`), one-shot with `-c`, or a script on standard input.
struct CLICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cli",
        abstract: "Talk to a Bidline server: interactively, one-shot (-c), or commands piped on standard input.",
        discussion: """
            Interactive when standard input is a terminal: a prompt, `help` and `help VERB` from the command \
            table, `history` and `!N` (the last 1000 lines, kept in memory and appended to ~/.bidline_history \
            when writable; AUTH lines are not recorded), `exit` or Ctrl-D to leave; SUBSCRIBE prints events \
            until Ctrl-C. With -c (repeatable) the commands run in order and standard input is not read. \
            Otherwise each line of standard input is one command. The exit status is 0 when every reply was OK, \
            1 when any was ERR, 2 when the server could not be reached. Replies are printed as the server sent \
            them unless standard output is a terminal, where rows are shown as a table (--raw turns that off).
            """)

    @Option(help: "Server address.")
    var host = "127.0.0.1"

    @Option(help: "Server TCP port.")
    var port = 7878

    @Option(help: "User to authenticate as (default: admin when a token is given).")
    var user: String?

    @Option(help: "Token to authenticate with (visible to other local users in the process list: prefer --token-file).")
    var token: String?

    @Option(name: .customLong("token-file"), help: "File holding the token, e.g. <data-dir>/admin.token.")
    var tokenFile: String?

    @Option(
        name: .customShort("c"), help: ArgumentHelp("Run this command and exit (repeatable).", valueName: "command"))
    var commands: [String] = []

    @Flag(help: "Print replies exactly as the server sent them, even on a terminal.")
    var raw = false

    @Flag(help: "Show rows as a table even when standard output is not a terminal.")
    var table = false

    func run() async throws {
        let token = try resolveToken()
        let user = self.user ?? (token != nil ? "admin" : nil)
        if user != nil && token == nil {
            throw ValidationError("--user needs --token or --token-file")
        }
        let interactive = commands.isEmpty && isatty(STDIN_FILENO) == 1
        var configuration = BidlineClient.Configuration()
        configuration.reconnect = interactive ? BidlineClient.ReconnectPolicy(maxAttempts: 3) : .never
        let client: BidlineClient
        do {
            client = try await BidlineClient.connect(host: host, port: port, configuration: configuration)
        } catch {
            printError("could not connect to \(host):\(port): \(error)")
            throw ExitCode(2)
        }
        var session = CLISession(client: client, pretty: !raw && (table || isatty(STDOUT_FILENO) == 1))
        if let user, let token {
            let reply = try await session.execute("AUTH \(user) \(token)", echoOK: interactive)
            guard reply == .ok else {
                await client.close()
                throw ExitCode(reply == .error ? 1 : 2)
            }
        }
        var outcome = CLISession.Outcome.ok
        if !commands.isEmpty {
            for command in commands {
                outcome = outcome.worst(try await session.execute(command))
                if outcome == .failed { break }
            }
        } else if interactive {
            await session.interactive(prompt: "\(host):\(port)> ")
        } else {
            while let line = readLine() {
                outcome = outcome.worst(try await session.execute(line))
                if outcome == .failed { break }
            }
        }
        await client.close()
        switch outcome {
        case .ok: return
        case .error: throw ExitCode(1)
        case .failed: throw ExitCode(2)
        }
    }

    func resolveToken() throws -> String? {
        if let token { return token }
        guard let tokenFile else { return nil }
        guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
            throw ValidationError("cannot read the token file \(tokenFile)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The command loop of `bidline cli`: sends lines, prints replies, keeps history, answers `help` locally from
/// the command table.
struct CLISession {
    /// How one command went.
    enum Outcome: Equatable {
        case ok
        /// The server answered `ERR`.
        case error
        /// No answer: the connection failed.
        case failed

        func worst(_ other: Outcome) -> Outcome {
            switch (self, other) {
            case (.failed, _), (_, .failed): .failed
            case (.error, _), (_, .error): .error
            default: .ok
            }
        }
    }

    /// History entries kept (in memory and in the file).
    static let maxHistory = 1_000

    let client: BidlineClient
    let pretty: Bool
    var history: [String] = []
    let historyPath: String? = ProcessInfo.processInfo.environment["HOME"].map { $0 + "/.bidline_history" }

    init(client: BidlineClient, pretty: Bool) {
        self.client = client
        self.pretty = pretty
    }

    /// Runs one command line; blank lines do nothing. `echoOK` false hides a successful reply (used for the
    /// automatic AUTH of one-shot mode).
    @discardableResult
    mutating func execute(_ text: String, echoOK: Bool = true) async throws -> Outcome {
        let line = text.trimmingCharacters(in: .whitespaces)
        guard !line.isEmpty else { return .ok }
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let verb = words[0].uppercased()
        if verb == "HELP" && pretty {
            printHelp(words.count > 1 ? String(words[1]) : nil)
            return .ok
        }
        if verb == "SUBSCRIBE" { return await subscribe(words.dropFirst().map(String.init)) }
        do {
            let reply = try await client.send(line)
            if reply.isOK && !echoOK { return .ok }
            printReply(reply)
            return reply.isOK ? .ok : .error
        } catch let error as BidlineClientError {
            if case .closed = error, verb == "QUIT" { return .ok }
            printError(error.description)
            switch error {
            case .invalidRequest: return .error
            default: return .failed
            }
        }
    }

    /// The prompt loop: reads lines until end of input, `exit` or `QUIT`.
    mutating func interactive(prompt: String) async {
        loadHistory()
        print("Connected to \(prompt.dropLast(2)). Type help, help VERB, history, !N, exit.")
        while true {
            print(prompt, terminator: "")
            fflush(nil)
            guard var line = readLine() else {
                print("")
                return
            }
            line = line.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("!"), let number = Int(line.dropFirst()) {
                guard number >= 1, number <= history.count else {
                    printError("no history entry \(number)")
                    continue
                }
                line = history[number - 1]
                print(line)
            }
            let lowered = line.lowercased()
            if lowered == "exit" { return }
            if lowered == "history" {
                for (index, entry) in history.enumerated() { print("\(String(index + 1).leftPadded(4))  \(entry)") }
                continue
            }
            remember(line)
            if lowered.hasPrefix("help") && (lowered.count == 4 || lowered.dropFirst(4).first == " ") {
                let words = line.split(separator: " ")
                printHelp(words.count > 1 ? String(words[1]) : nil)
                continue
            }
            _ = try? await execute(line)
            if lowered == "quit" { return }
        }
    }

    // MARK: Output

    func printReply(_ reply: BidlineClient.Reply) {
        print(reply.line)
        guard !reply.rows.isEmpty else { return }
        if !pretty {
            for row in reply.rows { print(row.line) }
            return
        }
        print(Self.table(reply.rows), terminator: "")
    }

    /// Rows as an aligned table when they share the same keys, as numbered lines otherwise, and verbatim when
    /// they are not `key=value` rows (the Prometheus text of METRICS).
    static func table(_ rows: [BidlineClient.Reply.Row]) -> String {
        // A row is tabular when every token is a key=value field.
        let keyLists = rows.map { row in ReplyParser.orderedFields(row.line)?.map(\.key) }
        if keyLists.contains(where: { $0 == nil }) { return rows.map { $0.line + "\n" }.joined() }
        guard let keys = keyLists.first ?? nil, keyLists.allSatisfy({ $0 == keys }), Set(keys).count == keys.count
        else {
            return rows.enumerated().map { "\(String($0.offset + 1).leftPadded(4))) \($0.element.line)\n" }.joined()
        }
        var columns = [["#"] + rows.indices.map { String($0 + 1) }]
        for key in keys { columns.append([key] + rows.map { $0[key] ?? "" }) }
        let widths = columns.map { $0.map(\.count).max() ?? 0 }
        var text = ""
        for line in 0...rows.count {
            let cells = columns.indices.map { column in
                column == 0
                    ? columns[column][line].leftPadded(widths[column])
                    : columns[column][line].rightPadded(widths[column])
            }
            text += cells.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        return text
    }

    func printHelp(_ verbName: String?) {
        if let verbName {
            guard let spec = CommandTable.lookUp(Array(verbName.utf8)) else {
                printError("unknown verb '\(verbName)' (type help for the list)")
                return
            }
            print("  \(spec.usage)")
            print("  summary: \(spec.summary)")
            print("  roles:   \(CommandTable.roleNames(spec.roles))   writes: \(spec.writes ? "yes" : "no")")
            return
        }
        let width = CommandTable.specs.map(\.name.count).max() ?? 0
        let roleWidth = CommandTable.specs.map { CommandTable.roleNames($0.roles).count }.max() ?? 0
        for spec in CommandTable.specs {
            let roles = CommandTable.roleNames(spec.roles).rightPadded(roleWidth)
            print("  \(spec.name.rightPadded(width))  \(roles)  \(spec.summary)")
        }
        print("Type help VERB for a verb's arguments. Client commands: history, !N, exit.")
    }

    // MARK: Subscriptions

    /// `SUBSCRIBE topics`: a push connection whose events are printed until it ends.
    func subscribe(_ names: [String]) async -> Outcome {
        var topics: [Topic] = []
        for name in names {
            guard let topic = Topic.allCases.first(where: { $0.wireText == name.lowercased() }) else {
                print("ERR BAD_ARGUMENT unknown topic '\(name)' (loans, account)")
                return .error
            }
            topics.append(topic)
        }
        do {
            let subscription = try await client.subscribe(topics: topics)
            print(subscription.reply.line)
            fflush(nil)
            for try await event in subscription {
                print(event.line)
                fflush(nil)
            }
            return .ok
        } catch BidlineClientError.rejected(let code, let message) {
            print("ERR \(code) \(message)")
            return .error
        } catch {
            printError("\(error)")
            return .failed
        }
    }

    // MARK: History

    mutating func loadHistory() {
        guard let historyPath, let text = try? String(contentsOfFile: historyPath, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n").map(String.init)
        history = Array(lines.suffix(Self.maxHistory))
        if lines.count > 2 * Self.maxHistory {
            try? Data(history.map { $0 + "\n" }.joined().utf8).write(
                to: URL(fileURLWithPath: historyPath), options: .atomic)
        }
    }

    /// Appends to the history (not AUTH lines: they hold a token).
    mutating func remember(_ line: String) {
        guard !line.uppercased().hasPrefix("AUTH ") else { return }
        history.append(line)
        if history.count > Self.maxHistory { history.removeFirst(history.count - Self.maxHistory) }
        guard let historyPath else { return }
        if !FileManager.default.fileExists(atPath: historyPath) {
            guard
                FileManager.default.createFile(
                    atPath: historyPath, contents: nil, attributes: [.posixPermissions: 0o600])
            else { return }
        }
        guard let handle = FileHandle(forWritingAtPath: historyPath) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data((line + "\n").utf8))
    }
}

private func printError(_ message: String) {
    FileHandle.standardError.write(Data("(error) \(message)\n".utf8))
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
    fileprivate func rightPadded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
