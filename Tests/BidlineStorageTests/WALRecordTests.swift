import SystemPackage
import Testing

@testable import BidlineStorage

@Suite struct WALRecordTests {
    private func encode(_ record: WALRecord) -> [UInt8] {
        var buffer: [UInt8] = []
        record.payload.withUnsafeBytes {
            WALRecordFormat.encode(
                sequence: record.sequence, engineTimeMillis: record.engineTimeMillis, payload: $0, into: &buffer)
        }
        return buffer
    }

    @Test(arguments: [0, 1, 7, 8, 31, 32, 33, 1000, 70_000])
    func encodedRecordParsesBack(payloadLength: Int) throws {
        let record = WALRecord(
            sequence: 0x0102_0304_0506_0708, engineTimeMillis: -1_234_567,
            payload: samplePayload(UInt64(payloadLength), length: payloadLength))
        let bytes = encode(record)
        #expect(bytes.count == WALRecordFormat.headerSize + payloadLength)
        let header = try bytes.withUnsafeBytes { try WALRecordFormat.parseHeader($0, at: 0).get() }
        #expect(header.sequence == record.sequence)
        #expect(header.engineTimeMillis == record.engineTimeMillis)
        #expect(header.payloadLength == payloadLength)
        #expect(header.payloadCRC == CRC32C.checksum(record.payload))
        #expect(Array(bytes[WALRecordFormat.headerSize...]) == record.payload)
    }

    @Test func headerLayoutIsLittleEndianAtDocumentedOffsets() {
        let bytes = encode(WALRecord(sequence: 5, engineTimeMillis: 9, payload: [0xAA, 0xBB]))
        #expect(bytes[4..<8] == [2, 0, 0, 0])
        #expect(bytes[8] == WALRecordFormat.version)
        #expect(bytes[9..<12] == [0, 0, 0])
        #expect(bytes[16..<24] == [5, 0, 0, 0, 0, 0, 0, 0])
        #expect(bytes[24..<32] == [9, 0, 0, 0, 0, 0, 0, 0])
        #expect(bytes[32...] == [0xAA, 0xBB])
        let headerCRC = CRC32C.checksum(bytes[4..<32])
        #expect(bytes[0..<4] == ArraySlice(withUnsafeBytes(of: headerCRC.littleEndian) { Array($0) }))
    }

    @Test func everySingleBitFlipInTheHeaderIsDetected() {
        let bytes = encode(WALRecord(sequence: 77, engineTimeMillis: 1, payload: [1, 2, 3]))
        for bit in 0..<(WALRecordFormat.headerSize * 8) {
            var damaged = bytes
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            let result = damaged.withUnsafeBytes { WALRecordFormat.parseHeader($0, at: 0) }
            #expect(throws: WALDamage.recordHeaderChecksumMismatch) { try result.get() }
        }
    }

    @Test func segmentHeaderRoundTripsAndNamesSort() throws {
        let header = WALSegment.encodeHeader(firstSequence: 123_456)
        #expect(header.count == WALSegment.headerSize)
        #expect(Array(header[0..<8]) == Array("BIDLWAL1".utf8))
        #expect(try header.withUnsafeBytes { try WALSegment.parseHeader($0).get() } == 123_456)
        #expect(WALSegment.fileName(firstSequence: 42) == "wal-00000000000000000042.log")
        #expect(WALSegment.firstSequence(fromFileName: "wal-00000000000000000042.log") == 42)
        #expect(WALSegment.firstSequence(fromFileName: "wal-42.log") == nil)
        #expect(WALSegment.firstSequence(fromFileName: "wal-00000000000000000042.log.discarded") == nil)
        #expect(WALSegment.fileName(firstSequence: 9) < WALSegment.fileName(firstSequence: 10))
    }
}
