import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// Spot trading (`/api/v5/trade/...`): placing and cancelling need trade, reading needs read. Orders of all
/// accounts meet in one book per instrument (``MatchingEngine``).
struct TradeRoutes {
    let engine: MatchingEngine
    let orders: any OrderStore
    /// Placing and cancelling answer 50001 while a maintenance window of the trading service runs.
    let maintenance: MaintenanceService
    let clock: any WallClock

    static let maximumBatch = TradeOperations.maximumBatch

    func register(read: RouterGroup<AppRequestContext>, trade: RouterGroup<AppRequestContext>) {
        trade.post("trade/order", use: placeOne)
        trade.post("trade/batch-orders", use: placeBatch)
        trade.post("trade/cancel-order", use: cancel)
        trade.post("trade/cancel-batch-orders", use: cancelBatch)
        trade.post("trade/amend-order", use: amendOne)
        trade.post("trade/amend-batch-orders", use: amendBatch)
        read.get("trade/order", use: order)
        read.get("trade/orders-pending") { request, context in try await list(request, context, .pending) }
        read.get("trade/orders-history") { request, context in try await list(request, context, .history) }
        read.get("trade/orders-history-archive") { request, context in try await list(request, context, .archive) }
        read.get("trade/fills") { request, context in try await fills(request, context, .recent) }
        read.get("trade/fills-history") { request, context in try await fills(request, context, .history) }
    }

    /// How far back OKX's order listings reach: history 7 days, its archive 3 months.
    enum OrderListing {
        case pending, history, archive

        var window: Int64? {
            switch self {
            case .pending: nil
            case .history: 7 * Self.day
            case .archive: 90 * Self.day
            }
        }

        static let day: Int64 = 86_400_000
    }

    /// How far back OKX's fill listings reach: `fills` 3 days, `fills-history` 3 months.
    enum FillListing {
        case recent, history

        var window: Int64 { self == .recent ? 3 * OrderListing.day : 90 * OrderListing.day }
    }

    private var operations: TradeOperations { TradeOperations(engine: engine, clock: clock) }

