import BidlineCore

/// Replies of the session verbs (`PING`, `QUIT`, `AUTH`, `WHOAMI`, `SUBSCRIBE`) and the generic row reply.
extension ReplyWriter {
    /// `OK pong`.
    public mutating func pong() { append("OK pong\n" as StaticString) }

    /// `OK bye` (the connection closes after it).
    public mutating func bye() { append("OK bye\n" as StaticString) }

    /// `OK user=… roles=…`: the reply of `AUTH` and `WHOAMI`.
    public mutating func session(user: String, roles: Roles) {
        ok()
        field("user", user)
        field("roles", roles.wireText)
        end()
    }

    /// `OK subscribed=loans,account`: sent before any `EVENT` line.
    public mutating func subscribed(_ topics: [Topic]) {
        ok()
        field("subscribed", topics.map(\.wireText).joined(separator: ","))
        end()
    }

    /// `OK rows=N` followed by `lines` (each already `key=value` text), one per line.
    public mutating func rows(_ lines: [String]) {
        rowCount(lines.count)
        for line in lines {
            append(line)
            end()
        }
    }

    /// `OK rows=N`: the header of a reply with `count` rows, which the caller then writes, each ended by ``end()``.
    public mutating func rowCount(_ count: Int) {
        ok()
        field("rows", count)
        end()
    }
}
