import Foundation

extension LoadMode: CustomStringConvertible {
    /// How a report names the load shape: `closed loop, pipeline 64` or `open loop, 20000 requests/s`.
    public var description: String {
        switch self {
        case .closed(let pipeline): "closed loop, pipeline \(pipeline)"
        case .open(let ratePerSecond): "open loop, \(String(format: "%.0f", ratePerSecond)) requests/s"
        }
    }
}
