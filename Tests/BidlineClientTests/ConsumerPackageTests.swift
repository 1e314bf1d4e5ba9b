import BidlineTestSupport
import Foundation
import Testing

/// A package outside Bidline can depend on `BidlineClient` (issue 11): the fixture `Tests/Fixtures/ConsumerBot`
/// builds against this checkout by path, and its bot bids against a server; the manifest puts no unsafe flags on a
/// target of a library product (SwiftPM refuses such a product as a versioned dependency, so a path dependency
/// alone would not notice them). Set `BIDLINE_SKIP_CONSUMER_BUILD=1` to skip the build (it compiles SwiftNIO once
/// more into `.build-consumer/`, git-ignored; later runs are incremental).
@Suite(.serialized) struct ConsumerPackageTests {
    /// The root of this checkout (the directory holding Package.swift).
    static let root: URL = {
        var directory = URL(fileURLWithPath: #filePath)
        while directory.path != "/" {
            directory.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    static let skipBuild = ProcessInfo.processInfo.environment["BIDLINE_SKIP_CONSUMER_BUILD"] == "1"

    /// The most a build of the fixture may take before the test kills it and fails.
    static let buildTimeoutSeconds = 1_200

    @Test func noLibraryProductTargetHasUnsafeFlags() async throws {
        // Its own scratch path: the `swift test` running this holds the lock on `.build`.
        let run = try await withTemporaryDirectory { scratch in
            try await Self.swift(
                ["package", "dump-package", "--package-path", Self.root.path, "--scratch-path", scratch.string],
                seconds: 300)
        }
        #expect(run.status == 0, "\(run.errors)")
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        let targets = (manifest["targets"] as? [[String: Any]] ?? []).reduce(into: [String: [String: Any]]()) {
            $0[$1["name"] as? String ?? ""] = $1
        }
        let products = manifest["products"] as? [[String: Any]] ?? []
        var checked: Set<String> = []
        for product in products where (product["type"] as? [String: Any])?["library"] != nil {
            var pending = product["targets"] as? [String] ?? []
            while let name = pending.popLast() {
                guard checked.insert(name).inserted, let target = targets[name] else { continue }
                #expect(!Self.mentions("unsafeFlags", in: target["settings"] ?? []), "\(name) has unsafe flags")
                pending += Self.localDependencies(of: target)
            }
        }
        #expect(checked.contains("BidlineClient") && checked.contains("BidlineCore"))
    }

    @Test(.enabled(if: !skipBuild)) func aBotBuiltAgainstTheClientProductBids() async throws {
        let scratch = Self.root.appendingPathComponent(".build-consumer").path
        let fixture = Self.root.appendingPathComponent("Tests/Fixtures/ConsumerBot").path
        let build = try await Self.swift(
            ["build", "--package-path", fixture, "--scratch-path", scratch], seconds: Self.buildTimeoutSeconds)
        #expect(build.status == 0, "\(build.output)\n\(build.errors)")
        guard build.status == 0 else { return }

        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.admin()
        let tokens = try await openMarket(admin, investors: ["bot"])
        let bot = URL(fileURLWithPath: scratch).appendingPathComponent("debug/ConsumerBot").path
        let arguments = ["\(server.port)", "bot", tokens["bot"]!, "L1", "150", "first"]
        let first = try await Self.run(bot, arguments, seconds: 60)
        #expect(first.status == 0, "\(first.errors)")
        #expect(first.output.hasPrefix("OK bid=B1 listing=L1 amount=150.00"), "\(first.output)")
        // The same ref again: the original reply, nothing bid twice.
        let retry = try await Self.run(bot, arguments, seconds: 60)
        #expect(retry.output == first.output)
        await admin.close()
        await server.stop()
    }

    /// Whether `key` occurs anywhere in a decoded JSON value.
    static func mentions(_ key: String, in value: Any) -> Bool {
        if let dictionary = value as? [String: Any] {
            return dictionary.keys.contains(key) || dictionary.values.contains { mentions(key, in: $0) }
        }
        if let array = value as? [Any] { return array.contains { mentions(key, in: $0) } }
        return false
    }

    /// The names of the targets of the same package that `target` depends on (`byName` or `target`).
    static func localDependencies(of target: [String: Any]) -> [String] {
        (target["dependencies"] as? [[String: Any]] ?? []).compactMap { dependency in
            for kind in ["byName", "target"] {
                if let values = dependency[kind] as? [Any], let name = values.first as? String { return name }
            }
            return nil
        }
    }

    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `swift arguments…` (from the PATH).
    static func swift(_ arguments: [String], seconds: Int) async throws -> Run {
        try await run("/usr/bin/env", ["swift"] + arguments, seconds: seconds)
    }

    /// Runs a program to completion, its output collected through files; killed after `seconds`.
    static func run(_ executable: String, _ arguments: [String], seconds: Int) async throws -> Run {
        try await withTemporaryDirectory { directory in
            let outPath = directory.appending("stdout").string
            let errPath = directory.appending("stderr").string
            for path in [outPath, errPath] { FileManager.default.createFile(atPath: path, contents: nil) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            let exited = AsyncStream.makeStream(of: Int32.self)
            process.terminationHandler = { process in
                exited.continuation.yield(process.terminationStatus)
                exited.continuation.finish()
            }
            try process.run()
            let status: Int32
            do {
                status = try await withTimeout(seconds: seconds) {
                    for await status in exited.stream { return status }
                    return -1
                }
            } catch {
                process.terminate()
                throw error
            }
            return Run(
                status: status, output: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                errors: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        }
    }
}
