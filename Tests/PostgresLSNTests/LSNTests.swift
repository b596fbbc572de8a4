import PostgresLSN
import TestSupport
import Testing

@Suite("LSN text form")
struct LSNTextTests {
    @Test(arguments: [
        ("16/B374D848", UInt64(0x16_B374_D848)),
        ("0/0", 0),
        ("0/1", 1),
        ("1/0", 0x1_0000_0000),
        ("FFFFFFFF/FFFFFFFF", UInt64.max),
        ("ABCDEF01/23456789", 0xABCD_EF01_2345_6789),
    ])
    func canonicalFormsRoundTrip(text: String, raw: UInt64) throws {
        let lsn = try #require(LSN(text))
        #expect(lsn.rawValue == raw)
        #expect(lsn.description == text)
        #expect(LSN(raw).description == text)
    }

    @Test func zeroIsInvalidXLogRecPtr() {
        #expect(LSN("0/0") == LSN.zero)
        #expect(LSN.zero.rawValue == 0)
        #expect(LSN.zero.description == "0/0")
    }

    /// PostgreSQL accepts lowercase and leading zeros; the printed form is uppercase without them.
    @Test(arguments: [
        ("16/b374d848", "16/B374D848", UInt64(0x16_B374_D848)),
        ("00000016/0000D848", "16/D848", 0x16_0000_D848),
        ("00000000/00000000", "0/0", 0),
        ("aBc/DeF", "ABC/DEF", 0xABC_0000_0DEF),
    ])
    func nonCanonicalFormsParse(text: String, canonical: String, raw: UInt64) throws {
        let lsn = try #require(LSN(text))
        #expect(lsn.rawValue == raw)
        #expect(lsn.description == canonical)
    }

    @Test(arguments: [
        "", "/", "0", "16B374D848", "0/", "/0", "1/2/3", "//",
        "123456789/0", "0/123456789", "000000000/0",
        "G/0", "0/g", "0x1/0", "1/0x0",
        " 1/0", "1/0 ", "1 /0", "1/ 0", "1/0\n",
        "1.0", "1\\0", "１/0",
    ])
    func invalidStringsAreRejected(text: String) {
        #expect(LSN(text) == nil)
    }

    /// `UInt32(_:radix:)` alone would accept a leading '+' or '-'; the documented grammar (and
    /// PostgreSQL's pg_lsn_in) allows hex digits only.
    @Test(arguments: ["+1/0", "0/+1", "-0/0", "0/-0", "+FFFFFFF/0"])
    func signPrefixedHalvesAreRejected(text: String) {
        #expect(LSN(text) == nil, "LSN(\"\(text)\") parsed as \(LSN(text).map(String.init(describing:)) ?? "nil")")
    }

    @Test func randomValuesRoundTripThroughText() throws {
        var random = SplitMix64(seed: 0x15A)
        let hexDigits = Set("0123456789ABCDEF")
        for _ in 0..<5_000 {
            // Mix full-width values with small ones, whose halves print short.
            let raw = random.next() >> UInt64.random(in: 0...63, using: &random)
            let text = LSN(raw).description
            let halves = text.split(separator: "/", omittingEmptySubsequences: false)
            try #require(halves.count == 2)
            for half in halves {
                #expect((1...8).contains(half.count), "\(text)")
                #expect(half.allSatisfy(hexDigits.contains), "\(text)")
                #expect(half == "0" || half.first != "0", "\(text) has a leading zero")
            }
            #expect(LSN(text)?.rawValue == raw, "\(text)")
        }
    }

    @Test func orderIsNumericNotTextual() {
        // "10/0" sorts before "9/0" as text but is the later position.
        #expect(LSN("9/0")! < LSN("10/0")!)
        #expect(LSN("0/FFFFFFFF")! < LSN("1/0")!)
        #expect(!(LSN(5) < LSN(5)))
        #expect([LSN(3), LSN(1), LSN(2)].sorted() == [LSN(1), LSN(2), LSN(3)])
    }
}
