/// Splits one request line into tokens (separated by runs of spaces or tabs) without allocating: token ranges
/// are written into a reused buffer. At most ``maxTokens`` tokens; more is an error.
public struct Tokenizer: Sendable {
    public static let maxTokens = 24

    /// Ranges of the tokens of the last line, as byte offsets into it.
    public private(set) var tokens: [Range<Int>] = []

    public init() { tokens.reserveCapacity(Self.maxTokens) }

    /// Tokenizes `line`; returns false when there are more than ``maxTokens`` tokens.
    public mutating func tokenize(_ line: UnsafeRawBufferPointer) -> Bool {
        tokens.removeAll(keepingCapacity: true)
        var index = 0
        let count = line.count
        while index < count {
            while index < count && (line[index] == 0x20 || line[index] == 0x09) { index += 1 }
            guard index < count else { break }
            let start = index
            while index < count && line[index] != 0x20 && line[index] != 0x09 { index += 1 }
            if tokens.count == Self.maxTokens { return false }
            tokens.append(start..<index)
        }
        return true
    }
}
