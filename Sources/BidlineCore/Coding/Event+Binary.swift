/// The compact binary encoding of events (26 bytes each): kind, listing, user, amount, time, installment.
/// Format version 1, stable like the command encoding; used to ship events to other processes or archives.
extension Event {
    public func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(kind.rawValue)
        sink.write(listing.number)
        sink.write(user.raw)
        sink.write(amountCents)
        sink.write(atMillis)
        sink.write(installment)
    }

    public init(from reader: inout BinaryReader) throws {
        let kind = try reader.readEnum(Kind.self)
        self.init(
            kind: kind, listing: ListingID(try reader.readU32()), user: UserIndex(try reader.readU32()),
            amountCents: try reader.readI64(), atMillis: try reader.readI64(), installment: try reader.readU8())
    }

    /// The encoding as a fresh byte array.
    public var encoded: [UInt8] {
        var writer = BinaryWriter(capacity: 32)
        encode(to: &writer)
        return writer.bytes
    }
}
