/// The compact binary encoding of events: kind, listing, user, amount, time, installment (26 bytes); an
/// `accountChanged` event adds the available and frozen balances it left (42 bytes). Stable like the command
/// encoding; used to ship events to other processes or archives (nothing in the log or snapshots holds events).
extension Event {
    public func encode<Sink: BinarySink>(to sink: inout Sink) {
        sink.write(kind.rawValue)
        sink.write(listing.number)
        sink.write(user.raw)
        sink.write(amountCents)
        sink.write(atMillis)
        sink.write(installment)
        if kind == .accountChanged {
            sink.write(availableCents)
            sink.write(frozenCents)
        }
    }

    public init(from reader: inout BinaryReader) throws {
        let kind = try reader.readEnum(Kind.self)
        self.init(
            kind: kind, listing: ListingID(try reader.readU32()), user: UserIndex(try reader.readU32()),
            amountCents: try reader.readI64(), atMillis: try reader.readI64(), installment: try reader.readU8())
        if kind == .accountChanged {
            availableCents = try reader.readI64()
            frozenCents = try reader.readI64()
        }
    }

    /// The encoding as a fresh byte array.
    public var encoded: [UInt8] {
        var writer = BinaryWriter(capacity: 48)
        encode(to: &writer)
        return writer.bytes
    }
}
