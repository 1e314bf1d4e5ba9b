import BidlineTestSupport
import Foundation
import Testing

/// Runs the README's quick-start `nc` session verbatim against a fresh server, so the README cannot rot.
@Suite struct ReadmeQuickStartTests {
    static func readmeSession() throws -> [String] {
        var directory = URL(fileURLWithPath: #filePath)
        while directory.path != "/" {
            directory.deleteLastPathComponent()
            let candidate = directory.appendingPathComponent("README.md")
            if FileManager.default.fileExists(atPath: candidate.path) {
                let text = try String(contentsOf: candidate, encoding: .utf8)
                guard let start = text.range(of: "<!-- quickstart-session -->"),
                    let end = text.range(of: "<!-- /quickstart-session -->")
                else { break }
                return text[start.upperBound..<end.lowerBound].split(separator: "\n").map(String.init)
                    .filter { !$0.hasPrefix("```") && !$0.isEmpty }
            }
        }
        Issue.record("README.md with a quick-start session not found")
        return []
    }

    @Test func quickStartSessionRunsVerbatim() async throws {
        let lines = try Self.readmeSession()
        #expect(lines.count > 10)
        let server = try await TestServer.start()
        defer { server.removeData() }
        let client = try await server.connect()
        var values = ["admin-token": server.adminToken]
        var index = 0
        while index < lines.count {
            let line = lines[index]
            guard line.hasPrefix("> ") else {
                Issue.record("expected a request line at README line \(index): \(line)")
                return
            }
            var request = String(line.dropFirst(2))
            for (name, value) in values { request = request.replacingOccurrences(of: "<\(name)>", with: value) }
            let reply = try await client.call(request)
            index += 1
            guard index < lines.count, !lines[index].hasPrefix("> ") else { continue }
            let expected = lines[index]
            index += 1
            // `<name>` in an expected line captures that token's value for later lines.
            let expectedTokens = expected.split(separator: " ")
            let replyTokens = reply.split(separator: " ")
            #expect(expectedTokens.count == replyTokens.count, "\(request): got \(reply), README says \(expected)")
            if expected.hasPrefix("ERR ") {
                #expect(replyTokens.prefix(2) == expectedTokens.prefix(2), "\(request): got \(reply)")
                continue
            }
            for (want, got) in zip(expectedTokens, replyTokens) {
                if let open = want.firstIndex(of: "<"), want.hasSuffix(">") {
                    let name = String(want[want.index(after: open)..<want.index(before: want.endIndex)])
                    #expect(got.hasPrefix(want[..<open]), "\(request): got \(reply)")
                    values[name] = String(got.dropFirst(want.distance(from: want.startIndex, to: open)))
                } else {
                    #expect(want == got, "\(request): got \(reply), README says \(expected)")
                }
            }
        }
        await server.stop()
    }
}
