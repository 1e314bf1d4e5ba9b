import BidlineProtocol
import BidlineTestSupport
import Foundation
import Testing

/// docs/PROTOCOL.md stays in step with the server: every `session` block of it is replayed, in document order,
/// against a fresh manual-clock server, and each reply must match the documented one. Tokens, engine times and
/// snapshot paths differ from run to run and are compared as placeholders; everything else byte for byte.
@Suite struct ProtocolDocTests {
    struct Step {
        var connection: String
        var request: String
        var reply: [String]
    }

    static let documentURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/PROTOCOL.md")

    /// The steps of every ```session block: `name> request` lines, each followed by its reply lines.
    static func steps(of document: String) -> [Step] {
        var steps: [Step] = []
        var inSession = false
        for line in document.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line == "```session" {
                inSession = true
                continue
            }
            guard inSession else { continue }
            if line == "```" {
                inSession = false
                continue
            }
            if let marker = line.range(of: "> "), !line.hasPrefix("OK"), !line.hasPrefix("ERR"),
                line[..<marker.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber })
            {
                steps.append(
                    Step(
                        connection: String(line[..<marker.lowerBound]), request: String(line[marker.upperBound...]),
                        reply: []))
            } else {
                steps[steps.count - 1].reply.append(line)
            }
        }
        return steps
    }

    /// Placeholders for what differs between runs.
    static func normalized(_ line: String) -> String {
        var text = line
        for (pattern, replacement) in [
            (#"token=[0-9a-f]{64}"#, "token=<token>"), (#"\b[0-9]{13}\b"#, "<ms>"),
            (#"snapshot=\S+"#, "snapshot=<path>"),
            (#"bids_per_sec=[0-9]+"#, "bids_per_sec=<n>"), (#"log_syncs=[0-9]+"#, "log_syncs=<n>"),
        ] {
            text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return text
    }

    /// The request to send: the documented one, with this run's tokens and long lines expanded.
    static func request(_ documented: String, tokens: [String: String]) -> String {
        let words = documented.split(separator: " ")
        if words.count == 3, words[0] == "AUTH", words[2].wholeMatch(of: /[0-9a-f]{64}/) != nil,
            let token = tokens[String(words[1])]
        {
            return "AUTH \(words[1]) \(token)"
        }
        // `BID L1 xxx…(5007 bytes)`: a long line shown shortened.
        if let match = documented.firstMatch(of: /^(.*)…\((\d+) bytes\)$/), let length = Int(match.2) {
            let prefix = String(match.1)
            return prefix + String(repeating: "x", count: max(0, length - prefix.utf8.count))
        }
        return documented
    }

    /// The verb of every `#### \`VERB …\`` heading, in document order.
    static func documentedVerbs(of document: String) -> [String] {
        document.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("#### `") else { return nil }
            return line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "`" }).first.map(String.init)
        }
    }

    /// The text of the section headed `title` (a `## ` line), up to the next `## ` heading.
    static func section(_ title: String, of document: String) -> Substring {
        guard let start = document.range(of: "\n\(title)\n") else { return "" }
        let rest = document[start.upperBound...]
        return rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
    }

    /// The codes of the error-code table (`| \`CODE\` | when |` rows of "Error codes").
    static func documentedCodes(of document: String) -> [String] {
        section("## Error codes", of: document).split(separator: "\n").compactMap { line -> String? in
            guard let match = line.wholeMatch(of: /\| `([A-Z_]+)` \|.*/) else { return nil }
            return String(match.1)
        }
    }

    /// Every verb of the command table has its heading, once, and no heading names a verb the table lacks.
    @Test func everyTableVerbIsDocumentedOnce() throws {
        let documented = Self.documentedVerbs(of: try String(contentsOf: Self.documentURL, encoding: .utf8))
        let table = CommandTable.specs.map(\.name)
        #expect(Set(documented).subtracting(table).isEmpty, "documented but not in the command table")
        #expect(Set(table).subtracting(documented).isEmpty, "in the command table but not documented")
        #expect(documented.count == Set(documented).count, "a verb documented twice")
    }

    /// The "who may call what" table of "Sessions and roles", as the command table renders it.
    static func commandTableRows() -> [String] {
        func cell(_ text: String) -> String {
            text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        return CommandTable.specs.map { spec in
            let roles =
                spec.roles.contains(.unauthenticated)
                ? "any" : spec.roles == .authenticated ? "auth" : CommandTable.roleNames(spec.roles)
            return "| `\(cell(spec.usage))` | \(roles) | \(spec.writes ? "yes" : "no") | \(cell(spec.summary)) |"
        }
    }

    /// The documented roles, usage and summary of every verb are the command table's, row for row.
    @Test func theRoleTableIsTheCommandTable() throws {
        let document = try String(contentsOf: Self.documentURL, encoding: .utf8)
        let rows = Self.section("## Sessions and roles", of: document).split(separator: "\n")
            .filter { $0.hasPrefix("| `") }.map(String.init)
        let expected = Self.commandTableRows()
        #expect(rows.count == expected.count)
        for (row, wanted) in zip(rows, expected) { #expect(row == wanted) }
    }

    /// Every wire error code (the engine's and the protocol's) is in the error-code table, and only those.
    @Test func everyErrorCodeIsDocumented() throws {
        let documented = Self.documentedCodes(of: try String(contentsOf: Self.documentURL, encoding: .utf8))
        let codes = ProtocolError.Code.allCases.map(\.wireText)
        #expect(Set(documented) == Set(codes))
        #expect(documented.count == codes.count)
    }

    @Test func everySessionBlockReplaysAgainstTheServer() async throws {
        let document = try String(contentsOf: Self.documentURL, encoding: .utf8)
        let steps = Self.steps(of: document)
        #expect(steps.count > 100, "expected the verb examples of docs/PROTOCOL.md")
        let server = try await TestServer.start()
        defer { server.removeData() }
        var tokens = ["admin": server.adminToken]
        var connections: [String: BlockingLineClient] = [:]
        for step in steps {
            let connection = try connections[step.connection] ?? BlockingLineClient(port: server.port)
            connections[step.connection] = connection
            let reply = try await connection.call(Self.request(step.request, tokens: tokens))
            #expect(
                reply.map(Self.normalized) == step.reply.map(Self.normalized), "\(step.connection)> \(step.request)")
            if step.request.hasPrefix("USER.ADD"), let line = reply.first, line.hasPrefix("OK user=") {
                let fields = Dictionary(
                    line.split(separator: " ").dropFirst().compactMap { token -> (String, String)? in
                        guard let equals = token.firstIndex(of: "=") else { return nil }
                        return (String(token[..<equals]), String(token[token.index(after: equals)...]))
                    }
                ) { a, _ in a }
                if let user = fields["user"], let token = fields["token"] { tokens[user] = token }
            }
        }
        connections.removeAll()
        await server.stop()
    }
}
