import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// Trading on `/ws/v5/private`, as OKX's WebSocket offers it: `order`, `batch-orders`, `cancel-order`,
/// `batch-cancel-orders`, `amend-order` and `batch-amend-orders`, each with a client `id` echoed in its one answer
///
///     {"id":"1512","op":"order","code":"0","msg":"","data":[{"ordId":…,"clOrdId":…,"sCode":"0",…}],"inTime":…,"outTime":…}
///
/// (code 1 when every item was refused, 2 when some were, each item with its own `sCode`). The same checks as REST:
/// the key as the cache holds it now (revoked, expired, frozen, allowlist), trade permission, maintenance, and the
/// rate limit of the REST endpoint it stands for, whose budget it shares; every change audited under the key.
enum WebSocketTradeOp: String, Sendable {
    case order, batchOrders = "batch-orders", cancelOrder = "cancel-order", batchCancelOrders = "batch-cancel-orders"
    case amendOrder = "amend-order", batchAmendOrders = "batch-amend-orders"

    var isBatch: Bool { [.batchOrders, .batchCancelOrders, .batchAmendOrders].contains(self) }

    /// The REST endpoint whose checks and rate-limit budget this op shares.
    var restRoute: String {
        switch self {
        case .order: "/api/v5/trade/order"
        case .batchOrders: "/api/v5/trade/batch-orders"
        case .cancelOrder: "/api/v5/trade/cancel-order"
        case .batchCancelOrders: "/api/v5/trade/cancel-batch-orders"
        case .amendOrder: "/api/v5/trade/amend-order"
        case .batchAmendOrders: "/api/v5/trade/amend-batch-orders"
        }
    }
}

/// A trading op's message: `id`, `op`, `args` (the REST bodies' objects) and an optional `expTime` (ms) after which
/// the request is not carried out.
struct WebSocketTradeRequest: Decodable {
    let id: String?
    let op: String
    let args: [[String: JSONScalar]]?
    let expTime: JSONScalar?
}

/// A trading op's answer.
struct WebSocketTradeAnswer<Item: Encodable & Sendable>: Encodable, Sendable {
    let id: String
    let op: String
    let code: String
    let msg: String
    let data: [Item]
    let inTime: String
    let outTime: String
}

