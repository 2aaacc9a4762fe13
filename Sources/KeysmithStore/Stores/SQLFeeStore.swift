import KeysmithCore

/// ``FeeStore`` on either database.
public struct SQLFeeStore: FeeStore {
    let database: SQLDatabase

    public init(database: SQLDatabase) {
        self.database = database
    }

    public func feeSchedule() async throws(StoreError) -> FeeSchedule {
        try await database.read { tx throws(StoreError) in
            var schedule = FeeSchedule()
            for row in try tx.fetchAll("SELECT * FROM fee_rate", Self.rates) {
                schedule.rates[row.level, default: [:]][row.instrumentType] = row.rates
            }
            for (account, level) in try tx.fetchAll("SELECT account_uid, level FROM account_fee_level", Self.level) {
                schedule.levels[account] = level
            }
            return schedule
        }
    }

    public func save(_ rates: FeeRates, level: String, instrumentType: String, at time: Int64, audit: AuditRecord) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            try tx.execute(
                """
                INSERT INTO fee_rate (level, inst_type, maker, taker, updated_at)
                VALUES (\(level), \(instrumentType), \(rates.maker.text), \(rates.taker.text), \(time))
                ON CONFLICT (level, inst_type) DO UPDATE SET maker = excluded.maker, taker = excluded.taker, updated_at = excluded.updated_at
                """)
            try AuditLog.append([audit], in: tx)
        }
    }

    public func assign(level: String, account: String, at time: Int64, audit: AuditRecord) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            guard try tx.exists("SELECT 1 FROM fee_rate WHERE level = \(level)") else {
                throw StoreError.notFound(.feeLevel, "the fee schedule has no level \(level) (add its rates with keysmith fee set)")
            }
            if level == FeeSchedule.defaultLevel {
                try tx.execute("DELETE FROM account_fee_level WHERE account_uid = \(account)")
            } else {
                try tx.execute(
                    """
                    INSERT INTO account_fee_level (account_uid, level, updated_at) VALUES (\(account), \(level), \(time))
                    ON CONFLICT (account_uid) DO UPDATE SET level = excluded.level, updated_at = excluded.updated_at
                    """)
            }
            try AuditLog.append([audit], in: tx)
        }
    }

    private struct RatesRow: Sendable {
        var level: String
        var instrumentType: String
        var rates: FeeRates
    }

    private static func rates(_ row: SQLRow) throws(StoreError) -> RatesRow {
        // Read as the operator's input is: a row edited outside Keysmith to a rebate or a charge above 1 % is refused,
        // never charged.
        let makerText: String = try row("maker"), takerText: String = try row("taker")
        guard !makerText.hasSuffix("%"), !takerText.hasSuffix("%"), let maker = FeeRates.rate(makerText), let taker = FeeRates.rate(takerText),
            makerText.hasPrefix("-") || maker.units == 0, takerText.hasPrefix("-") || taker.units == 0
        else { throw StoreError.database("the fee schedule holds unreadable rates") }
        return RatesRow(level: try row("level"), instrumentType: try row("inst_type"), rates: FeeRates(maker: maker, taker: taker))
    }

    private static func level(_ row: SQLRow) throws(StoreError) -> (String, String) {
        (try row("account_uid"), try row("level"))
    }
}
