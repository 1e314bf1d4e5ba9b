import BidlineCore
import BidlineServer
import BidlineStorage
import BidlineTestSupport
import Foundation
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A real process appends records through the group-commit writer (fsync mode) and reports each one only after it
/// is durable; it is killed with SIGKILL at seeded random moments, and every reported record must be in the log
/// when it is reopened. Each round continues the log the previous round's crash left (torn tail included).
@Suite struct KillNineTests {
    /// One acknowledgement line of `bidline wal append-test`: `SEQ APPENDER COUNTER`.
    struct Acknowledgement: Hashable {
        var sequence: UInt64
        var appender: Int
        var counter: Int
    }

    /// A child process whose stdout is read as it comes.
    final class Child {
        let process = Process()
        let output = Pipe()
        var buffer: [UInt8] = []
        var acknowledgements: [Acknowledgement] = []
        var finished = false

        init(binary: String, arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// Reads until at least `count` acknowledgements arrived, or the output ended, or `timeoutMillis` passed
        /// without output (a hang guard, not a measurement).
        func read(untilAcknowledged count: Int, timeoutMillis: Int32 = 60_000) throws {
            let descriptor = output.fileHandleForReading.fileDescriptor
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            while !finished && acknowledgements.count < count {
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, timeoutMillis)
                guard ready > 0 else { throw ChildHung() }
                let got = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else {
                    finished = true
                    break
                }
                buffer.append(contentsOf: chunk[0..<got])
                parseLines()
            }
        }

        /// Parses the complete lines in the buffer; a partial last line stays (it is not an acknowledgement yet).
        func parseLines() {
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                let fields = line.split(separator: " ")
                if fields.count == 3, let sequence = UInt64(fields[0]), let appender = Int(fields[1]),
                    let counter = Int(fields[2])
                {
                    acknowledgements.append(Acknowledgement(sequence: sequence, appender: appender, counter: counter))
                } else {
                    Issue.record("unexpected output line '\(line)'")
                }
            }
        }

        func kill() {
            _ = systemKill(process.processIdentifier, SIGKILL)
        }
    }

    struct ChildHung: Error {}

    @Test func acknowledgedRecordsSurviveSIGKILL() async throws {
        let binary = try BidlineExecutable.require()
        let rounds = 24
        var rng = SplitMix64(seed: 0x6B69_6C6C_2D39)
        try await withTemporaryDirectory { root in
            let data = DataDirectory(root)
            var acknowledged: [UInt64: Acknowledgement] = [:]
            var killedWhileRunning = 0
            for round in 0..<rounds {
                // Small segments, so that kills also land in segment creation and rollover.
                let child = try Child(
                    binary: binary,
                    arguments: [
                        "wal", "append-test", "--data-dir", root.string, "--count", "1000000", "--appenders", "8",
                        "--payload-bytes", "64", "--segment-bytes", "16384",
                    ])
                // The moment: after a seeded number of acknowledgements (0: possibly before the log is even open),
                // then a seeded pause of up to 3 ms.
                let waitFor = Int(rng.next() % 4) == 0 ? 0 : Int(rng.next() % 400)
                try child.read(untilAcknowledged: waitFor)
                usleep(UInt32(rng.next() % 3_000))
                if !child.finished { killedWhileRunning += 1 }
                child.kill()
                try child.read(untilAcknowledged: .max)
                child.process.waitUntilExit()
                #expect(child.process.terminationReason == .uncaughtSignal, "round \(round): the child was killed")

                for acknowledgement in child.acknowledgements {
                    #expect(acknowledged[acknowledgement.sequence] == nil, "sequence acknowledged twice")
                    acknowledged[acknowledgement.sequence] = acknowledgement
                }
                // Reopen as start-up does (a torn tail is truncated) and check every acknowledged record.
                var present: [UInt64: [UInt8]] = [:]
                var lastSequence: UInt64? = nil
                // A child killed before it created the log leaves no directory (and had acknowledged nothing).
                if FileManager.default.fileExists(atPath: data.wal.string) {
                    lastSequence = try WALReader(directory: data.wal).forEachRecord { view in
                        present[view.sequence] = Array(view.payload)
                    }.lastSequence
                }
                var missing = 0
                for (sequence, acknowledgement) in acknowledged {
                    guard let payload = present[sequence] else {
                        missing += 1
                        continue
                    }
                    let command = try Command(decoding: payload)
                    guard case .deposit(let user, let amount, let ref) = command else {
                        Issue.record("record \(sequence) holds \(command)")
                        continue
                    }
                    #expect(user == UserIndex(acknowledgement.appender))
                    #expect(amount == Money(cents: Int64(acknowledgement.counter) + 1))
                    #expect(ref?.text.hasPrefix("a\(acknowledgement.appender)c\(acknowledgement.counter)x") == true)
                }
                #expect(missing == 0, "round \(round): \(missing) acknowledged records lost")
                #expect(present.count == Int(lastSequence ?? 0), "the log holds exactly 1…last")
            }
            #expect(acknowledged.count > 0)
            #expect(killedWhileRunning == rounds, "every kill landed while the child was appending")

            // What the crashes left is a sound data directory for the ops tool and for recovery.
            let verify = try runBidline(["wal", "verify", "--data-dir", root.string])
            #expect(verify.status == 0, "\(verify.stdout)")
            let recovered = try Recovery.recover(data, readOnly: true)
            #expect(recovered.lastSequence >= acknowledged.keys.max() ?? 0)
        }
    }
}

/// `read(2)` and `kill(2)`, named apart from the methods that call them.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func systemKill(_ process: Int32, _ signal: Int32) -> Int32 {
    kill(process, signal)
}
