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
        // A request refused before anything is carried out costs the client nothing but a message, so a connection
        // may have only so many of them an hour: one more closes it.
        func refuse(_ error: OKXError, id: String, answer text: String? = nil) {
            // The server's own trouble (50001) is not counted against the client.
            guard error.code == OKXError.serviceUnavailable.code || connection.countRefusal(limit: limits.refusalsPerHour) else {
                let notice = OKXError.webSocketTooFrequent.with(
                    message: "Too many refused requests on this connection (\(limits.refusalsPerHour) an hour); connection closed")
                connection.finish(with: PushHub.error(notice, id: id, connection: connection))
                return
            }
            connection.send(text ?? answer(op, id: id, code: error.code, msg: error.message, data: [OrderReceipt](), inTime: inTime))
        }
        guard let request = try? JSONDecoder().decode(WebSocketTradeRequest.self, from: Data(text.utf8)) else {
            refuse(OKXError.webSocketInvalidRequest, id: "", answer: PushHub.error(Self.illegal(text), id: nil, connection: connection))
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
        // The key first, as REST checks it before the request: revoked or expired, frozen, allowlist, permission,
        // this node's and the shared rate limits; then maintenance and the deadline.
        let cached: CachedKey
        do throws(OKXError) {
            try checkFreshness()
            cached = try authenticator.authorize(
                held.key.apiKey, clientIP: connection.clientIP, requiring: .trade, family: family(of: op), now: inTime)
            try await takeShared(cached, op: op, now: inTime)
            try maintenance.checkTrading()
        } catch {
            await audit(op, id: id, key: held, result: error.code, on: connection, at: inTime)
            refuse(error, id: id)
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
                await audit(op, id: id, key: cached, result: expired.code, on: connection, at: inTime)
                refuse(expired, id: id, answer: answer(op, id: id, codes: items.map(\.sCode), data: items, inTime: inTime))
                return
            }
        }
        var items: [OKXParameters] = []
        do {
            for arg in args { items.append(OKXParameters(try await withInstrument(arg, op: op, account: cached.account.uid))) }
        } catch {
            await audit(op, id: id, key: cached, result: OKXError.serviceUnavailable.code, on: connection, at: inTime)
            refuse(OKXError.serviceUnavailable, id: id)
            return
        }
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
            await audit(op, id: id, key: cached, result: ([TradeOperations.summary(codes).code] + codes).joined(separator: ","), on: connection, at: inTime)
        }
        connection.send(message)
    }

    /// A cancel or amendment without `instId` (ccxt's `cancel_order_ws` sends `instIdCode: null` and the order's id)
    /// names the instrument of the account's order it identifies.
    /// (An order that is not found leaves the item as it is, to be refused as REST refuses it; a store that cannot
    /// be read throws.)
    private func withInstrument(_ arg: [String: JSONScalar], op: WebSocketTradeOp, account: String) async throws -> [String: JSONScalar] {
        guard op != .order, op != .batchOrders, (arg["instId"]?.text ?? "").isEmpty else { return arg }
        var order: Order?
        if let text = arg["ordId"]?.text, let id = Int64(text) {
            order = try await orders.order(id: id)
        } else if let clientID = arg["clOrdId"]?.text, !clientID.isEmpty {
            order = try await orders.order(clientOrderID: clientID, account: account)
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

    private func family(of op: WebSocketTradeOp) -> EndpointFamily { EndpointFamily.of(method: "POST", routePath: op.restRoute) }

    /// The rate limit shared across nodes (PostgreSQL), after this node's own: 50011 when spent, 50001 when the
    /// database cannot be asked.
    private func takeShared(_ key: CachedKey, op: WebSocketTradeOp, now: Int64) async throws(OKXError) {
        guard let sharedLimits else { return }
        let retry: Int64?
        do {
            retry = try await sharedLimits.take(subject: key.key.apiKey, family: family(of: op), override: key.key.rateLimit, now: now)
        } catch {
            throw OKXError.serviceUnavailable
        }
        if let retry { throw OKXError.tooManyRequests.retrying(after: retry) }
    }

    /// OKX's event for a trading message it cannot read.
    static func illegal(_ text: String) -> OKXError {
        OKXError.webSocketInvalidRequest.with(message: "Illegal request: \(text.prefix(200))")
    }

    /// Audited before the answer is sent: a client refused faster than records are written waits for the writer.
    private func audit(
        _ op: WebSocketTradeOp, id: String, key: CachedKey, result: String, on connection: WebSocketConnection, at time: Int64
    ) async {
        var record = AuditRecord(
            time: time, requestID: "\(connection.id)-\(id)", actor: key.key.apiKey, action: "ws \(op.rawValue) /ws/v5/private",
            clientIP: connection.clientIP?.description ?? "")
        record.account = key.account.uid
        record.result = result
        await auditQueue.add(record)
    }
}
