import Foundation
import KeysmithCore

/// ``OrderStore`` on either database: an order, its fills, the makers it filled and its ledger movements commit
/// together with its audit event, in one write transaction.
public struct SQLOrderStore: OrderStore {
    let database: SQLDatabase

    public init(database: SQLDatabase) {
        self.database = database
    }

    public func place(_ placement: OrderPlacement, audit: AuditRecord) async throws(StoreError) -> (order: Order, fills: [Fill]) {
        let (order, fills) = try await database.write { tx throws(StoreError) in
            var order = placement.order
            if !order.clientOrderID.isEmpty,
                try tx.exists("SELECT 1 FROM spot_order WHERE account_uid = \(order.account) AND client_order_id = \(order.clientOrderID)")
            {
                throw StoreError.duplicate(.clientOrderID, "clOrdId \(order.clientOrderID) already exists")
            }
            order.id = try SQLLedgerStore.insert(
                """
                INSERT INTO spot_order (client_order_id, tag, account_uid, api_key, inst_id, side, ord_type, price, size, tgt_ccy,
                filled, filled_notional, filled_value, state, frozen, notional, created_at, updated_at)
                VALUES (\(order.clientOrderID), \(order.tag), \(order.account), \(order.apiKey), \(order.instrument),
                \(order.side.rawValue), \(order.type.rawValue), \(order.price), \(order.size), \(order.targetCurrency), \(order.filled),
                \(order.filledNotional), \(order.filledValue), \(order.state.rawValue), \(order.frozen), \(placement.notional), \(order.createdAt),
                \(order.updatedAt))
                RETURNING id
                """, in: tx)
            for maker in placement.makers {
                try tx.execute(
                    """
                    UPDATE spot_order SET filled = \(maker.filled), filled_notional = \(maker.filledNotional),
                    filled_value = \(maker.filledValue), state = \(maker.state.rawValue), frozen = \(maker.frozen), updated_at = \(maker.updatedAt) WHERE id = \(maker.id)
                    """)
            }
            var fills: [Fill] = []
            fills.reserveCapacity(placement.fills.count)
            for var fill in placement.fills {
                fill.takerOrder = order.id
                fill.tradeID = try SQLLedgerStore.insert(
                    """
                    INSERT INTO fill (inst_id, taker_order, maker_order, taker_uid, maker_uid, side, price, size, notional, time)
                    VALUES (\(fill.instrument), \(fill.takerOrder), \(fill.makerOrder), \(fill.takerAccount), \(fill.makerAccount),
                    \(fill.side.rawValue), \(fill.price), \(fill.size), \(fill.notional), \(fill.time))
                    RETURNING trade_id
                    """, in: tx)
                fills.append(fill)
            }
            for movement in placement.movements {
                try SQLLedgerStore.apply(movement, kind: "order", reference: String(order.id), at: order.createdAt, in: tx)
            }
            var record = audit
            record.target = String(order.id)
            try AuditLog.append([record], in: tx)
            return (order, fills)
        }
        return (order, fills)
    }

    public func cancel(_ order: Order, release: LedgerMovement?, at time: Int64, audit: AuditRecord) async throws(StoreError) -> Order {
        try await database.write { tx throws(StoreError) in
            let canceled = try tx.execute(
                """
                UPDATE spot_order SET state = 'canceled', frozen = 0, updated_at = \(time)
                WHERE id = \(order.id) AND state IN ('live', 'partially_filled')
                """)
            guard canceled == 1 else { throw StoreError.notFound(.openOrder, "order \(order.id) is not open") }
            if let release {
                try SQLLedgerStore.apply(release, kind: "order.cancel", reference: String(order.id), at: time, in: tx)
            }
            try AuditLog.append([audit], in: tx)
            var result = order
            result.state = .canceled
            result.frozen = 0
            result.updatedAt = time
            return result
        }
    }

    public func order(id: Int64) async throws(StoreError) -> Order? {
        try await database.fetchOne("SELECT * FROM spot_order WHERE id = \(id)", Self.order)
    }

    public func order(clientOrderID: String, account: String) async throws(StoreError) -> Order? {
        try await database.fetchOne(
            "SELECT * FROM spot_order WHERE account_uid = \(account) AND client_order_id = \(clientOrderID)", Self.order)
    }

    public func orders(account: String, matching query: OrderQuery) async throws(StoreError) -> [Order] {
        let page = query.page
        let found = try await database.fetchAll(
            """
            SELECT * FROM spot_order WHERE account_uid = \(account) AND (state IN ('live', 'partially_filled')) = \(query.open)
            AND (CAST(\(query.instrument) AS TEXT) IS NULL OR inst_id = \(query.instrument))
            AND (CAST(\(query.type?.rawValue) AS TEXT) IS NULL OR ord_type = \(query.type?.rawValue))
            AND (CAST(\(query.state?.rawValue) AS TEXT) IS NULL OR state = \(query.state?.rawValue))
            AND (CAST(\(page.after) AS BIGINT) IS NULL OR id < \(page.after))
            AND (CAST(\(page.before) AS BIGINT) IS NULL OR id > \(page.before))
            AND (CAST(\(page.begin) AS BIGINT) IS NULL OR created_at >= \(page.begin))
            AND (CAST(\(page.end) AS BIGINT) IS NULL OR created_at <= \(page.end))
            ORDER BY id \(unsafe: page.readsOldestFirst ? "ASC" : "DESC") LIMIT \(page.limit)
            """, Self.order)
        return page.readsOldestFirst ? found.reversed() : found
    }

