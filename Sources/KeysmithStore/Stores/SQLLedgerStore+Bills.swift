import KeysmithCore

extension SQLLedgerStore {
    /// The account's trading-account bills that `query` selects, newest first: one per ledger line that changed a
    /// trading balance (a freeze or its release changes none), with the balance that line left, so a listing always
    /// reconciles with the balances.
    public func bills(account: String, matching query: BillQuery) async throws(StoreError) -> [Bill] {
        let page = query.page
        // A type or subtype that no bill has is answered at once rather than by reading the whole history for nothing.
        let kinds: [String: String] = ["1": "transfer", "2": "order", "8": "funding"]
        if let type = query.type, kinds[type] == nil { return [] }
        if let subType = query.subType, !["1", "2", "3", "4", "5", "6", "11", "12", "173", "174"].contains(subType) { return [] }
        let movementKind = query.type.flatMap { kinds[$0] }
        let found = try await database.fetchAll(
            """
            SELECT * FROM (
                SELECT e.id, e.ccy, e.available_delta + e.frozen_delta AS bal_chg, e.balance_after, e.fee, m.created_at AS ts,
                e.order_id, e.trade_id, o.client_order_id, o.tag,
                COALESCE(f.inst_id, CASE WHEN m.kind = 'funding' THEN m.reference END) AS inst_id, f.price, f.time AS fill_time,
                f.taker_order, t.from_kind, t.to_kind, COALESCE(o.td_mode, '') AS mgn_mode,
                CASE WHEN f.taker_order = e.order_id THEN f.taker_pnl WHEN f.maker_order = e.order_id THEN f.maker_pnl ELSE 0 END AS pnl,
                CASE WHEN m.kind = 'transfer' THEN '1' WHEN m.kind = 'funding' THEN '8' ELSE '2' END AS bill_type,
                CASE WHEN m.kind = 'transfer' THEN (CASE WHEN e.available_delta + e.frozen_delta > 0 THEN '11' ELSE '12' END)
                    WHEN m.kind = 'funding' THEN (CASE WHEN e.available_delta + e.frozen_delta > 0 THEN '174' ELSE '173' END)
                    WHEN o.td_mode IS NULL OR o.td_mode = 'cash' THEN (CASE o.side WHEN 'buy' THEN '1' WHEN 'sell' THEN '2' ELSE '' END)
                    WHEN o.pos_side = 'long' THEN (CASE o.side WHEN 'buy' THEN '3' ELSE '5' END)
                    WHEN o.pos_side = 'short' THEN (CASE o.side WHEN 'sell' THEN '4' ELSE '6' END)
                    WHEN o.reduce_only != 0 THEN (CASE o.side WHEN 'sell' THEN '5' ELSE '6' END)
                    ELSE (CASE o.side WHEN 'buy' THEN '3' ELSE '4' END) END AS bill_sub_type
                FROM ledger_entry e JOIN movement m ON m.id = e.movement_id
                LEFT JOIN spot_order o ON o.id = e.order_id
                LEFT JOIN fill f ON f.trade_id = e.trade_id
                LEFT JOIN transfer t ON t.id = CASE WHEN m.kind = 'transfer' THEN CAST(m.reference AS BIGINT) END
                WHERE e.account_uid = \(account) AND e.kind = '18' AND e.available_delta + e.frozen_delta != 0
                AND (CAST(\(movementKind) AS TEXT) IS NULL OR m.kind = \(movementKind))
                AND (CAST(\(query.currency) AS TEXT) IS NULL OR e.ccy = \(query.currency))
                AND (CAST(\(page.after) AS BIGINT) IS NULL OR e.id < \(page.after))
                AND (CAST(\(page.before) AS BIGINT) IS NULL OR e.id > \(page.before))
            ) AS bill
            WHERE (CAST(\(query.subType) AS TEXT) IS NULL OR bill_sub_type = \(query.subType))
            AND (CAST(\(query.instrument) AS TEXT) IS NULL OR inst_id = \(query.instrument))
            AND (CAST(\(query.instrumentType) AS TEXT) IS NULL
                OR inst_id IN (SELECT inst_id FROM instrument WHERE inst_type = \(query.instrumentType)))
            AND (CAST(\(query.marginMode) AS TEXT) IS NULL OR mgn_mode = \(query.marginMode))
            AND (CAST(\(page.begin) AS BIGINT) IS NULL OR ts >= \(page.begin))
            AND (CAST(\(page.end) AS BIGINT) IS NULL OR ts <= \(page.end))
            ORDER BY id \(unsafe: page.readsOldestFirst ? "ASC" : "DESC") LIMIT \(page.limit)
            """, Self.bill)
        return page.readsOldestFirst ? found.reversed() : found
    }

    static func bill(_ row: SQLRow) throws(StoreError) -> Bill {
        let orderID: Int64? = try row("order_id"), takerOrder: Int64? = try row("taker_order")
        var bill = Bill(
            id: try row("id"), currency: try row("ccy"), type: try row("bill_type"), subType: try row("bill_sub_type"),
            change: try row("bal_chg"), balance: try row("balance_after", as: Int64?.self) ?? 0, fee: try row("fee"),
            time: try row("ts"), orderID: orderID, clientOrderID: try row("client_order_id", as: String?.self) ?? "",
            tag: try row("tag", as: String?.self) ?? "", tradeID: try row("trade_id"), instrument: try row("inst_id"),
            price: try row("price"), fillTime: try row("fill_time"),
            taker: orderID.flatMap { id in takerOrder.map { $0 == id } },
            from: (try row("from_kind", as: String?.self)).flatMap(BalanceKind.init(rawValue:)),
            to: (try row("to_kind", as: String?.self)).flatMap(BalanceKind.init(rawValue:)))
        bill.marginMode = try row("mgn_mode")
        bill.pnl = try row("pnl", as: Int64?.self) ?? 0
        return bill
    }
}
