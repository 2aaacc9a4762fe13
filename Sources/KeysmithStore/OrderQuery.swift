import KeysmithCore

/// Which orders a listing returns (`orders-pending`, `orders-history`, `orders-history-archive`); cursors are
/// order ids.
public struct OrderQuery: Sendable, Hashable {
    /// Open orders (live, partially filled), or closed ones (filled, cancelled).
    public var open: Bool
    public var instrument: String?
    public var type: OrderType?
    public var state: OrderState?
    public var page: Page
    /// Only orders of this instrument type (`SPOT`, `SWAP`).
    public var instrumentType: String?

    public init(open: Bool, instrument: String? = nil, type: OrderType? = nil, state: OrderState? = nil, page: Page = Page()) {
        self.open = open
        self.instrument = instrument
        self.type = type
        self.state = state
        self.page = page
    }
}
