import KeysmithCore

extension SQLLedgerStore {
    /// The account's trading-account bills that `query` selects, newest first: one per ledger line that changed a
    /// trading balance (a freeze or its release changes none), with the balance that line left, so a listing always
    /// reconciles with the balances.
    public func bills(account: String, matching query: BillQuery) async throws(StoreError) -> [Bill] {
        let page = query.page
        // Trade bills are spot; a listing of another instrument type has none yet, nor does a type or subtype that
        // no bill has (answered at once rather than by reading the whole history for nothing).
        if let type = query.instrumentType, type != "SPOT" { return [] }
        let kinds: [String: String] = ["1": "transfer", "2": "order"]
        if let type = query.type, kinds[type] == nil { return [] }
        if let subType = query.subType, !["1", "2", "11", "12"].contains(subType) { return [] }
        let movementKind = query.type.flatMap { kinds[$0] }
        let found = try await database.fetchAll(
            """
            SELECT * FROM (
                SELECT e.id, e.ccy, e.available_delta + e.frozen_delta AS bal_chg, e.balance_after, e.fee, m.created_at AS ts,
                e.order_id, e.trade_id, o.client_order_id, o.tag, f.inst_id, f.price, f.time AS fill_time, f.taker_order,
                t.from_kind, t.to_kind,
                CASE WHEN m.kind = 'transfer' THEN '1' ELSE '2' END AS bill_type,
                CASE WHEN m.kind = 'transfer' THEN (CASE WHEN e.available_delta + e.frozen_delta > 0 THEN '11' ELSE '12' END)
                    WHEN o.side = 'buy' THEN '1' WHEN o.side = 'sell' THEN '2' ELSE '' END AS bill_sub_type
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
            AND (CAST(\(query.instrumentType) AS TEXT) IS NULL OR bill_type = '2')
            AND (CAST(\(page.begin) AS BIGINT) IS NULL OR ts >= \(page.begin))
            AND (CAST(\(page.end) AS BIGINT) IS NULL OR ts <= \(page.end))
            ORDER BY id \(unsafe: page.readsOldestFirst ? "ASC" : "DESC") LIMIT \(page.limit)
            """, Self.bill)
        return page.readsOldestFirst ? found.reversed() : found
    }

    static func bill(_ row: SQLRow) throws(StoreError) -> Bill {
        let orderID: Int64? = try row("order_id"), takerOrder: Int64? = try row("taker_order")
        return Bill(
            id: try row("id"), currency: try row("ccy"), type: try row("bill_type"), subType: try row("bill_sub_type"),
            change: try row("bal_chg"), balance: try row("balance_after", as: Int64?.self) ?? 0, fee: try row("fee"),
            time: try row("ts"), orderID: orderID, clientOrderID: try row("client_order_id", as: String?.self) ?? "",
            tag: try row("tag", as: String?.self) ?? "", tradeID: try row("trade_id"), instrument: try row("inst_id"),
            price: try row("price"), fillTime: try row("fill_time"),
            taker: orderID.flatMap { id in takerOrder.map { $0 == id } },
            from: (try row("from_kind", as: String?.self)).flatMap(BalanceKind.init(rawValue:)),
            to: (try row("to_kind", as: String?.self)).flatMap(BalanceKind.init(rawValue:)))
    }
}
