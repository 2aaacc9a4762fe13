import Foundation
import KeysmithCore

/// ``OrderStore`` on either database: an order, its fills, the makers it filled and its ledger movements commit
/// together with its audit event, in one write transaction.
public struct SQLOrderStore: OrderStore {
    let database: SQLDatabase

    public init(database: SQLDatabase) {
        self.database = database
    }

    public func place(_ placement: OrderPlacement, audit: AuditRecord) async throws(StoreError)
        -> (order: Order, fills: [Fill], positions: [Position])
    {
        try await database.write { tx throws(StoreError) in
            var order = placement.order
            if order.id != 0 {
                // An amendment: the open order takes its new price, size, fills and hold. One sent to the back of the
                // queue takes the next value of the orders' id sequence as its place (no order will have that id), so
                // the books rebuild with it behind every order that was there before it and ahead of later ones.
                let amendment = placement.amendment
                var place: Int64?
                if amendment?.requeued ?? true {
                    place = try tx.value(
                        .either(
                            sqlite: "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'spot_order' RETURNING seq",
                            postgres: "SELECT nextval(pg_get_serial_sequence('spot_order', 'id'))"),
                        as: Int64.self)
                    guard place != nil else { throw StoreError.database("the orders' id sequence could not be read") }
                }
                let amended = try tx.execute(
                    """
                    UPDATE spot_order SET price = \(order.price), size = \(order.size), filled = \(order.filled),
                    filled_notional = \(order.filledNotional), filled_value = \(order.filledValue), state = \(order.state.rawValue),
                    frozen = \(order.frozen), fee = \(order.fee), queue_seq = COALESCE(\(place), queue_seq),
                    updated_at = \(order.updatedAt) WHERE id = \(order.id) AND state IN ('live', 'partially_filled')
                    """)
                guard amended == 1 else { throw StoreError.notFound(.openOrder, "order \(order.id) is not open") }
                if let amendment, amendment.increase > 0 {
                    try tx.execute(
                        "INSERT INTO amend_spending (api_key, at, amount) VALUES (\(amendment.apiKey), \(order.updatedAt), \(amendment.increase))")
                }
            } else {
                if !order.clientOrderID.isEmpty,
                    try tx.exists("SELECT 1 FROM spot_order WHERE account_uid = \(order.account) AND client_order_id = \(order.clientOrderID)")
                {
                    throw StoreError.duplicate(.clientOrderID, "clOrdId \(order.clientOrderID) already exists")
                }
                order.id = try SQLLedgerStore.insert(
                    """
                    INSERT INTO spot_order (client_order_id, tag, account_uid, api_key, inst_id, side, ord_type, price, size, tgt_ccy,
                    filled, filled_notional, filled_value, state, frozen, fee, notional, created_at, updated_at, td_mode, pos_side,
                    reduce_only, lever)
                    VALUES (\(order.clientOrderID), \(order.tag), \(order.account), \(order.apiKey), \(order.instrument),
                    \(order.side.rawValue), \(order.type.rawValue), \(order.price), \(order.size), \(order.targetCurrency), \(order.filled),
                    \(order.filledNotional), \(order.filledValue), \(order.state.rawValue), \(order.frozen), \(order.fee),
                    \(placement.notional), \(order.createdAt), \(order.updatedAt), \(order.tradeMode), \(order.swap?.positionSide.rawValue ?? ""),
                    \(order.swap?.reduceOnly == true ? 1 : 0), \(order.swap?.leverage.description ?? ""))
                    RETURNING id
                    """, in: tx)
            }
            var fills: [Fill] = []
            fills.reserveCapacity(placement.fills.count)
            for var fill in placement.fills {
                fill.takerOrder = order.id
                fill.takerClientOrderID = order.clientOrderID
                fill.takerTag = order.tag
                fill.tradeID = try SQLLedgerStore.insert(
                    """
                    INSERT INTO fill (inst_id, taker_order, maker_order, taker_uid, maker_uid, side, price, size, notional, time,
                    taker_fee, maker_fee, taker_fee_rate, maker_fee_rate, taker_pnl, maker_pnl)
                    VALUES (\(fill.instrument), \(fill.takerOrder), \(fill.makerOrder), \(fill.takerAccount), \(fill.makerAccount),
                    \(fill.side.rawValue), \(fill.price), \(fill.size), \(fill.notional), \(fill.time), \(fill.takerFee), \(fill.makerFee),
                    \(fill.takerFeeRate.text), \(fill.makerFeeRate.text), \(fill.takerPnl), \(fill.makerPnl))
                    RETURNING trade_id
                    """, in: tx)
                fills.append(fill)
            }
            for maker in placement.makers {
                let lastTrade = fills.last(where: { $0.makerOrder == maker.id })?.tradeID
                try tx.execute(
                    """
                    UPDATE spot_order SET filled = \(maker.filled), filled_notional = \(maker.filledNotional),
                    filled_value = \(maker.filledValue), state = \(maker.state.rawValue), frozen = \(maker.frozen), fee = \(maker.fee),
                    last_trade_id = COALESCE(\(lastTrade), last_trade_id), updated_at = \(maker.updatedAt) WHERE id = \(maker.id)
                    """)
            }
            if let last = fills.last {
                try tx.execute("UPDATE spot_order SET last_trade_id = \(last.tradeID) WHERE id = \(order.id)")
            }
            for var movement in placement.movements {
                // Trade lines name the new order as 0 and each fill by its index until now.
                for index in movement.entries.indices {
                    guard var line = movement.entries[index].trade else { continue }
                    if line.order == 0 { line.order = order.id }
                    guard fills.indices.contains(Int(line.trade)) else { throw StoreError.database("a trade line names no fill") }
                    line.trade = fills[Int(line.trade)].tradeID
                    movement.entries[index].trade = line
                }
                try SQLLedgerStore.apply(movement, kind: "order", reference: String(order.id), at: order.updatedAt, in: tx)
            }
            let positions = try Self.save(placement.positions, closed: placement.closedPositions, fills: fills, in: tx)
            var record = audit
            record.target = String(order.id)
            try AuditLog.append([record], in: tx)
            return (order, fills, positions)
        }
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
        try await database.fetchOne("\(unsafe: Self.orderColumns) WHERE o.id = \(id)", Self.order)
    }

