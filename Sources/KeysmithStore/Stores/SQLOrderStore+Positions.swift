import KeysmithCore

extension SQLOrderStore {
    /// Writes the positions a placement moved (one row per account, instrument, margin mode and side) and a history
    /// row for each one it closed entirely; positions name their last fill by its index until the fills are stored.
    /// `fills` nil: the positions name trade ids already (a liquidation, which has no fill). `closeType` is OKX's
    /// `type` of the history rows (2 closed, 3 liquidated).
    static func save(
        _ positions: [Position], closed: [ClosedPosition], fills: [Fill]?, closeType: Int = 2, in tx: SQLTransaction
    ) throws(StoreError) -> [Position] {
        func trade(_ index: Int64) throws(StoreError) -> Int64 {
            guard let fills else { return index }
            guard fills.indices.contains(Int(index)) else { throw StoreError.database("a position names no fill") }
            return fills[Int(index)].tradeID
        }
        var saved: [Position] = []
        saved.reserveCapacity(positions.count)
        for var position in positions {
            position.lastTrade = try trade(position.lastTrade)
            let key = position.key
            position.id = try SQLLedgerStore.insert(
                """
                INSERT INTO position (account_uid, inst_id, mgn_mode, pos_side, pos, open_value, margin, lever, realized_pnl, fee,
                funding_fee, max_pos, opened, opened_value, closed, closed_value, last_trade_id, created_at, updated_at)
                VALUES (\(key.account), \(key.instrument), \(key.marginMode.rawValue), \(key.side.rawValue), \(position.size),
                \(position.openValue), \(position.margin), \(position.leverage.description), \(position.realizedPnl), \(position.fee),
                \(position.fundingFee), \(position.maximumSize), \(position.opened), \(position.openedValue), \(position.closed),
                \(position.closedValue), \(position.lastTrade), \(position.createdAt), \(position.updatedAt))
                ON CONFLICT (account_uid, inst_id, mgn_mode, pos_side) DO UPDATE SET pos = excluded.pos,
                open_value = excluded.open_value, margin = excluded.margin, lever = excluded.lever,
                realized_pnl = excluded.realized_pnl, fee = excluded.fee, funding_fee = excluded.funding_fee,
                max_pos = excluded.max_pos, opened = excluded.opened, opened_value = excluded.opened_value, closed = excluded.closed,
                closed_value = excluded.closed_value, last_trade_id = excluded.last_trade_id, created_at = excluded.created_at,
                updated_at = excluded.updated_at
                RETURNING id
                """, in: tx)
            saved.append(position)
        }
        for record in closed {
            let position = record.position, key = position.key
            let id = saved.first { $0.key == key }?.id ?? position.id
            try tx.execute(
                """
                INSERT INTO position_history (pos_id, account_uid, inst_id, mgn_mode, pos_side, direction, close_type, lever,
                realized_pnl, fee, funding_fee, max_pos, opened, opened_value, closed, closed_value, last_trade_id, created_at,
                updated_at) VALUES (\(id), \(key.account), \(key.instrument), \(key.marginMode.rawValue), \(key.side.rawValue),
                \(record.long ? "long" : "short"), \(closeType), \(position.leverage.description), \(position.realizedPnl), \(position.fee),
                \(position.fundingFee), \(position.maximumSize), \(position.opened), \(position.openedValue), \(position.closed),
                \(position.closedValue), \(try trade(position.lastTrade)), \(position.createdAt), \(position.updatedAt))
                """)
        }
        return saved
    }