    @Sendable func placeOne(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<OrderReceipt> {
        try maintenance.checkTrading()
        return try await place([try OKXParameters(jsonBody: context.body)], request, context)
    }

    @Sendable func placeBatch(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<OrderReceipt> {
        try maintenance.checkTrading()
        return try await place(try Self.batch(context), request, context)
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<OrderReceipt> {
        try maintenance.checkTrading()
        let params = try OKXParameters(jsonBody: context.body)
        switch await operations.cancel(params, by: try context.requireKey(), origin: context.auditOrigin(request)) {
        case .success(let receipt):
            return summarised([receipt], context)
        case .failure(let error) where error.code == OKXError.cancelFailed.code:
            return summarised([operations.refusal(error, params)], context)
        case .failure(let error):
            throw error
        }
    }

    /// Up to 20 cancels (`instId` with `ordId` or `clOrdId` each), in turn; each item answers for itself.
    @Sendable func cancelBatch(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<OrderReceipt> {
        try maintenance.checkTrading()
        let items = try Self.batch(context)
        return summarised(await operations.cancel(items, by: try context.requireKey(), origin: context.auditOrigin(request)), context)
    }

    @Sendable func amendOne(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<AmendReceipt> {
        try maintenance.checkTrading()
        return try await amend([try OKXParameters(jsonBody: context.body)], request, context)
    }

    /// Up to 20 amendments, in turn; each item answers for itself (51501 for more).
    @Sendable func amendBatch(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<AmendReceipt> {
        try maintenance.checkTrading()
        let items = try OKXParameters.list(jsonBody: context.body)
        guard !items.isEmpty else { throw OKXError.parameterError("orders").with(message: "Parameter orders error: 1 to \(Self.maximumBatch) orders") }
        guard items.count <= Self.maximumBatch else { throw OKXError.tooManyAmendments(Self.maximumBatch) }
        return try await amend(items, request, context)
    }

    private func amend(_ items: [OKXParameters], _ request: Request, _ context: AppRequestContext) async throws -> OKXResponse<AmendReceipt> {
        let receipts = await operations.amend(items, by: try context.requireKey(), origin: context.auditOrigin(request))
        return summarised(receipts, code: \.sCode, context)
    }

    /// A batch body of 1 to 20 items.
    private static func batch(_ context: AppRequestContext) throws -> [OKXParameters] {
        let items = try OKXParameters.list(jsonBody: context.body)
        guard (1...maximumBatch).contains(items.count) else {
            throw OKXError.parameterError("orders").with(message: "Parameter orders error: 1 to \(maximumBatch) orders")
        }
        return items
    }

    @Sendable func order(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<OrderItem> {
        let cached = try context.requireKey()
        let params = OKXParameters(query: request.uri.query)
        let instrument = try await engine.instrument(try params.required("instId"))
        guard let found = try await engine.find(orderID: params.optional("ordId"), clientOrderID: params.optional("clOrdId"), account: cached.account),
            found.instrument == instrument.id
        else { throw OKXError.orderDoesNotExist }
        return OKXResponse([OrderItem(found, instrument: instrument)])
    }

    func list(_ request: Request, _ context: AppRequestContext, _ listing: OrderListing) async throws -> OKXResponse<OrderItem> {
        let cached = try context.requireKey()
        let params = OKXParameters(query: request.uri.query)
        // OKX requires instType on the history listings (50014 without it); SPOT and SWAP exist here.
        let type = listing == .pending ? params.optional("instType") : try params.required("instType")
        if let type, InstrumentType(rawValue: type) == nil { return OKXResponse([]) }
        var query = OrderQuery(
            open: listing == .pending, instrument: params.optional("instId"), page: try params.page(reach: listing.window, now: clock.milliseconds))
        query.instrumentType = type
        if let text = params.optional("ordType") {
            guard let type = OrderType(rawValue: text) else { throw OKXError.parameterError("ordType") }
            query.type = type
        }
        if let text = params.optional("state") {
            guard let state = OrderState(rawValue: text), state.isOpen == query.open else { throw OKXError.parameterError("state") }
            query.state = state
        }
        let instruments = Dictionary(try await engine.allInstruments().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let found = try await mapped { () async throws(StoreError) in try await orders.orders(account: cached.account.uid, matching: query) }
        return OKXResponse(found.compactMap { order in instruments[order.instrument].map { OrderItem(order, instrument: $0) } })
    }

    func fills(_ request: Request, _ context: AppRequestContext, _ listing: FillListing) async throws -> OKXResponse<FillItem> {
        let cached = try context.requireKey()
        let params = OKXParameters(query: request.uri.query)
        let type = listing == .recent ? params.optional("instType") : try params.required("instType")
        if let type, InstrumentType(rawValue: type) == nil { return OKXResponse([]) }
        var query = FillQuery(
            instrument: params.optional("instId"), orderID: try params.wholeNumber("ordId"),
            page: try params.page(reach: listing.window, now: clock.milliseconds))
        query.instrumentType = type
        let instruments = Dictionary(try await engine.allInstruments().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let found = try await mapped { () async throws(StoreError) in try await orders.fills(account: cached.account.uid, matching: query) }
        return OKXResponse(found.compactMap { fill in
            instruments[fill.instrument].map { FillItem(fill, account: cached.account.uid, instrument: $0, order: query.orderID) }
        })
    }

    // MARK: - Helpers

    private func place(_ items: [OKXParameters], _ request: Request, _ context: AppRequestContext) async throws -> OKXResponse<OrderReceipt> {
        summarised(await operations.place(items, by: try context.requireKey(), origin: context.auditOrigin(request)), context)
    }

    /// The envelope of item answers: code 0 when every item succeeded, 1 when none did, 2 when some did; the codes
    /// are recorded for the audit trail.
    private func summarised(_ receipts: [OrderReceipt], _ context: AppRequestContext) -> OKXResponse<OrderReceipt> {
        summarised(receipts, code: \.sCode, context)
    }

    private func summarised<Item: Encodable & Sendable>(_ receipts: [Item], code: KeyPath<Item, String>, _ context: AppRequestContext)
        -> OKXResponse<Item>
    {
        var response = OKXResponse(receipts)
        let codes = receipts.map { $0[keyPath: code] }
        (response.code, response.msg) = TradeOperations.summary(codes)
        context.facts.recordItemResults(([response.code] + codes).joined(separator: ","))
        return response
    }
}
