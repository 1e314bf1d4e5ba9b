import BidlineStorage
import SystemPackage

/// The socket front's limits and addresses. Every bound is named and documented (docs/PROTOCOL.md "Limits").
public struct ServerConfiguration: Sendable {
    /// Address to bind; loopback by default.
    public var host = "127.0.0.1"
    /// Port; 0 picks an ephemeral port (tests).
    public var port = 7878
    /// Longest request line in bytes, excluding the line ending.
    public var maxLineLength = 4096
    /// Requests a connection may have waiting beyond the batch in flight before the server stops reading it.
    public var maxPipelineDepth = 16_384
    /// Most requests handed to the engine in one batch.
    public var maxBatchSize = 4096
    /// Outbound bytes queued for a connection before it counts as not reading.
    public var maxOutboundBytes = 4 << 20
    /// How long a connection may stay over ``maxOutboundBytes`` before it is disconnected.
    public var slowClientMillis: Int64 = 1_000
    /// Most simultaneous client connections; more are refused with `ERR BUSY`.
    public var maxConnections = 10_000
    /// Port of the Prometheus endpoint (`GET /metrics`); `nil`: none; 0 picks an ephemeral port (tests).
    public var metricsPort: Int? = nil
    /// Address the metrics endpoint binds; loopback by default.
    public var metricsHost = "127.0.0.1"

    /// The defaults.
    public init() {}
}