    public func liquidate(_ liquidation: Liquidation, audit: AuditRecord) async throws(StoreError) -> [Position] {
        try await database.write { tx throws(StoreError) in
            for order in liquidation.cancelled {
                let changed = try tx.execute(
                    """
                    UPDATE spot_order SET state = 'canceled', frozen = 0, updated_at = \(order.updatedAt)
                    WHERE id = \(order.id) AND state IN ('live', 'partially_filled')
                    """)
                guard changed == 1 else { throw StoreError.notFound(.openOrder, "order \(order.id) is not open") }
            }
            if let movement = liquidation.movement {
                try SQLLedgerStore.apply(movement, kind: "liquidation", reference: liquidation.instrument, at: audit.time, in: tx)
            }
            let saved = try Self.save(liquidation.positions, closed: liquidation.closed, fills: nil, closeType: 3, in: tx)
            // The fund's own positions closed by netting: closed entirely (type 2), under the ids just saved.
            let fundClosed = liquidation.fundClosed.map { record in
                var named = record
                named.position.id = saved.first { $0.key == record.position.key }?.id ?? record.position.id
                return named
            }
            _ = try Self.save([], closed: fundClosed, fills: nil, closeType: 2, in: tx)
            try AuditLog.append(liquidation.audits(audit), in: tx)
            return saved
        }
    }

    public func positions() async throws(StoreError) -> [Position] {
        try await database.fetchAll("SELECT * FROM position ORDER BY id", Self.position)
    }

    public func anyOpenPosition() async throws(StoreError) -> Bool {
        try await database.value("SELECT 1 FROM position WHERE pos != 0 LIMIT 1", as: Int64?.self) != nil
    }

    public func openPositions(account: String) async throws(StoreError) -> [Position] {
        try await database.fetchAll("SELECT * FROM position WHERE account_uid = \(account) AND pos != 0 ORDER BY id", Self.position)
    }

    public func positionHistory(account: String, instrument: String?, matching page: Page) async throws(StoreError) -> [PositionRecord] {
        let found = try await database.fetchAll(
            """
            SELECT * FROM position_history WHERE account_uid = \(account)
            AND (CAST(\(instrument) AS TEXT) IS NULL OR inst_id = \(instrument))
            AND (CAST(\(page.after) AS BIGINT) IS NULL OR id < \(page.after))
            AND (CAST(\(page.before) AS BIGINT) IS NULL OR id > \(page.before))
            AND (CAST(\(page.begin) AS BIGINT) IS NULL OR updated_at >= \(page.begin))
            AND (CAST(\(page.end) AS BIGINT) IS NULL OR updated_at <= \(page.end))
            ORDER BY id \(unsafe: page.readsOldestFirst ? "ASC" : "DESC") LIMIT \(page.limit)
            """
        ) { row throws(StoreError) in
            var position = try Self.position(row, id: "pos_id")
            position.size = 0
            return PositionRecord(
                id: try row("id"), closed: ClosedPosition(position: position, long: try row("direction", as: String.self) == "long"),
                type: Int(try row("close_type", as: Int64.self)))
        }
        return page.readsOldestFirst ? found.reversed() : found
    }

    static func position(_ row: SQLRow) throws(StoreError) -> Position {
        try position(row, id: "id")
    }

    private static func position(_ row: SQLRow, id column: String) throws(StoreError) -> Position {
        let id: Int64 = try row(column)
        guard let margin = MarginMode(rawValue: try row("mgn_mode")), let side = PositionSide(rawValue: try row("pos_side")),
            let leverage = Amount(parsing: try row("lever", as: String.self), scale: Leverage.scale).flatMap({ Leverage(hundredths: $0.units) })
        else { throw StoreError.database("unreadable position \(id)") }
        var position = Position(
            id: id, key: PositionKey(account: try row("account_uid"), instrument: try row("inst_id"), marginMode: margin, side: side),
            leverage: leverage, at: try row("created_at"))
        position.size = (try? row("pos", as: Int64.self)) ?? 0
        position.openValue = (try? row("open_value", as: Int64.self)) ?? 0
        position.margin = (try? row("margin", as: Int64.self)) ?? 0
        position.realizedPnl = try row("realized_pnl")
        position.fee = try row("fee")
        position.fundingFee = try row("funding_fee")
        position.maximumSize = try row("max_pos")
        position.opened = try row("opened")
        position.openedValue = try row("opened_value")
        position.closed = try row("closed")
        position.closedValue = try row("closed_value")
        position.lastTrade = try row("last_trade_id")
        position.updatedAt = try row("updated_at")
        return position
    }
}
