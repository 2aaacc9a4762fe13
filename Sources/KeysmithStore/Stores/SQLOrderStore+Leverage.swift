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
