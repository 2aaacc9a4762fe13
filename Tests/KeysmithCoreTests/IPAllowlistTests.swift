import KeysmithCore
import Testing

struct IPAllowlistTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.255.255.255", true), ("10.0.0.0/8", "11.0.0.0", false), ("10.0.0.0/8", "9.255.255.255", false),
        ("192.0.2.7", "192.0.2.7", true), ("192.0.2.7", "192.0.2.8", false), ("192.0.2.7/32", "192.0.2.7", true),
        ("0.0.0.0/0", "203.0.113.9", true), ("0.0.0.0/0", "2001:db8::1", false),
        ("192.168.1.128/25", "192.168.1.127", false), ("192.168.1.128/25", "192.168.1.128", true),
        ("2001:db8::/32", "2001:db8:ffff::1", true), ("2001:db8::/32", "2001:db9::1", false),
        ("2001:db8::1", "2001:db8:0:0:0:0:0:1", true), ("::1", "::1", true), ("::1", "127.0.0.1", false),
        ("fe80::/10", "febf::1", true), ("fe80::/10", "fec0::1", false), ("::/0", "2001:db8::1", true),
        // IPv4-mapped IPv6 peers match IPv4 entries and the other way round.
        ("192.0.2.0/24", "::ffff:192.0.2.55", true), ("::ffff:192.0.2.55", "192.0.2.55", true),
        ("::ffff:0:0/96", "198.51.100.1", true),
        ("2001:db8::/127", "2001:db8::1", true), ("2001:db8::/127", "2001:db8::2", false),
        ("2001:db8:0:1::/64", "2001:db8:0:1:ffff:ffff:ffff:ffff", true), ("2001:db8:0:1::/65", "2001:db8:0:1:8000::", false),
    ])
    func matches(_ entry: String, _ address: String, _ expected: Bool) throws {
        let range = try IPRange(entry)
        #expect(range.contains(try IPAddress(address)) == expected)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/", "1.2.3.4/8", "10.0.0.0/8/8",
        "2001:db8::/129", "2001:db8::1/32", "2001:db8:::1", "gggg::1", "localhost", "1.2.3.4 ", "[::1]", "::1%eth0", "01.2.3.4/+8",
    ])
    func rejectsBadEntries(_ entry: String) {
        #expect(throws: IPAddressError.self) { try IPRange(entry) }
    }

    /// The C address parser stops at a NUL byte: text after one (JSON allows `\u0000`) must not be dropped silently.
    @Test(arguments: ["10.0.0.1\u{0}", "::ff\u{0}\u{0}192.0.2.1", "192.0.2.7\u{0}evil", "10.0.0.0\u{0}/8", "2001:db8::\u{0}1/32"])
    func rejectsEntriesWithNUL(_ entry: String) {
        #expect(throws: IPAddressError.self) { try IPRange(entry) }
        #expect(throws: OKXError.self) { try IPAllowlist(okx: "192.0.2.9,\(entry)") }
    }

    @Test
    func hostBitsErrorNamesTheNetwork() throws {
        let error = try #require(throws: IPAddressError.self) { try IPRange("10.1.2.3/8") }
        #expect(error.description.contains("10.0.0.0/8"))
    }

    @Test
    func okxCommaForm() throws {
        let list = try IPAllowlist(okx: " 192.0.2.7, 10.0.0.0/8,2001:db8::/32,192.0.2.7 ")
        #expect(list.okxString == "192.0.2.7,10.0.0.0/8,2001:db8::/32")
        #expect(list.permits(try IPAddress("10.9.9.9")))
        #expect(!list.permits(try IPAddress("192.0.2.8")))
        #expect(try IPAllowlist(okx: "").isEmpty)
        #expect(try IPAllowlist(okx: "").permits(try IPAddress("203.0.113.1")))
    }

    @Test
    func atMostTwentyEntries() throws {
        let twenty = (1...20).map { "192.0.2.\($0)" }
        #expect(try IPAllowlist(parsing: twenty).entries.count == 20)
        let error = try #require(throws: OKXError.self) { try IPAllowlist(parsing: twenty + ["192.0.2.21"]) }
        #expect(error.code == "59503")
    }

    @Test
    func badEntryIsAParameterErrorNamingTheEntry() throws {
        let error = try #require(throws: OKXError.self) { try IPAllowlist(okx: "192.0.2.1,300.1.1.1") }
        #expect(error.code == "51000")
        #expect(error.message.contains("300.1.1.1"))
    }

    @Test
    func addressDescriptions() throws {
        #expect(try IPAddress("::ffff:192.0.2.1").description == "192.0.2.1")
        #expect(try IPAddress("2001:0db8:0000:0000:0000:0000:0000:0001").description == "2001:db8::1")
        #expect(try IPRange("2001:db8::/32").description == "2001:db8::/32")
        #expect(try IPRange("10.0.0.0/8").description == "10.0.0.0/8")
        #expect(try IPRange("::ffff:0:0/96").description == "0.0.0.0/0")
        #expect(try IPRange("::ffff:0:0/96").description == IPRange(IPRange("::ffff:0:0/96").description).description)
    }
}

struct AllowlistWideningTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.1.0.0/16", false), ("10.0.0.0/8", "10.0.0.0/8,10.2.3.4", false), ("10.0.0.0/8", "11.0.0.1", true),
        ("10.0.0.0/16", "10.0.0.0/8", true), ("10.0.0.0/8", "", true), ("", "10.0.0.0/8", false), ("", "", false),
        ("192.0.2.1", "192.0.2.1,2001:db8::1", true), ("::/0", "2001:db8::/32", false),
    ])
    func widening(_ old: String, _ new: String, _ wider: Bool) throws {
        #expect(try IPAllowlist(okx: new).isWider(than: IPAllowlist(okx: old)) == wider)
    }

    @Test
    func narrowedKeepsOnlyWhatTheOldListAllows() throws {
        let old = try IPAllowlist(okx: "10.0.0.0/8")
        #expect(try IPAllowlist(okx: "10.1.0.0/16,11.0.0.0/8").narrowed(within: old).okxString == "10.1.0.0/16")
        #expect(try IPAllowlist(okx: "11.0.0.0/8").narrowed(within: old) == old)   // never unbinds
        #expect(IPAllowlist.empty.narrowed(within: old) == old)
    }
}
