import Testing

@testable import BidlineStorage

@Suite struct CRC32CTests {
    /// Bit-by-bit reference implementation, to check the slicing tables against.
    private func referenceCRC32C(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func standardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    /// The test vectors of RFC 3720 (iSCSI), appendix B.4.
    @Test func rfc3720Vectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
    }

    @Test func slicingMatchesReferenceAtEveryLengthAndAlignment() {
        var generator = SplitMix64(seed: 42)
        let data = generator.bytes(300)
        for start in 0..<9 {
            for end in stride(from: start, through: data.count, by: 7) {
                let slice = Array(data[start..<end])
                #expect(CRC32C.checksum(slice) == referenceCRC32C(slice))
            }
        }
    }

    /// The table-driven fallback (used where the CPU has no `crc32` instruction) against the same reference, and
    /// the two paths against each other at every length and alignment (unaligned starts, tails of 0–7 bytes).
    @Test func softwareFallbackMatchesReferenceAndHardware() {
        var generator = SplitMix64(seed: 43)
        let data = generator.bytes(300)
        for start in 0..<9 {
            for end in stride(from: start, through: data.count, by: 5) {
                let slice = Array(data[start..<end])
                let software = slice.withUnsafeBytes { ~CRC32C.softwareAdvance(0xFFFF_FFFF, $0) }
                #expect(software == referenceCRC32C(slice))
                #expect(software == CRC32C.checksum(slice))
            }
        }
    }

    @Test func incrementalUpdatesEqualOneShot() {
        var generator = SplitMix64(seed: 7)
        let data = generator.bytes(1000)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            var crc = CRC32C()
            crc.update(data[..<split])
            crc.update(data[split...])
            #expect(crc.value == CRC32C.checksum(data))
        }
    }
}
