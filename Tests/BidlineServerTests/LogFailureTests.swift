import BidlineServer
import BidlineStorage
import BidlineTestSupport
import Foundation
import Synchronization
import SystemPackage
import Testing

/// The real file system, except that data syncs fail with EIO while `failing` is set.
final class SyncFailingFileSystem: WALFileSystem {
    let failing = Atomic<Bool>(false)
    let real = POSIXFileSystem()

    final class Handle: WALFileHandle {
        let inner: any WALFileHandle
        let fileSystem: SyncFailingFileSystem
        init(_ inner: any WALFileHandle, _ fileSystem: SyncFailingFileSystem) {
            self.inner = inner
            self.fileSystem = fileSystem
        }
        func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(Errno) { try inner.write(bytes, at: offset) }
        func truncate(to length: Int64) throws(Errno) { try inner.truncate(to: length) }
        func synchronize(dataOnly: Bool) throws(Errno) {
            if fileSystem.failing.load(ordering: .relaxed) { throw .ioError }
            try inner.synchronize(dataOnly: dataOnly)
        }
        func close() throws(Errno) { try inner.close() }
    }

    func createFile(at path: FilePath) throws(Errno) -> any WALFileHandle { Handle(try real.createFile(at: path), self) }
    func synchronizeDirectory(at path: FilePath) throws(Errno) { try real.synchronizeDirectory(at: path) }
}

/// A log that cannot sync: the writes of the batches it was making durable answer `ERR UNAVAILABLE` (reads in
/// them are answered), nothing is acknowledged that is not durable, and once the disk is back the log recovers
/// and a retry with the same `ref=` gets the original reply.
@Suite(.serialized) struct LogFailureTests {
    @Test(arguments: LogCommits.allCases)
    func aFailedSyncAnswersTheWritesUnavailableAndARetryWithTheRefSucceeds(logCommits: LogCommits) async throws {
        let fileSystem = SyncFailingFileSystem()
        let server = try await TestServer.start(configureHost: { host in
            host.logCommits = logCommits
            host.walFileSystem = fileSystem
        })
        defer { server.removeData() }
        let admin = try await server.connect(admin: true)
        #expect(try await admin.call("USER.ADD inv roles=investor verified=1 risk=5").hasPrefix("OK"))

        fileSystem.failing.store(true, ordering: .relaxed)
        try await admin.send("DEPOSIT inv 5 ref=d1\nPING\nDEPOSIT inv 7 ref=d2\n")
        #expect(try await admin.readLine().hasPrefix("ERR UNAVAILABLE"))
        #expect(try await admin.readLine() == "OK pong")
        #expect(try await admin.readLine().hasPrefix("ERR UNAVAILABLE"))
        // While the log is unavailable, writes are refused before they change anything.
        #expect(try await admin.call("DEPOSIT inv 100").hasPrefix("ERR UNAVAILABLE"))

        fileSystem.failing.store(false, ordering: .relaxed)
        // The log retries in the background after a refusal; the same ref gets the first reply once it is back.
        var retried = ""
        for _ in 0..<2_000 {
            retried = try await admin.call("DEPOSIT inv 5 ref=d1")
            if !retried.hasPrefix("ERR UNAVAILABLE") { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(retried == "OK user=inv amount=5.00 available=5.00")
        #expect(try await admin.call("DEPOSIT inv 7 ref=d2") == "OK user=inv amount=7.00 available=12.00")
        #expect(try await admin.call("BALANCE inv").hasPrefix("OK available=12.00 "))
        #expect(try await admin.call("RECONCILE").hasPrefix("OK balanced=1"))
        await server.stop()
    }
}