    public func order(clientOrderID: String, account: String) async throws(StoreError) -> Order? {
        try await database.fetchOne(
            "\(unsafe: Self.orderColumns) WHERE o.account_uid = \(account) AND o.client_order_id = \(clientOrderID)", Self.order)
    }

    public func orders(account: String, matching query: OrderQuery) async throws(StoreError) -> [Order] {
        let page = query.page
        let found = try await database.fetchAll(
            """
            \(unsafe: Self.orderColumns) WHERE o.account_uid = \(account) AND (o.state IN ('live', 'partially_filled')) = \(query.open)
            AND (CAST(\(query.instrument) AS TEXT) IS NULL OR o.inst_id = \(query.instrument))
            AND (CAST(\(query.instrumentType) AS TEXT) IS NULL
                OR o.inst_id IN (SELECT inst_id FROM instrument WHERE inst_type = \(query.instrumentType)))
            AND (CAST(\(query.type?.rawValue) AS TEXT) IS NULL OR o.ord_type = \(query.type?.rawValue))
            AND (CAST(\(query.state?.rawValue) AS TEXT) IS NULL OR o.state = \(query.state?.rawValue))
            AND (CAST(\(page.after) AS BIGINT) IS NULL OR o.id < \(page.after))
            AND (CAST(\(page.before) AS BIGINT) IS NULL OR o.id > \(page.before))
            AND (CAST(\(page.begin) AS BIGINT) IS NULL OR o.created_at >= \(page.begin))
            AND (CAST(\(page.end) AS BIGINT) IS NULL OR o.created_at <= \(page.end))
            ORDER BY o.id \(unsafe: page.readsOldestFirst ? "ASC" : "DESC") LIMIT \(page.limit)
            """, Self.order)
        return page.readsOldestFirst ? found.reversed() : found
    }

