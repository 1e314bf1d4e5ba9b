import BidlineCore
import Crypto

/// User tokens: 32 random bytes shown once as 64 hex digits; only their SHA-256 is stored (in the engine, and
/// so in the log and snapshots).
public enum Tokens {
    /// A fresh random token (64 lowercase hex digits).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        text.reserveCapacity(64)
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            let hex = String(word, radix: 16)
            text += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return text
    }

    /// SHA-256 of the token's UTF-8 bytes.
    public static func hash(_ token: String) -> TokenHash {
        TokenHash(bytes: Array(SHA256.hash(data: Array(token.utf8))))
    }

    /// Constant-time comparison of a presented token with a stored hash.
    public static func matches(_ token: String, _ stored: TokenHash) -> Bool {
        let presented = hash(token).bytes
        let expected = stored.bytes
        var difference: UInt8 = 0
        for (a, b) in zip(presented, expected) { difference |= a ^ b }
        return difference == 0 && stored != .none
    }
}
