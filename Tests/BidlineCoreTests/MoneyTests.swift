import Testing

@testable import BidlineCore

@Suite struct MoneyTests {
    @Test(arguments: [
        ("1000", 100_000), ("1000.5", 100_050), ("1000.50", 100_050), ("0.01", 1), ("0", 0), ("007", 700),
        ("100000000000", 10_000_000_000_000),
    ] as [(String, Int64)])
    func parsesWireForms(text: String, cents: Int64) {
        #expect(Money.parse(text) == Money(cents: cents))
    }

    @Test(arguments: [
        "1000.", ".5", "+100", "1e3", "-5", "1.234", "", "12a", "1.2.3", "100000000000.01", "99999999999999999999999",
        " 1", "1,000",
    ])
    func rejectsMalformedAmounts(text: String) {
        #expect(Money.parse(text) == nil)
    }

    @Test func zeroIsNotPositive() {
        #expect(Money.parsePositive("0") == nil)
        #expect(Money.parsePositive("0.00") == nil)
        #expect(Money.parsePositive("0.01") == Money(cents: 1))
    }

    @Test func formatsTwoDecimals() {
        #expect(Money(cents: 100_050).description == "1000.50")
        #expect(Money(cents: 7).description == "0.07")
        #expect(Money(cents: -307).description == "-3.07")
        #expect(Money(cents: 0).description == "0.00")
        var bytes: [UInt8] = []
        Money(cents: 123_456_789).appendASCII(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "1234567.89")
        bytes.removeAll()
        Money(cents: -5).appendASCII(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "-0.05")
        bytes.removeAll()
        Money(cents: Int64.min).appendASCII(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "-92233720368547758.08")
    }

    @Test(arguments: [0, 7, 10, 4_096, 1_000_000_007, UInt64(Int64.max), UInt64.max] as [UInt64])
    func appendsEveryUInt64InDecimal(value: UInt64) {
        var bytes: [UInt8] = [UInt8(ascii: "x")]
        Money.appendDecimal(value, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "x\(value)")
    }

    @Test func percentagesRoundHalfUp() {
        #expect(Money(cents: 250).percentage(BasisPoints(200)) == Money(cents: 5))
        #expect(Money(cents: 25).percentage(BasisPoints(200)) == Money(cents: 1))  // 0.5 → 1
        #expect(Money(cents: 24).percentage(BasisPoints(200)) == Money(cents: 0))  // 0.48 → 0
        #expect(roundHalfUp(-15, dividedBy: 10) == -2)
    }

    @Test func parsesRates() {
        #expect(BasisPoints.parsePercent("12.5") == BasisPoints(1250))
        #expect(BasisPoints.parsePercent("0.05") == BasisPoints(5))
        #expect(BasisPoints.parsePercent("101") == nil)
        #expect(BasisPoints.parsePercent("1.005") == nil)
    }

    @Test func parsesIds() {
        #expect(parsePrefixedNumber(Array("L7".utf8), prefix: UInt8(ascii: "L")) == 7)
        #expect(parsePrefixedNumber(Array("l42".utf8), prefix: UInt8(ascii: "L")) == 42)
        #expect(parsePrefixedNumber(Array("L0".utf8), prefix: UInt8(ascii: "L")) == nil)
        #expect(parsePrefixedNumber(Array("L07".utf8), prefix: UInt8(ascii: "L")) == nil)
        #expect(parsePrefixedNumber(Array("B7".utf8), prefix: UInt8(ascii: "L")) == nil)
        #expect(parsePrefixedNumber(Array("L99999999999".utf8), prefix: UInt8(ascii: "L")) == nil)
        #expect(isValidUserID(Array("alice_01.x-y".utf8)))
        #expect(!isValidUserID(Array("Alice".utf8)))
        #expect(!isValidUserID(Array(String(repeating: "a", count: 33).utf8)))
        #expect(Ref("bot-1:retry.7_A") != nil)
        #expect(Ref("has space") == nil)
        #expect(Ref(String(repeating: "r", count: 65)) == nil)
    }
}
