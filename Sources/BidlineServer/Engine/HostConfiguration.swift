import BidlineCore
import BidlineStorage
import SystemPackage

/// Settings of an engine host.
public struct HostConfiguration: Sendable {
    /// The data directory: log, snapshots, admin token and lock file.
    public var dataDirectory: FilePath
    /// When a write reply may leave: after its batch is synced (`fsync`), on a timer, or at once.
    public var durability: WALWriter.Durability = .fsync
    /// The engine clock: the wall clock, or time that moves only by `CLOCK.ADVANCE`.
    public var clock: ClockMode = .system
    /// Take a snapshot after this many log records (0: never automatically).
    public var snapshotEveryRecords: Int = 1_000_000
    /// Keep this many snapshots.
    public var keepSnapshots: Int = 3
    /// Truncate the log at a corrupt record instead of refusing to start.
    public var truncateCorruption = false
    /// The auto-bid share of each listing (journaled when it differs from the engine's).
    public var autoBidShare: BasisPoints? = nil
    /// Log segment size limit.
    public var segmentBytes: Int = 64 << 20
    /// The log's commit window (``WALWriter/Options/commitWindowMicroseconds``).
    public var commitWindowMicroseconds: Int = WALWriter.defaultCommitWindowMicroseconds
    /// What happens to log segments every kept snapshot covers, after each snapshot.
    public var walRetention: WALRetention = .keep
    /// Where a round of batches is written and synced (see ``LogCommits``).
    public var logCommits: LogCommits = .adaptive
    /// The file system the log writes through (tests put one that fails on demand here).
    public var walFileSystem: any WALFileSystem = POSIXFileSystem()

    /// The defaults, over `dataDirectory`.
    public init(dataDirectory: FilePath) { self.dataDirectory = dataDirectory }
}

extension WALWriter.Durability {
    /// The `--durability` form: `fsync`, `interval=MS`, `none`.
    public var wireText: String {
        switch self {
        case .fsync: "fsync"
        case .interval(let milliseconds): "interval=\(milliseconds)"
        case .none: "none"
        }
    }
}

/// Which thread writes and syncs the log for the engine's batches.
public enum LogCommits: String, Sendable, CaseIterable {
    /// The engine's event loop, once per loop iteration, after it has read every ready connection and run
    /// their batches (Redis's `appendfsync always` model): the loop blocks for one write+sync per round,
    /// and no thread is woken per group. What arrives meanwhile waits in the sockets and makes the next group.
    case engineLoop = "loop"
    /// The log's I/O thread, with the commit window; the loop keeps running batches while a group syncs, and
    /// one callback per group hands the durable batches back to it.
    case logThread = "thread"
    /// Chosen each round: on the loop when the round's batches held about one request each (clients that wait
    /// for every reply: the loop has nothing else to do while it syncs), on the log thread when clients
    /// pipeline (the loop keeps matching while a group syncs).
    case adaptive = "auto"
}
