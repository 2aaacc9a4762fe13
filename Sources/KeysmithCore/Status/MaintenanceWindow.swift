/// A maintenance window the operator scheduled (`keysmith maintenance schedule`), as `GET /api/v5/system/status`
/// lists it. While a window of the trading service is ongoing, trading endpoints answer 50001, as OKX's do.
public struct MaintenanceWindow: Sendable, Hashable {
    public var id: Int64
    public var title: String
    /// Start and planned end, in milliseconds.
    public var begin: Int64
    public var end: Int64
    /// OKX's `serviceType`: ``tradingService`` (5) stops trading; others are announced only.
    public var serviceType: String
    /// Set when the operator cancelled the window before it began, or ended it early.
    public var canceledAt: Int64?
    public var completedAt: Int64?
    public var createdAt: Int64

    /// OKX's "Trading service" type.
    public static let tradingService = "5"
    /// The `serviceType` values OKX documents.
    public static let serviceTypes: Set<String> = ["0", "5", "6", "7", "8", "9", "10", "11", "99"]

    public init(
        id: Int64 = 0, title: String, begin: Int64, end: Int64, serviceType: String = MaintenanceWindow.tradingService,
        canceledAt: Int64? = nil, completedAt: Int64? = nil, createdAt: Int64
    ) {
        self.id = id
        self.title = title
        self.begin = begin
        self.end = end
        self.serviceType = serviceType
        self.canceledAt = canceledAt
        self.completedAt = completedAt
        self.createdAt = createdAt
    }

    /// OKX's `state` values.
    public enum State: String, Sendable, Hashable {
        case scheduled, ongoing, completed, canceled
    }

    public func state(at now: Int64) -> State {
        if canceledAt != nil { return .canceled }
        if now >= actualEnd { return .completed }
        return now >= begin ? .ongoing : .scheduled
    }

    /// When it ends: its planned end, or when the operator ended it.
    public var actualEnd: Int64 { completedAt.map { min($0, end) } ?? end }

    /// Whether trading endpoints refuse requests at `now`.
    public func stopsTrading(at now: Int64) -> Bool {
        serviceType == Self.tradingService && state(at: now) == .ongoing
    }
}