    public func openOrders() async throws(StoreError) -> [Order] {
        try await database.fetchAll("SELECT * FROM spot_order WHERE state IN ('live', 'partially_filled') ORDER BY id", Self.order)
    }

    public func fills(account: String, matching query: FillQuery) async throws(StoreError) -> [Fill] {
        let page = query.page
        let found = try await database.fetchAll(
            """
            SELECT * FROM fill WHERE (taker_uid = \(account) OR maker_uid = \(account))
            AND (CAST(\(query.instrument) AS TEXT) IS NULL OR inst_id = \(query.instrument))
            AND (CAST(\(query.orderID) AS BIGINT) IS NULL
                OR (taker_order = \(query.orderID) AND taker_uid = \(account)) OR (maker_order = \(query.orderID) AND maker_uid = \(account)))
            AND (CAST(\(page.after) AS BIGINT) IS NULL OR trade_id < \(page.after))
            AND (CAST(\(page.before) AS BIGINT) IS NULL OR trade_id > \(page.before))
            AND (CAST(\(page.begin) AS BIGINT) IS NULL OR time >= \(page.begin))
            AND (CAST(\(page.end) AS BIGINT) IS NULL OR time <= \(page.end))
            ORDER BY trade_id \(unsafe: page.readsOldestFirst ? "ASC" : "DESC") LIMIT \(page.limit)
            """, Self.fill)
        return page.readsOldestFirst ? found.reversed() : found
    }

    public func trades(instrument: String, limit: Int) async throws(StoreError) -> [Fill] {
        try await database.fetchAll("SELECT * FROM fill WHERE inst_id = \(instrument) ORDER BY trade_id DESC LIMIT \(limit)", Self.fill)
    }

    public func trades(instrument: String, matching page: Page, byTime: Bool) async throws(StoreError) -> [Fill] {
        // Sorted by the cursor itself (then trade id), so pages by time neither skip nor repeat a trade.
        let cursor = byTime ? "time" : "trade_id", direction = page.readsOldestFirst ? "ASC" : "DESC"
        let found = try await database.fetchAll(
            """
            SELECT * FROM fill WHERE inst_id = \(instrument)
            AND (CAST(\(page.after) AS BIGINT) IS NULL OR \(unsafe: cursor) < \(page.after))
            AND (CAST(\(page.before) AS BIGINT) IS NULL OR \(unsafe: cursor) > \(page.before))
            ORDER BY \(unsafe: cursor) \(unsafe: direction), trade_id \(unsafe: direction) LIMIT \(page.limit)
            """, Self.fill)
        return page.readsOldestFirst ? found.reversed() : found
    }

    public func notional(apiKey: String, since time: Int64) async throws(StoreError) -> Int64 {
        try await database.value(
            "SELECT CAST(COALESCE(SUM(notional), 0) AS BIGINT) FROM spot_order WHERE api_key = \(apiKey) AND created_at >= \(time)",
            as: Int64.self) ?? 0
    }

    // MARK: - Rows

    static func fill(_ row: SQLRow) throws(StoreError) -> Fill {
        Fill(
            tradeID: try row("trade_id"), instrument: try row("inst_id"), takerOrder: try row("taker_order"),
            makerOrder: try row("maker_order"), takerAccount: try row("taker_uid"), makerAccount: try row("maker_uid"),
            side: OrderSide(rawValue: try row("side")) ?? .buy, price: try row("price"), size: try row("size"),
            notional: try row("notional"), time: try row("time"))
    }

    static func order(_ row: SQLRow) throws(StoreError) -> Order {
        guard let side = OrderSide(rawValue: try row("side")), let type = OrderType(rawValue: try row("ord_type")),
            let state = OrderState(rawValue: try row("state"))
        else { throw StoreError.database("unreadable order \(try row("id", as: Int64.self))") }
        return Order(
            id: try row("id"), clientOrderID: try row("client_order_id"), tag: try row("tag"), account: try row("account_uid"),
            apiKey: try row("api_key"), instrument: try row("inst_id"), side: side, type: type, price: try row("price"),
            size: try row("size"), targetCurrency: try row("tgt_ccy"), filled: try row("filled"),
            filledNotional: try row("filled_notional"), filledValue: try row("filled_value"), state: state, frozen: try row("frozen"), createdAt: try row("created_at"),
            updatedAt: try row("updated_at"))
    }
}
