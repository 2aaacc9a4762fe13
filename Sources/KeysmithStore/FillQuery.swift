import KeysmithCore

/// Which fills a listing returns (`trade/fills`, `trade/fills-history`); cursors are bill ids (a fill's trade id
/// here).
public struct FillQuery: Sendable, Hashable {
    public var instrument: String?
    /// Only the fills of this order (the caller's side of it).
    public var orderID: Int64?
    public var page: Page
    /// Only fills of this instrument type (`SPOT`, `SWAP`).
    public var instrumentType: String?

    public init(instrument: String? = nil, orderID: Int64? = nil, page: Page = Page()) {
        self.instrument = instrument
        self.orderID = orderID
        self.page = page
    }
}