extension WebSocketGateway {
    func trade(_ op: WebSocketTradeOp, text: String, on connection: WebSocketConnection) async {
        let inTime = clock.milliseconds
        func refuse(_ error: OKXError, id: String) {
            connection.send(answer(op, id: id, code: error.code, msg: error.message, data: [OrderReceipt](), inTime: inTime))
        }
        guard let request = try? JSONDecoder().decode(WebSocketTradeRequest.self, from: Data(text.utf8)) else {
            connection.send(PushHub.error(OKXError.webSocketInvalidRequest.with(message: "Invalid request: \(text.prefix(200))"), id: nil, connection: connection))
            return
        }
        // OKX asks for an `id`; python-okx sends none unless given one, so a missing id is answered with "".
        let id = request.id ?? ""
        guard id.count <= 32, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            refuse(OKXError.webSocketInvalidArguments.with(message: "Invalid args: id is up to 32 letters and digits"), id: "")
            return
        }
        guard connection.endpoint == .private else {
            refuse(OKXError.webSocketWrongURL.with(message: OKXError.webSocketWrongURL.message + " Trade on /ws/v5/private."), id: id)
            return
        }
        guard let held = connection.key else {
            refuse(OKXError.webSocketPleaseLogIn, id: id)
            return
        }
        let args = request.args ?? []
        let most = op.isBatch ? TradeOperations.maximumBatch : 1
        guard (1...most).contains(args.count) else {
            refuse(OKXError.webSocketInvalidArguments.with(message: "Invalid args: \(op.rawValue) takes 1 to \(most) items in args"), id: id)
            return
        }
        if let expTime = request.expTime, op != .cancelOrder, op != .batchCancelOrders {
            guard let text = expTime.text, let deadline = Int64(text) else {
                refuse(OKXError.webSocketInvalidArguments.with(message: "Invalid args: expTime is a Unix time in milliseconds"), id: id)
                return
            }
            guard inTime <= deadline else {
                // Each item is refused, as OKX answers a request carried out too late.
                let expired = OKXError.orderExpired.with(message: "Order expired: expTime \(deadline) is before the server's \(inTime)")
                let items = args.map { operations.refusal(expired, OKXParameters($0)) }
                connection.send(answer(op, id: id, codes: items.map(\.sCode), data: items, inTime: inTime))
                return
            }
        }
        let cached: CachedKey
        do throws(OKXError) {
            try maintenance.checkTrading()
            cached = try authenticator.authorize(
                held.key.apiKey, clientIP: connection.clientIP, requiring: .trade,
                family: EndpointFamily.of(method: "POST", routePath: op.restRoute), now: inTime)
        } catch {
            audit(op, id: id, key: held, result: error.code, on: connection, at: inTime)
            refuse(error, id: id)
            return
        }
        var items: [OKXParameters] = []
        for arg in args { items.append(OKXParameters(await withInstrument(arg, op: op, account: cached.account.uid))) }
        let origin = AuditOrigin(
            actor: cached.key.apiKey, action: "ws \(op.rawValue) /ws/v5/private", requestID: "\(connection.id)-\(id)",
            clientIP: connection.clientIP?.description ?? "")
        let message: String, codes: [String]
        switch op {
        case .order, .batchOrders:
            let receipts = await operations.place(items, by: cached, origin: origin)
            codes = receipts.map(\.sCode)
            message = answer(op, id: id, codes: codes, data: receipts, inTime: inTime)
        case .cancelOrder, .batchCancelOrders:
            let receipts = await operations.cancel(items, by: cached, origin: origin)
            codes = receipts.map(\.sCode)
            message = answer(op, id: id, codes: codes, data: receipts, inTime: inTime)
        case .amendOrder, .batchAmendOrders:
            let receipts = await operations.amend(items, by: cached, origin: origin)
            codes = receipts.map(\.sCode)
            message = answer(op, id: id, codes: codes, data: receipts, inTime: inTime)
        }
        // What changed is audited in its own transaction; a refused item is audited here.
        if codes.contains(where: { $0 != "0" }) {
            audit(op, id: id, key: cached, result: ([TradeOperations.summary(codes).code] + codes).joined(separator: ","), on: connection, at: inTime)
        }
        connection.send(message)
    }

    /// A cancel or amendment without `instId` (ccxt's `cancel_order_ws` sends `instIdCode: null` and the order's id)
    /// names the instrument of the account's order it identifies.
    private func withInstrument(_ arg: [String: JSONScalar], op: WebSocketTradeOp, account: String) async -> [String: JSONScalar] {
        guard op != .order, op != .batchOrders, (arg["instId"]?.text ?? "").isEmpty else { return arg }
        var order: Order?
        if let text = arg["ordId"]?.text, let id = Int64(text) {
            order = try? await orders.order(id: id)
        } else if let clientID = arg["clOrdId"]?.text, !clientID.isEmpty {
            order = try? await orders.order(clientOrderID: clientID, account: account)
        }
        guard let order, order.account == account else { return arg }
        var named = arg
        named["instId"] = JSONScalar(text: order.instrument)
        return named
    }

    private func answer<Item: Encodable & Sendable>(_ op: WebSocketTradeOp, id: String, codes: [String], data: [Item], inTime: Int64) -> String {
        let (code, msg) = TradeOperations.summary(codes)
        return answer(op, id: id, code: code, msg: msg, data: data, inTime: inTime)
    }

    private func answer<Item: Encodable & Sendable>(
        _ op: WebSocketTradeOp, id: String, code: String, msg: String, data: [Item], inTime: Int64
    ) -> String {
        let message = WebSocketTradeAnswer(
            id: id, op: op.rawValue, code: code, msg: msg, data: data, inTime: String(inTime * 1000), outTime: String(clock.milliseconds * 1000))
        return (try? String(buffer: OKXJSON.encode(message))) ?? "{}"
    }

    private func audit(_ op: WebSocketTradeOp, id: String, key: CachedKey, result: String, on connection: WebSocketConnection, at time: Int64) {
        var record = AuditRecord(
            time: time, requestID: "\(connection.id)-\(id)", actor: key.key.apiKey, action: "ws \(op.rawValue) /ws/v5/private",
            clientIP: connection.clientIP?.description ?? "")
        record.account = key.account.uid
        record.result = result
        let queue = auditQueue
        Task { await queue.add(record) }
    }
}
