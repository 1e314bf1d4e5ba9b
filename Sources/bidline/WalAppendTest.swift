import ArgumentParser
import BidlineCore
import BidlineServer
import BidlineStorage
import Dispatch
import Foundation
import SystemPackage

extension Wal {
    /// `bidline wal append-test --data-dir D`: the child of the kill -9 test (hidden).
    struct AppendTest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "append-test",
            abstract: "Append test records and print each sequence once it is durable (crash tests).",
            discussion: """
                Repairs a torn tail, continues the log of D/wal, and appends --count records from --appenders \
                concurrent tasks through the group-commit writer. After a record is durable it writes the line \
                `SEQ APPENDER COUNTER` to stdout with write(2). Payload: the command DEPOSIT #APPENDER \
                (COUNTER+1 cents) ref=aAPPENDERcCOUNTERxxx…, padded to --payload-bytes (32-78).
                """,
            shouldDisplay: false)

        @OptionGroup var dataDirectory: DataDirectoryOption
        var directory: String { dataDirectory.path }

        @Option(help: "Records to append.")
        var count = 10_000

        @Option(help: "Concurrent appenders.")
        var appenders = 8

        @Option(name: .customLong("payload-bytes"), help: "Payload bytes per record (32-78).")
        var payloadBytes = 64

        @Option(name: .customLong("segment-bytes"), help: "Segment size limit.")
        var segmentBytes = 64 << 20

        @Option(help: "When a record counts as durable.")
        var durability = DurabilityOption(.fsync)

        func validate() throws {
            guard count >= 0, appenders >= 1, appenders <= 1_000, (32...78).contains(payloadBytes) else {
                throw ValidationError("--count ≥ 0, --appenders 1-1000, --payload-bytes 32-78")
            }
        }

        /// The payload of record `counter` of `appender`: an encoded `DEPOSIT` (so that the log stays readable by
        /// every tool) of `counter + 1` cents to user #APPENDER with `ref=a<APPENDER>c<COUNTER>` padded with `x`
        /// to make the payload exactly `length` bytes (14 bytes of command + the ref).
        static func payload(appender: Int, counter: Int, length: Int) -> [UInt8] {
            let base = "a\(appender)c\(counter)"
            let ref = base + String(repeating: "x", count: max(0, length - 14 - base.utf8.count))
            let command = Command.deposit(UserIndex(appender), Money(cents: Int64(counter) + 1), ref: Ref(ref))
            return command.encoded
        }

        func run() async throws {
            let data = DataDirectory(FilePath(directory))
            let lock = try DataDirectoryLock(data)
            defer { lock.release() }
            try FileManager.default.createDirectory(atPath: data.wal.string, withIntermediateDirectories: true)
            let report = try WALReader(directory: data.wal).forEachRecord { _ in }
            if let truncation = report.truncation { Terminal.error("append-test: \(truncation)") }
            let next = (report.lastSequence ?? 0) + 1
            let options = WALWriter.Options(
                durability: durability.value, segmentSizeLimit: segmentBytes)
            let writer = try WALWriter(directory: data.wal, nextSequence: next, options: options)
            let (count, appenders, payloadBytes) = (self.count, self.appenders, self.payloadBytes)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for appender in 0..<appenders {
                    group.addTask {
                        let share = count / appenders + (appender < count % appenders ? 1 : 0)
                        for counter in 0..<share {
                            let payload = Self.payload(appender: appender, counter: counter, length: payloadBytes)
                            let sequence = try await writer.append(
                                payload: payload, engineTimeMillis: 1_700_000_000_000 + Int64(counter))
                            // One write(2) of a line shorter than PIPE_BUF: atomic, so lines of concurrent
                            // appenders never interleave.
                            Terminal.write("\(sequence) \(appender) \(counter)\n", to: .standardOutput)
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await writer.close()
        }
    }
}
