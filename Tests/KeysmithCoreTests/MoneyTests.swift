import KeysmithCore
import Testing

struct MoneyTests {
    @Test(arguments: [
        ("1000", 6, Int64(1_000_000_000), "1000"), ("0.5", 8, 50_000_000, "0.5"), ("1.250000", 6, 1_250_000, "1.25"),
        ("0.00000001", 8, 1, "0.00000001"), ("-3.2", 2, -320, "-3.2"), (".5", 1, 5, "0.5"), ("7.", 0, 7, "7"),
        ("1.500000000", 6, 1_500_000, "1.5"),
    ])
    func parsesAndPrintsExactly(_ text: String, _ scale: Int, _ units: Int64, _ printed: String) throws {
        let amount = try #require(Amount(parsing: text, scale: scale))
        #expect(amount.units == units)
        #expect(amount.text == printed)
    }

    @Test(arguments: ["", ".", "1.2.3", "1e5", "0x10", "1,5", " 1", "1.0000001", "99999999999999999999", "--1", "NaN"])
    func refusesWhatIsNotAPlainDecimal(_ text: String) {
        #expect(Amount(parsing: text, scale: 6) == nil)
    }

    @Test
    func arithmeticIsExactAndRefusesOverflow() throws {
        let a = try #require(Amount(parsing: "0.1", scale: 8)), b = try #require(Amount(parsing: "0.2", scale: 8))
        #expect(a.adding(b)?.text == "0.3")
        #expect(Amount(units: .max, scale: 0).adding(Amount(units: 1, scale: 0)) == nil)
        #expect(a.adding(Amount(units: 1, scale: 6)) == nil)
        #expect(a.rescaled(to: 2)?.text == "0.1")
        #expect(try #require(Amount(parsing: "0.123", scale: 8)).rescaled(to: 2) == nil)
        #expect(try #require(Amount(parsing: "1.5", scale: 2)).rescaled(to: 8)?.units == 150_000_000)
        #expect(try #require(Amount(parsing: "0.3", scale: 1)).isMultiple(of: Amount(units: 1, scale: 1)))
    }

    @Test
    func movementsBalancePerCurrency() {
        let transfer = LedgerMovement.move(500, of: "USDT", from: ("a", .funding), to: ("b", .trading))
        #expect(transfer.isBalanced)
        #expect(LedgerMovement.deposit(10, of: "BTC", to: "a").isBalanced)
        #expect(LedgerMovement.freeze(10, of: "BTC", in: "a", kind: .funding).isBalanced)
        let lopsided = LedgerMovement(entries: [LedgerEntry(account: "a", kind: .funding, currency: "USDT", availableDelta: 5)])
        #expect(!lopsided.isBalanced)
        let crossCurrency = LedgerMovement(entries: [
            LedgerEntry(account: "a", kind: .funding, currency: "USDT", availableDelta: -5),
            LedgerEntry(account: "b", kind: .funding, currency: "BTC", availableDelta: 5),
        ])
        #expect(!crossCurrency.isBalanced)
    }

    @Test
    func depositAddressesAreStablePerAccountAndChain() {
        let a = DepositAddress.make(account: "1", chain: "USDT-TRC20")
        #expect(a == DepositAddress.make(account: "1", chain: "USDT-TRC20"))
        #expect(a != DepositAddress.make(account: "2", chain: "USDT-TRC20"))
        #expect(a.hasPrefix("T") && a.count == 34)
        #expect(DepositAddress.make(account: "1", chain: "ETH-ERC20").hasPrefix("0x"))
        #expect(DepositAddress.make(account: "1", chain: "BTC-Bitcoin").hasPrefix("bc1q"))
    }
}
