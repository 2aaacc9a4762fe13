import KeysmithCore
import KeysmithStore

/// Amending an open order (`trade/amend-order`): a new total size, a new price, or both. The order keeps its id,
/// clOrdId, tag, what it filled and its fees; in one transaction it releases what it froze, matches what its new
/// price crosses (as the taker, paying the taker rate), and freezes what its new remaining size holds at its new
/// price. It keeps its place in the queue when only its size goes down, and joins the back of its (new) price level
/// otherwise. Every check a placement makes applies to the amended order: its key's instrument scope and USDT
/// limits, a SWAP order's price limits, leverage tier and the position a closing order may close.
extension MatchingEngine {
    public func amend(_ request: AmendRequest, key: APIKey, account: Account, origin: AuditOrigin) async -> AmendOutcome {
        await acquire()
        defer { release() }
        var target: Order?
        do throws(OKXError) {
            try await load()
            guard request.newSize != nil || request.newPrice != nil else { throw OKXError.amendNeedsSizeOrPrice }
            guard let found = try await find(orderID: request.orderID, clientOrderID: request.clientOrderID, account: account),
                found.instrument == request.instrument
            else { throw OKXError.amendOrderDoesNotExist }
            target = found
            switch found.state {
            case .canceled: throw OKXError.amendOrderCanceled
            case .filled: throw OKXError.amendOrderFilled
            case .live, .partiallyFilled: break
            }
            guard let original = open[found.id], let price = original.price, let inst = instruments[original.instrument] else {
                throw OKXError.amendOrderDoesNotExist
            }
            target = original
            guard original.type == .limit || original.type == .postOnly else { throw OKXError.amendUnavailableForType }
            let size = try Self.amendedSize(request.newSize, of: original, inst: inst)
            var newPrice = price
            if let text = request.newPrice {
                do throws(OKXError) { newPrice = try Self.limitPrice(text, inst: inst) } catch { throw Self.renamed(error, "px", "newPx") }
            }
            let placement = OrderRequest(
                instrument: inst.id, tradeMode: original.tradeMode, side: original.side.rawValue, type: original.type.rawValue,
                size: Amount(units: size, scale: inst.lotSize.scale).text,
                price: Amount(units: newPrice, scale: inst.tickSize.scale).text, clientOrderID: original.clientOrderID,
                tag: original.tag, positionSide: original.swap?.positionSide.rawValue, reduceOnly: original.swap?.reduceOnly ?? false)
            let details = ["reqId": request.requestID, "newSz": request.newSize ?? "", "newPx": request.newPrice ?? ""]
            return .amended(
                try await placeValidated(placement, key: key, account: account, origin: origin, replacing: original, auditDetails: details))
        } catch {
            guard request.cancelOnFail, let order = target, open[order.id] != nil else {
                return .refused(error, order: target, canceled: false)
            }
            // cxlOnFail: the order the amendment could not change is cancelled instead, audited as that cancel.
            let canceled = try? await cancelHoldingTheEngine(
                instrument: order.instrument, orderID: String(order.id), clientOrderID: nil, account: account, origin: origin,
                details: ["canceled": "cxlOnFail", "refusedWith": error.code, "reqId": request.requestID])
            return .refused(error, order: canceled ?? order, canceled: canceled != nil)
        }
    }

    /// `newSz` in size units: the order's total size, what it filled included, so it must exceed what filled (and
    /// follow the instrument's size rules); the order's size when not sent.
    private static func amendedSize(_ text: String?, of order: Order, inst: Instrument) throws(OKXError) -> Int64 {
        guard let text else { return order.size }
        let size: Int64
        do throws(OKXError) { size = try Self.size(text, inst: inst, quoteSized: false) } catch { throw renamed(error, "sz", "newSz") }
        guard size > order.filled else {
            let filled = Amount(units: order.filled, scale: inst.lotSize.scale).text
            throw OKXError.parameterError("newSz").with(
                message: "Parameter newSz error: the new size counts what the order filled (\(filled)) and must exceed it")
        }
        return size
    }

    /// A parameter error about `old` restated about the amendment's `new` parameter (51000 sz → 51000 newSz).
    private static func renamed(_ error: OKXError, _ old: String, _ new: String) -> OKXError {
        guard error.code == OKXError.parameterError(old).code, error.message.contains("Parameter \(old) ") else { return error }
        return error.with(message: error.message.replacingOccurrences(of: "Parameter \(old) ", with: "Parameter \(new) "))
    }

    /// The book a placement plans on. An amendment leaves its order where it rests when it keeps its place in the
    /// queue (same price, no larger) — the same side never matches it — and takes it off otherwise: the order then
    /// matches what its new price crosses and, if it rests, joins the back of its level.
    func bookForPlacing(_ instrument: String, replacing original: Order?, price: Int64?, size: Int64) -> OrderBook {
        var book = books[instrument] ?? OrderBook()
        if let original, let resting = original.price, !Self.keepsPlace(original, price: price, size: size) {
            book.remove(id: original.id, side: original.side, price: resting)
        }
        return book
    }

    /// Whether an amendment to `price` and `size` keeps the order's place in the queue: only a smaller (or the same)
    /// size at the same price does.
    static func keepsPlace(_ original: Order, price: Int64?, size: Int64) -> Bool {
        original.price == price && size <= original.size
    }

    /// What the store records of an amendment (nil for a new order).
    static func amendment(of original: Order?, to price: Int64?, size: Int64, increase: Int64?, by key: APIKey) -> Amendment? {
        guard let original else { return nil }
        return Amendment(apiKey: key.apiKey, increase: increase ?? 0, requeued: !keepsPlace(original, price: price, size: size))
    }

    /// The open order as an amendment starts it: the new price and size, nothing frozen yet.
    static func amended(_ original: Order, price: Int64?, size: Int64, at now: Int64) -> Order {
        var order = original
        order.price = price
        order.size = size
        order.frozen = 0
        order.updatedAt = now
        return order
    }

    /// The balance line that releases what an amended order froze, first in its movement (so its new fills and hold
    /// can use it); none when it froze nothing.
    static func release(_ original: Order, currency: String) -> [LedgerEntry] {
        guard original.frozen > 0 else { return [] }
        return [
            LedgerEntry(
                account: original.account, kind: .trading, currency: currency, availableDelta: original.frozen,
                frozenDelta: -original.frozen)
        ]
    }

    /// What an amendment adds to its order's value towards the key's daily limit: the new value beyond the value of
    /// the order's size at its price before (nil for a new order, which counts all of its value).
    static func increase(_ notional: Int64, over original: Order?, _ inst: Instrument) -> Int64? {
        guard let original, let price = original.price else { return nil }
        let before = inst.type == .swap ? inst.contractValue(price: price, size: original.size) : inst.notional(price: price, size: original.size)
        return max(0, notional - (before ?? 0))
    }
}
