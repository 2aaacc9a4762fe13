import KeysmithCore
import Testing

struct OrderBookTests {
    static func resting(_ id: Int64, _ side: OrderSide, _ price: Int64, _ size: Int64, _ account: String = "m") -> RestingOrder {
        RestingOrder(id: id, account: account, side: side, price: price, remaining: size)
    }

    @Test
    func bestPriceFirstThenEarliest() {
        var book = OrderBook()
        book.add(Self.resting(1, .sell, 101, 5))
        book.add(Self.resting(2, .sell, 100, 5))
        book.add(Self.resting(3, .sell, 100, 5))
        book.add(Self.resting(4, .buy, 99, 5))
        #expect(book.bestAsk == 100 && book.bestBid == 99)
        let matches = book.plan(side: .buy, limit: 101, size: 12)
        #expect(matches.map(\.maker.id) == [2, 3, 1])
        #expect(matches.map(\.size) == [5, 5, 2])
        #expect(matches.map(\.price) == [100, 100, 101])
        // Planning changes nothing; applying does.
        #expect(book.count == 4)
        book.apply(matches)
        #expect(book.count == 2 && book.bestAsk == 101)
        #expect(book.depth(.sell, levels: 5).map(\.size) == [3])
    }

    @Test
    func limitsStopMatchingAndMarketOrdersTakeWhatThereIs() {
        var book = OrderBook()
        book.add(Self.resting(1, .buy, 100, 2))
        book.add(Self.resting(2, .buy, 98, 2))
        #expect(book.plan(side: .sell, limit: 99, size: 10).map(\.size) == [2])
        #expect(book.plan(side: .sell, limit: nil, size: 10).map(\.size) == [2, 2])
        #expect(book.plan(side: .sell, limit: 101, size: 10).isEmpty)
        #expect(book.plan(side: .buy, limit: nil, size: 1).isEmpty)
    }

    @Test
    func aMoneyBudgetBuysWhatItCanAfford() {
        var book = OrderBook()
        book.add(Self.resting(1, .sell, 10, 3))
        book.add(Self.resting(2, .sell, 20, 5))
        // 30 buys all 3 at 10; 45 more buys 2 at 20 (40), leaving 5 unspent.
        let matches = book.plan(side: .buy, limit: nil, size: .max / 4, budget: 75)
        #expect(matches.map(\.size) == [3, 2])
    }

    @Test
    func removingOrdersEmptiesLevels() {
        var book = OrderBook()
        book.add(Self.resting(1, .buy, 50, 1))
        book.add(Self.resting(2, .buy, 50, 1))
        let first = book.remove(id: 1, side: .buy, price: 50)
        let again = book.remove(id: 1, side: .buy, price: 50)
        #expect(first && !again)
        #expect(book.depth(.buy, levels: 1).first?.orders == 1)
        let second = book.remove(id: 2, side: .buy, price: 50)
        #expect(second)
        #expect(book.isEmpty)
    }

    @Test
    func notionalRoundsDownForFillsAndUpForHolds() {
        let btc = Instrument.defaults[0].withQuoteScale(6)
        // 0.00000001 BTC at 0.1 USDT = 0.000000001 USDT: 0 units paid, 1 unit held.
        #expect(btc.notional(price: 1, size: 1) == 0)
        #expect(btc.notionalRoundedUp(price: 1, size: 1) == 1)
        // 0.5 BTC at 30000.0 = 15000 USDT exactly.
        #expect(btc.notional(price: 300_000, size: 50_000_000) == 15_000_000_000)
    }
}