    public func openOrders() async throws(StoreError) -> [Order] {
        try await database.fetchAll(
            "\(unsafe: Self.orderColumns) WHERE o.state IN ('live', 'partially_filled') ORDER BY COALESCE(o.queue_seq, o.id), o.id", Self.order)
    }

    public func fills(account: String, matching query: FillQuery) async throws(StoreError) -> [Fill] {
        let page = query.page
        let found = try await database.fetchAll(
            """
            \(unsafe: Self.fillColumns) WHERE (fill.taker_uid = \(account) OR fill.maker_uid = \(account))
            AND (CAST(\(query.instrument) AS TEXT) IS NULL OR fill.inst_id = \(query.instrument))
            AND (CAST(\(query.instrumentType) AS TEXT) IS NULL
                OR fill.inst_id IN (SELECT inst_id FROM instrument WHERE inst_type = \(query.instrumentType)))
            AND (CAST(\(query.orderID) AS BIGINT) IS NULL
                OR (fill.taker_order = \(query.orderID) AND fill.taker_uid = \(account))
                OR (fill.maker_order = \(query.orderID) AND fill.maker_uid = \(account)))
            AND (CAST(\(page.after) AS BIGINT) IS NULL OR fill.trade_id < \(page.after))
            AND (CAST(\(page.before) AS BIGINT) IS NULL OR fill.trade_id > \(page.before))
            AND (CAST(\(page.begin) AS BIGINT) IS NULL OR fill.time >= \(page.begin))
            AND (CAST(\(page.end) AS BIGINT) IS NULL OR fill.time <= \(page.end))
            ORDER BY fill.trade_id \(unsafe: page.readsOldestFirst ? "ASC" : "DESC") LIMIT \(page.limit)
            """, Self.fill)
        return page.readsOldestFirst ? found.reversed() : found
    }

    public func trades(instrument: String, limit: Int) async throws(StoreError) -> [Fill] {
        try await database.fetchAll("\(unsafe: Self.publicFillColumns) WHERE inst_id = \(instrument) ORDER BY trade_id DESC LIMIT \(limit)", Self.fill)
    }

    public func trades(instrument: String, matching page: Page, byTime: Bool) async throws(StoreError) -> [Fill] {
        // Sorted by the cursor itself (then trade id), so pages by time neither skip nor repeat a trade.
        let cursor = byTime ? "time" : "trade_id", direction = page.readsOldestFirst ? "ASC" : "DESC"
        let found = try await database.fetchAll(
            """
            \(unsafe: Self.publicFillColumns) WHERE inst_id = \(instrument)
            AND (CAST(\(page.after) AS BIGINT) IS NULL OR \(unsafe: cursor) < \(page.after))
            AND (CAST(\(page.before) AS BIGINT) IS NULL OR \(unsafe: cursor) > \(page.before))
            ORDER BY \(unsafe: cursor) \(unsafe: direction), trade_id \(unsafe: direction) LIMIT \(page.limit)
            """, Self.fill)
        return page.readsOldestFirst ? found.reversed() : found
    }

    public func notional(apiKey: String, since time: Int64) async throws(StoreError) -> Int64 {
        try await database.value(
            """
            SELECT CAST(COALESCE((SELECT SUM(notional) FROM spot_order WHERE api_key = \(apiKey) AND created_at >= \(time)), 0)
            + COALESCE((SELECT SUM(amount) FROM amend_spending WHERE api_key = \(apiKey) AND at >= \(time)), 0) AS BIGINT)
            """,
            as: Int64.self) ?? 0
    }

    // MARK: - Rows

    /// A fill with both orders' clOrdId and tag.
    static let fillColumns = """
        SELECT fill.*, t.client_order_id AS taker_cl_ord_id, t.tag AS taker_tag, m.client_order_id AS maker_cl_ord_id,
        m.tag AS maker_tag, t.pos_side AS taker_pos_side, m.pos_side AS maker_pos_side FROM fill LEFT JOIN spot_order t ON t.id = fill.taker_order LEFT JOIN spot_order m ON m.id = fill.maker_order
        """

