/// Open, high, low and close of a price over a period starting at `start` (milliseconds), in units of `scale`
/// decimals: a minute of mark prices as recorded, or a bar of them as `market/mark-price-candles` reports.
public struct PriceCandle: Sendable, Hashable {
    public var instrument: String
    public var start: Int64
    public var scale: Int
    public var open: Int64
    public var high: Int64
    public var low: Int64
    public var close: Int64

    public init(instrument: String, start: Int64, scale: Int, open: Int64, high: Int64, low: Int64, close: Int64) {
        self.instrument = instrument
        self.start = start
        self.scale = scale
        self.open = open
        self.high = high
        self.low = low
        self.close = close
    }

    /// A candle that opens at `price`.
    public init(instrument: String, start: Int64, price: Amount) {
        self.init(instrument: instrument, start: start, scale: price.scale, open: price.units, high: price.units, low: price.units, close: price.units)
    }

    /// The candle with `price` as its latest: its close, and its high or low when beyond them.
    public func adding(_ price: Int64) -> PriceCandle {
        var next = self
        next.high = Swift.max(high, price)
        next.low = Swift.min(low, price)
        next.close = price
        return next
    }
}
