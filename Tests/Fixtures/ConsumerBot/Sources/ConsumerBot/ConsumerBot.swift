import BidlineClient

/// A small bidding bot: connects, authenticates, and bids on one listing with a `ref=`, so that a retry after a
/// disconnect never bids twice. Usage: `ConsumerBot PORT USER TOKEN LISTING AMOUNT REF` (all required).
@main
struct ConsumerBot {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard arguments.count == 6, let port = Int(arguments[arguments.startIndex]) else {
            print("usage: ConsumerBot PORT USER TOKEN LISTING AMOUNT REF")
            return
        }
        let words = Array(arguments)
        let (user, token, listing, amount, ref) = (words[1], words[2], words[3], words[4], words[5])
        let client = try await BidlineClient.connect(host: "127.0.0.1", port: port)
        let auth = try await client.auth(user: user, token: token)
        guard auth.isOK else {
            print(auth.line)
            await client.close()
            return
        }
        let reply = try await client.send("BID \(listing) \(amount) ref=\(ref)")
        print(reply.line)
        await client.close()
    }
}
