import KeysmithCore

extension SQLOrderStore {
    public func leverageSettings(account: String) async throws(StoreError) -> LeverageSettings {
        LeverageSettings(
            try await database.fetchAll(
                "SELECT inst_id, mgn_mode, pos_side, lever FROM leverage_setting WHERE account_uid = \(account) ORDER BY inst_id",
                Self.leverageSetting
            ).compactMap { $0 })
    }

    public func setLeverage(_ setting: LeverageSetting, account: String, at time: Int64, audit: AuditRecord) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            if try tx.exists(
                """
                SELECT 1 FROM spot_order WHERE account_uid = \(account) AND inst_id = \(setting.instrument)
                AND state IN ('live', 'partially_filled') LIMIT 1
                """)
            {
                let subject: StoreError.Subject = setting.marginMode == .cross ? .openCrossOrders : .openIsolatedOrders
                throw StoreError.limitReached(subject, "the account has open \(setting.instrument) orders")
            }
            // A position keeps the leverage it opened at (its margin was set aside at it): settings wait for it to close.
            if try tx.exists(
                """
                SELECT 1 FROM position WHERE account_uid = \(account) AND inst_id = \(setting.instrument)
                AND mgn_mode = \(setting.marginMode.rawValue) AND pos != 0
                AND (CAST(\(setting.side?.rawValue) AS TEXT) IS NULL OR pos_side = \(setting.side?.rawValue)) LIMIT 1
                """)
            {
                throw StoreError.limitReached(.openSwapOrders, "the account has an open \(setting.instrument) position")
            }
            try tx.execute(
                """
                INSERT INTO leverage_setting (account_uid, inst_id, mgn_mode, pos_side, lever, updated_at)
                VALUES (\(account), \(setting.instrument), \(setting.marginMode.rawValue), \(setting.side?.rawValue ?? ""),
                \(setting.leverage.description), \(time))
                ON CONFLICT (account_uid, inst_id, mgn_mode, pos_side) DO UPDATE SET lever = excluded.lever, updated_at = excluded.updated_at
                """)
            try AuditLog.append([audit], in: tx)
        }
    }

    public func markPins() async throws(StoreError) -> [String: String] {
        let rows = try await database.fetchAll("SELECT inst_id, px FROM mark_price_pin") { row throws(StoreError) in
            (try row("inst_id", as: String.self), try row("px", as: String.self))
        }
        return Dictionary(rows, uniquingKeysWith: { _, last in last })
    }

    public func pinMark(_ instrument: String, price: String?, at time: Int64, audit: AuditRecord) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            if let price {
                try tx.execute(
                    """
                    INSERT INTO mark_price_pin (inst_id, px, updated_at) VALUES (\(instrument), \(price), \(time))
                    ON CONFLICT (inst_id) DO UPDATE SET px = excluded.px, updated_at = excluded.updated_at
                    """)
            } else {
                try tx.execute("DELETE FROM mark_price_pin WHERE inst_id = \(instrument)")
            }
            try AuditLog.append([audit], in: tx)
        }
    }

    /// A leverage row; nil for one that no longer reads (skipped: its default applies).
    static func leverageSetting(_ row: SQLRow) throws(StoreError) -> LeverageSetting? {
        let sideText: String = try row("pos_side")
        guard let mode = MarginMode(rawValue: try row("mgn_mode")),
            let amount = Amount(parsing: try row("lever", as: String.self), scale: Leverage.scale),
            let leverage = Leverage(hundredths: amount.units)
        else { return nil }
        return LeverageSetting(
            instrument: try row("inst_id"), marginMode: mode, side: PositionSide(rawValue: sideText), leverage: leverage)
    }
}
