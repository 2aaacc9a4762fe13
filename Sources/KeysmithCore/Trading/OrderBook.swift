/// A side of an order.
public enum OrderSide: String, Sendable, Hashable, Codable {
    case buy, sell

    public var opposite: OrderSide { self == .buy ? .sell : .buy }
}

/// An order resting on a book: what matching needs and nothing else.
public struct RestingOrder: Sendable, Hashable {
    public var id: Int64
    public var account: String
    public var side: OrderSide
    /// Price in price units (the instrument's tick scale).
    public var price: Int64
    /// What is left to fill, in size units (the lot scale).
    public var remaining: Int64

    public init(id: Int64, account: String, side: OrderSide, price: Int64, remaining: Int64) {
        self.id = id
        self.account = account
        self.side = side
        self.price = price
        self.remaining = remaining
    }
}

/// One match of an incoming order against a resting one, at the resting (maker) order's price.
public struct Match: Sendable, Hashable {
    public var maker: RestingOrder
    public var price: Int64
    public var size: Int64
}

/// A price-time-priority order book of one instrument: the best price first, and at one price the earliest order.
/// Matching is planned without changing the book (``plan(side:limit:size:)``) and applied once the fills are
/// stored (``apply(_:)``), so a failed write leaves the book as it was.
///
/// ```swift
/// var book = OrderBook()
/// book.add(RestingOrder(id: 1, account: "a", side: .sell, price: 300_000, remaining: 5))
/// let matches = book.plan(side: .buy, limit: 300_000, size: 3)   // one match of 3 at 300 000
/// book.apply(matches)
/// ```
public struct OrderBook: Sendable {
    /// Price → resting orders in arrival order.
    private var bids: [Int64: [RestingOrder]] = [:]
    private var asks: [Int64: [RestingOrder]] = [:]
    /// Prices with orders, best first (bids high to low, asks low to high).
    private var bidPrices: [Int64] = []
    private var askPrices: [Int64] = []

    public init() {}

    public var isEmpty: Bool { bidPrices.isEmpty && askPrices.isEmpty }
    public var bestBid: Int64? { bidPrices.first }
    public var bestAsk: Int64? { askPrices.first }

    /// The matches an order of `side` for `size` would make, up to `limit` (nil: any price — a market order). For a
    /// market buy bounded by money rather than size, pass `budget`: the most `price × size` it may spend, in
    /// price × size units.
    public func plan(side: OrderSide, limit: Int64?, size: Int64, budget: Int64? = nil) -> [Match] {
        var matches: [Match] = []
        var left = size, money = budget ?? .max
        let prices = side == .buy ? askPrices : bidPrices
        let levels = side == .buy ? asks : bids
        for price in prices {
            if let limit, side == .buy ? price > limit : price < limit { break }
            for maker in levels[price] ?? [] {
                guard left > 0, money >= price else { return matches }
                let affordable = budget == nil ? left : min(left, money / price)
                let size = min(affordable, maker.remaining)
                guard size > 0 else { return matches }
                matches.append(Match(maker: maker, price: price, size: size))
                left -= size
                if budget != nil { money -= size * price }
            }
            if left == 0 { break }
        }
        return matches
    }

    /// Fills the planned matches on the book (makers shrink or leave).
    public mutating func apply(_ matches: [Match]) {
        for match in matches {
            reduce(id: match.maker.id, side: match.maker.side, price: match.maker.price, by: match.size)
        }
    }

    public mutating func add(_ order: RestingOrder) {
        guard order.remaining > 0 else { return }
        if order.side == .buy {
            if bids[order.price] == nil { insert(order.price, into: &bidPrices, descending: true) }
            bids[order.price, default: []].append(order)
        } else {
            if asks[order.price] == nil { insert(order.price, into: &askPrices, descending: false) }
            asks[order.price, default: []].append(order)
        }
    }

    /// Sets a resting order's remaining size where it stands, keeping its place in the queue (an amendment that
    /// only lowers its size); false when it is not on the book.
    @discardableResult
    public mutating func resize(id: Int64, side: OrderSide, price: Int64, remaining: Int64) -> Bool {
        guard remaining > 0 else { return remove(id: id, side: side, price: price) }
        func update(_ levels: inout [Int64: [RestingOrder]]) -> Bool {
            guard let index = levels[price]?.firstIndex(where: { $0.id == id }) else { return false }
            levels[price]?[index].remaining = remaining
            return true
        }
        return side == .buy ? update(&bids) : update(&asks)
    }

    /// Whether the order `id` rests at `price` on `side`.
    public func contains(id: Int64, side: OrderSide, price: Int64) -> Bool {
        ((side == .buy ? bids : asks)[price] ?? []).contains { $0.id == id }
    }

    /// Removes an order (cancelled); false when it is not on the book.
    @discardableResult
    public mutating func remove(id: Int64, side: OrderSide, price: Int64) -> Bool {
        reduce(id: id, side: side, price: price, by: .max)
    }

    /// Aggregated levels, best first: price, total size, number of orders. The total is 128 bits wide: the orders of
    /// many accounts at one price may add up to more than one order can hold.
    public func depth(_ side: OrderSide, levels count: Int) -> [(price: Int64, size: Int128, orders: Int)] {
        let prices = side == .buy ? bidPrices : askPrices
        let levels = side == .buy ? bids : asks
        return prices.prefix(count).map { price in
            let orders = levels[price] ?? []
            return (price, orders.reduce(Int128(0)) { $0 + Int128($1.remaining) }, orders.count)
        }
    }

    public var count: Int { bids.values.reduce(0) { $0 + $1.count } + asks.values.reduce(0) { $0 + $1.count } }

    // MARK: - Helpers

    @discardableResult
    private mutating func reduce(id: Int64, side: OrderSide, price: Int64, by size: Int64) -> Bool {
        var found = false
        func shrink(_ orders: inout [RestingOrder]) {
            guard let index = orders.firstIndex(where: { $0.id == id }) else { return }
            found = true
            if orders[index].remaining > size {
                orders[index].remaining -= size
            } else {
                orders.remove(at: index)
            }
        }
        if side == .buy {
            guard var orders = bids[price] else { return false }
            shrink(&orders)
            if orders.isEmpty {
                bids[price] = nil
                bidPrices.removeAll { $0 == price }
            } else {
                bids[price] = orders
            }
        } else {
            guard var orders = asks[price] else { return false }
            shrink(&orders)
            if orders.isEmpty {
                asks[price] = nil
                askPrices.removeAll { $0 == price }
            } else {
                asks[price] = orders
            }
        }
        return found
    }

    private func insertionIndex(_ price: Int64, in prices: [Int64], descending: Bool) -> Int {
        var low = 0, high = prices.count
        while low < high {
            let mid = (low + high) / 2
            if descending ? prices[mid] > price : prices[mid] < price { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private func insert(_ price: Int64, into prices: inout [Int64], descending: Bool) {
        prices.insert(price, at: insertionIndex(price, in: prices, descending: descending))
    }
}
