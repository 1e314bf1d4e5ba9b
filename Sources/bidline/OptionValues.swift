import ArgumentParser
import BidlineServer
import BidlineStorage

// The values of the enum-valued options of `bidline`, parsed by ArgumentParser: `--help` lists them with the
// default, and a bad value gets the parser's error naming the option. The library types are wrapped rather than
// conformed retroactively: the libraries do not depend on ArgumentParser, and only this executable parses them.

/// A library enum with string raw values as an option value: spelled as its raw value, every case listed.
struct RawOption<Value: RawRepresentable & CaseIterable & Sendable>: ExpressibleByArgument, Sendable
where Value.RawValue == String {
    /// The parsed value.
    var value: Value

    init(_ value: Value) {
        self.value = value
    }

    init?(argument: String) {
        guard let value = Value(rawValue: argument) else { return nil }
        self.value = value
    }

    var defaultValueDescription: String { value.rawValue }

    static var allValueStrings: [String] { Value.allCases.map(\.rawValue) }
}

/// `--clock system|manual`.
struct ClockOption: ExpressibleByArgument {
    /// The parsed mode.
    var value: ClockMode

    init(_ value: ClockMode) {
        self.value = value
    }

    init?(argument: String) {
        switch argument {
        case "system": value = .system
        case "manual": value = .manual
        default: return nil
        }
    }

    var defaultValueDescription: String {
        switch value {
        case .system: "system"
        case .manual: "manual"
        }
    }

    static var allValueStrings: [String] { ["system", "manual"] }
}

/// `--durability fsync|interval=MS|none` (MS a positive number of milliseconds).
struct DurabilityOption: ExpressibleByArgument {
    /// The parsed mode.
    var value: WALWriter.Durability

    init(_ value: WALWriter.Durability) {
        self.value = value
    }

    init?(argument: String) {
        switch argument {
        case "fsync": value = .fsync
        case "none": value = .none
        default:
            guard argument.hasPrefix("interval="), let millis = Int(argument.dropFirst("interval=".count)),
                millis > 0
            else { return nil }
            value = .interval(milliseconds: millis)
        }
    }

    /// The option's spelling of the mode, e.g. `interval=5` (what the server's start-up line shows too).
    var defaultValueDescription: String {
        switch value {
        case .fsync: "fsync"
        case .interval(let milliseconds): "interval=\(milliseconds)"
        case .none: "none"
        }
    }

    static var allValueStrings: [String] { ["fsync", "interval=MS", "none"] }
}
