import KeysmithApp
import KeysmithCore

/// Placing, cancelling and amending orders for an authenticated key: what REST's `trade/...` endpoints and the
/// WebSocket's trading ops (`order`, `batch-orders`, `cancel-order`, `batch-cancel-orders`, `amend-order`,
/// `batch-amend-orders`) both do, item by item, each item answering for itself. The engine audits every change in
/// its transaction, under `origin`.
struct TradeOperations: Sendable {
    let engine: MatchingEngine
    let clock: any WallClock

    static let maximumBatch = 20

    /// Places each order in turn.
    func place(_ items: [OKXParameters], by cached: CachedKey, origin: AuditOrigin) async -> [OrderReceipt] {
        var receipts: [OrderReceipt] = []
        for params in items {
            let outcome: OrderOutcome
            do {
                let order = try OrderRequest(parameters: params)
                outcome = await engine.place(order, key: cached.key, account: cached.account, origin: origin)
            } catch {
                outcome = .refused(error, clientOrderID: params.optional("clOrdId") ?? "", tag: params.optional("tag") ?? "")
            }
            receipts.append(OrderReceipt(outcome, now: clock.milliseconds))
        }
        return receipts
    }

    /// Cancels one order (`instId` with `ordId` or `clOrdId`).
    func cancel(_ params: OKXParameters, by cached: CachedKey, origin: AuditOrigin) async -> Result<OrderReceipt, OKXError> {
        do throws(OKXError) {
            let canceled = try await engine.cancel(
                instrument: try params.required("instId"), orderID: params.optional("ordId"), clientOrderID: params.optional("clOrdId"),
                account: cached.account, origin: origin)
            return .success(OrderReceipt(canceled: canceled, now: clock.milliseconds))
        } catch {
            return .failure(error)
        }
    }

    /// Cancels each order in turn; a refusal is that item's answer.
    func cancel(_ items: [OKXParameters], by cached: CachedKey, origin: AuditOrigin) async -> [OrderReceipt] {
        var receipts: [OrderReceipt] = []
        for params in items {
            switch await cancel(params, by: cached, origin: origin) {
            case .success(let receipt): receipts.append(receipt)
            case .failure(let error): receipts.append(refusal(error, params))
            }
        }
        return receipts
    }

    /// Amends each order in turn.
    func amend(_ items: [OKXParameters], by cached: CachedKey, origin: AuditOrigin) async -> [AmendReceipt] {
        var receipts: [AmendReceipt] = []
        for params in items {
            do {
                let amendment = try AmendRequest(parameters: params)
                let outcome = await engine.amend(amendment, key: cached.key, account: cached.account, origin: origin)
                receipts.append(AmendReceipt(outcome, request: amendment, now: clock.milliseconds))
            } catch {
                receipts.append(AmendReceipt(refused: error, parameters: params, now: clock.milliseconds))
            }
        }
        return receipts
    }

    /// A refused item's answer.
    func refusal(_ error: OKXError, _ params: OKXParameters) -> OrderReceipt {
        OrderReceipt(.refused(error, clientOrderID: params.optional("clOrdId") ?? "", tag: ""), now: clock.milliseconds)
    }

    /// The envelope's code and message for item answers: 0 when every item succeeded, 1 when none did, 2 when some
    /// did.
    static func summary(_ codes: [String]) -> (code: String, msg: String) {
        let failed = codes.filter { $0 != "0" }.count
        if failed == codes.count { return ("1", "All operations failed") }
        if failed > 0 { return ("2", "Bulk operation partially succeeded") }
        return ("0", "")
    }
}
