import Dispatch
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Unbuffered output for the command-line tools: `write(2)` straight to a descriptor.
///
/// Used where the order or timing of output matters (stderr reports, the acknowledgement lines of
/// `wal append-test`, which must be in the pipe before the record counts as reported) — `print` buffers.
enum Terminal {
    /// Writes `text` followed by a newline to standard error.
    static func error(_ text: String) {
        write(text + "\n", to: .standardError)
    }

    /// Writes `text` to `descriptor` with as many `write(2)` calls as it takes; errors are ignored (a closed
    /// pipe must not stop recovery tools).
    static func write(_ text: String, to descriptor: FileDescriptor) {
        var text = text
        text.withUTF8 { bytes in _ = try? descriptor.writeAll(UnsafeRawBufferPointer(bytes)) }
    }

    /// Whether `descriptor` is a terminal (then progress bars are drawn on it).
    static func isTerminal(_ descriptor: FileDescriptor) -> Bool {
        isatty(descriptor.rawValue) == 1
    }
}

/// A one-line progress bar on standard error, redrawn in place with `\r`; silent unless stderr is a terminal.
///
/// Redraws at most ten times a second, so that calling ``update(_:)`` often costs little.
struct ProgressBar {
    /// What is being counted, e.g. `replay`.
    let label: String
    /// The value at which the bar is full; at least 1.
    var total: UInt64
    let enabled: Bool
    private var lastDrawNanos: UInt64 = 0
    private let startNanos = DispatchTime.now().uptimeNanoseconds
    private var drawn = false

    /// A bar for values `0...total`; drawn only when stderr is a terminal.
    init(label: String, total: UInt64) {
        self.label = label
        self.total = max(1, total)
        self.enabled = Terminal.isTerminal(.standardError)
    }

    /// Shows `value` (clamped to `total`).
    mutating func update(_ value: UInt64) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now &- lastDrawNanos >= 100_000_000 || value >= total else { return }
        lastDrawNanos = now
        let clamped = min(value, total)
        let width = 30
        let filled = Int(Double(clamped) / Double(total) * Double(width))
        let percent = Int(Double(clamped) / Double(total) * 100)
        let seconds = Double(now &- startNanos) / 1e9
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        Terminal.write(
            "\r\(label) [\(bar)] \(percent)% \(clamped)/\(total) \(formatSeconds(seconds))", to: .standardError)
        drawn = true
    }

    /// Clears the bar's line (call before printing anything else to stderr).
    mutating func finish() {
        guard enabled, drawn else { return }
        Terminal.write("\r" + String(repeating: " ", count: 79) + "\r", to: .standardError)
        drawn = false
    }
}

/// `12.3 s` or `450 ms`.
func formatSeconds(_ seconds: Double) -> String {
    if seconds >= 1 { return "\(Double(Int(seconds * 10)) / 10) s" }
    return "\(Int(seconds * 1000)) ms"
}

/// `1.5 GiB`, `312 KiB`, `80 B`.
func formatBytes(_ count: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(count) B" : "\(Double(Int(value * 10)) / 10) \(units[unit])"
}
