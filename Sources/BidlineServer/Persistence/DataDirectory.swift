import BidlineCore
import BidlineStorage
import SystemPackage

/// The layout of a data directory: `wal/` (log segments), `snapshots/` (zstd snapshots), `admin.token`.
public struct DataDirectory: Sendable {
    public let root: FilePath

    public init(_ root: FilePath) { self.root = root }

    public var wal: FilePath { root.appending("wal") }
    public var snapshots: FilePath { root.appending("snapshots") }
    public var adminToken: FilePath { root.appending("admin.token") }
}

/// The state hash in the snapshot header's 32-byte field (the engine's 16-byte hash, zero-padded).
extension SnapshotStateHash {
    public init(engineHash state: EngineState) {
        self.init(bytes: state.digest + [UInt8](repeating: 0, count: 16))
    }
}