    /// A public trade: no order's clOrdId or tag.
    static let publicFillColumns = """
        SELECT fill.*, NULL AS taker_cl_ord_id, NULL AS taker_tag, NULL AS maker_cl_ord_id, NULL AS maker_tag,
        NULL AS taker_pos_side, NULL AS maker_pos_side FROM fill
        """

    /// An order (`o`) with its latest fill.
    static let orderColumns = """
        SELECT o.*, f.price AS last_fill_px, f.size AS last_fill_sz, f.time AS last_fill_time
        FROM spot_order o LEFT JOIN fill f ON f.trade_id = o.last_trade_id
        """

    static func fill(_ row: SQLRow) throws(StoreError) -> Fill {
        var fill = Fill(
            tradeID: try row("trade_id"), instrument: try row("inst_id"), takerOrder: try row("taker_order"),
            makerOrder: try row("maker_order"), takerAccount: try row("taker_uid"), makerAccount: try row("maker_uid"),
            side: OrderSide(rawValue: try row("side")) ?? .buy, price: try row("price"), size: try row("size"),
            notional: try row("notional"), time: try row("time"))
        fill.takerFee = try row("taker_fee")
        fill.makerFee = try row("maker_fee")
        fill.takerFeeRate = Amount(parsing: try row("taker_fee_rate", as: String.self), scale: FeeRates.scale) ?? fill.takerFeeRate
        fill.makerFeeRate = Amount(parsing: try row("maker_fee_rate", as: String.self), scale: FeeRates.scale) ?? fill.makerFeeRate
        fill.takerClientOrderID = try row("taker_cl_ord_id", as: String?.self) ?? ""
        fill.takerTag = try row("taker_tag", as: String?.self) ?? ""
        fill.makerClientOrderID = try row("maker_cl_ord_id", as: String?.self) ?? ""
        fill.makerTag = try row("maker_tag", as: String?.self) ?? ""
        fill.takerPositionSide = try row("taker_pos_side", as: String?.self) ?? ""
        fill.makerPositionSide = try row("maker_pos_side", as: String?.self) ?? ""
        fill.takerPnl = try row("taker_pnl")
        fill.makerPnl = try row("maker_pnl")
        return fill
    }

    static func order(_ row: SQLRow) throws(StoreError) -> Order {
        guard let side = OrderSide(rawValue: try row("side")), let type = OrderType(rawValue: try row("ord_type")),
            let state = OrderState(rawValue: try row("state"))
        else { throw StoreError.database("unreadable order \(try row("id", as: Int64.self))") }
        var order = Order(
            id: try row("id"), clientOrderID: try row("client_order_id"), tag: try row("tag"), account: try row("account_uid"),
            apiKey: try row("api_key"), instrument: try row("inst_id"), side: side, type: type, price: try row("price"),
            size: try row("size"), targetCurrency: try row("tgt_ccy"), filled: try row("filled"),
            filledNotional: try row("filled_notional"), filledValue: try row("filled_value"), state: state, frozen: try row("frozen"),
            fee: try row("fee"), lastFill: try lastFill(row), createdAt: try row("created_at"), updatedAt: try row("updated_at"))
        if let margin = MarginMode(rawValue: try row("td_mode")) {
            guard let side = PositionSide(rawValue: try row("pos_side")),
                let leverage = Amount(parsing: try row("lever", as: String.self), scale: Leverage.scale).flatMap({ Leverage(hundredths: $0.units) })
            else { throw StoreError.database("unreadable SWAP order \(order.id)") }
            order.swap = SwapTerms(marginMode: margin, positionSide: side, reduceOnly: try row("reduce_only", as: Int64.self) != 0, leverage: leverage)
        }
        return order
    }

    private static func lastFill(_ row: SQLRow) throws(StoreError) -> LastFill? {
        guard let trade = try row("last_trade_id", as: Int64?.self), let price = try row("last_fill_px", as: Int64?.self),
            let size = try row("last_fill_sz", as: Int64?.self), let time = try row("last_fill_time", as: Int64?.self)
        else { return nil }
        return LastFill(tradeID: trade, price: price, size: size, time: time)
    }
}
