import BidlineProtocol

/// Decides from the command table whether a request may be sent again after a dropped connection without
/// risking a double execution: reads may (they change nothing), writes only when they carry `ref=` and the verb
/// deduplicates on it (`BID`, `DEPOSIT`, `WITHDRAW`: the same ref gets the same reply, once).
enum RequestSafety {
    /// The verb of `line` as the command table knows it (nil for an unknown verb).
    static func spec(of line: String) -> VerbSpec? {
        guard let verb = line.split(whereSeparator: isSpace).first else { return nil }
        return CommandTable.lookUp(Array(verb.utf8))
    }

    /// True when resending `line` cannot execute it twice.
    static func isSafeToRetry(_ line: String) -> Bool {
        guard let spec = spec(of: line) else { return true }  // unknown verb: the server changes nothing
        switch spec.verb {
        case .quit, .subscribe: return false
        default: break
        }
        guard spec.writes else { return true }
        guard spec.keys.contains("ref") else { return false }
        return line.split(whereSeparator: isSpace).dropFirst().contains { token in
            token.count > 4 && token.prefix(4).lowercased() == "ref="
        }
    }

    static func isSpace(_ character: Character) -> Bool { character == " " || character == "\t" }
}
