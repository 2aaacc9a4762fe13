import Foundation
import KeysmithCore

/// ``LedgerStore`` (and ``WithdrawalStore``) on either database.
///
/// Invariants, and what enforces them:
/// - **no negative balance**: the balance table's CHECK constraints (`available >= 0`, `frozen >= 0`); each movement
///   updates balances with `available = available + delta`, so an overdraft aborts the transaction;
/// - **entries sum to zero**: every movement is checked balanced before any row is written, in the same transaction
///   as its balance updates;
/// - **idempotent clientId**: looked up in the write transaction and backed by the unique indexes
///   `transfer_client_id` / `withdrawal_client_id`; a retry gets the first transfer back;
/// - **daily withdrawal limit**: summed and checked in the write transaction.
/// Write transactions are serialised (SQLite's one writer; PostgreSQL's write lock across nodes), so each reads and
/// writes with no other writer in between.
public struct SQLLedgerStore: LedgerStore {
    let database: SQLDatabase

    public init(database: SQLDatabase) {
        self.database = database
    }

    public func currencies() async throws(StoreError) -> [Currency] {
        try await database.fetchAll("SELECT * FROM currency ORDER BY code", Self.currency)
    }

    public func instruments() async throws(StoreError) -> [Instrument] {
        try await database.fetchAll("SELECT * FROM instrument ORDER BY inst_id", Self.instrument).compactMap { $0 }
    }

    public func save(instrument: Instrument) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            if let existing = try tx.fetchOne("SELECT * FROM instrument WHERE inst_id = \(instrument.id)", Self.instrument) ?? nil,
                existing.tickSize.scale != instrument.tickSize.scale || existing.lotSize.scale != instrument.lotSize.scale,
                try tx.exists("SELECT 1 FROM spot_order WHERE inst_id = \(instrument.id) LIMIT 1")
            {
                throw StoreError.duplicate(.instrumentScale, "\(instrument.id) has orders: the decimals of its tick and lot sizes cannot change")
            }
            try Self.save(instrument, in: tx)
        }
    }

    public func save(currency: Currency) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            if let scale = try tx.value("SELECT scale FROM currency WHERE code = \(currency.code)", as: Int.self),
                scale != currency.scale,
                try tx.exists("SELECT 1 FROM ledger_entry WHERE ccy = \(currency.code) LIMIT 1")
            {
                throw StoreError.duplicate(.currencyScale, "\(currency.code) has ledger entries: its number of decimals cannot change")
            }
            try Self.save(currency, in: tx)
        }
    }

    public func balances(account: String) async throws(StoreError) -> [StoredBalance] {
        try await database.fetchAll("SELECT * FROM balance WHERE account_uid = \(account) ORDER BY kind, ccy") { row throws(StoreError) in
            guard let kind = BalanceKind(rawValue: try row("kind")) else { return nil }
            return StoredBalance(
                kind: kind, currency: try row("ccy"), available: try row("available"), frozen: try row("frozen"),
                updatedAt: try row("updated_at"))
        }.compactMap { $0 }
    }

    public func insert(deposit: DepositRecord, audit: AuditRecord) async throws(StoreError) -> DepositRecord {
        try await database.write { tx throws(StoreError) in
            var stored = deposit
            stored.id = try Self.insert(
                """
                INSERT INTO deposit (account_uid, ccy, amount, chain, address, tx_id, created_at) VALUES (\(deposit.account),
                \(deposit.currency), \(deposit.amount), \(deposit.chain), \(deposit.address), \(deposit.txID), \(deposit.createdAt))
                RETURNING id
                """, in: tx)
            try Self.apply(
                .deposit(deposit.amount, of: deposit.currency, to: deposit.account), kind: "deposit", reference: String(stored.id),
                at: deposit.createdAt, in: tx)
            var record = audit
            record.target = String(stored.id)
            try AuditLog.append([record], in: tx)
            return stored
        }
    }

    public func deposits(account: String, currency: String?, limit: Int) async throws(StoreError) -> [DepositRecord] {
        try await database.fetchAll(
            """
            SELECT * FROM deposit WHERE account_uid = \(account) AND (CAST(\(currency) AS TEXT) IS NULL OR ccy = \(currency))
            ORDER BY id DESC LIMIT \(limit)
            """
        ) { row throws(StoreError) in
            DepositRecord(
                id: try row("id"), account: try row("account_uid"), currency: try row("ccy"), amount: try row("amount"),
                chain: try row("chain"), address: try row("address"), txID: try row("tx_id"), createdAt: try row("created_at"))
        }
    }

    public func insert(transfer: TransferRecord, audit: AuditRecord) async throws(StoreError) -> (transfer: TransferRecord, created: Bool) {
        let (stored, created) = try await database.write { tx throws(StoreError) in
            if !transfer.clientID.isEmpty,
                let existing = try tx.fetchOne(
                    "SELECT * FROM transfer WHERE initiator_uid = \(transfer.initiator) AND client_id = \(transfer.clientID)",
                    Self.transfer)
            {
                return (existing, false)
            }
            var stored = transfer
            stored.id = try Self.insert(
                """
                INSERT INTO transfer (initiator_uid, client_id, type, ccy, amount, from_uid, from_kind, to_uid, to_kind, sub_acct,
                state, created_at) VALUES (\(transfer.initiator), \(transfer.clientID), \(transfer.type), \(transfer.currency),
                \(transfer.amount), \(transfer.from.account), \(transfer.from.kind.rawValue), \(transfer.to.account),
                \(transfer.to.kind.rawValue), \(transfer.subAccount), \(transfer.state), \(transfer.createdAt))
                RETURNING id
                """, in: tx)
            try Self.apply(transfer.movement, kind: "transfer", reference: String(stored.id), at: transfer.createdAt, in: tx)
            var record = audit
            record.target = String(stored.id)
            try AuditLog.append([record], in: tx)
            return (stored, true)
        }
        return (stored, created)
    }

    public func transfer(id: Int64) async throws(StoreError) -> TransferRecord? {
        try await database.fetchOne("SELECT * FROM transfer WHERE id = \(id)", Self.transfer)
    }

    public func transfer(clientID: String, initiator: String) async throws(StoreError) -> TransferRecord? {
        try await database.fetchOne("SELECT * FROM transfer WHERE initiator_uid = \(initiator) AND client_id = \(clientID)", Self.transfer)
    }

    public func totals() async throws(StoreError) -> [String: (entries: Int64, balances: Int64)] {
        let (entries, balances) = try await database.read { tx throws(StoreError) in
            let entries = try tx.fetchAll(
                "SELECT ccy, CAST(SUM(available_delta + frozen_delta) AS BIGINT) AS total FROM ledger_entry GROUP BY ccy", Self.total)
            let balances = try tx.fetchAll("SELECT ccy, CAST(SUM(available + frozen) AS BIGINT) AS total FROM balance GROUP BY ccy", Self.total)
            return (entries, balances)
        }
        var totals: [String: (entries: Int64, balances: Int64)] = [:]
        for total in entries { totals[total.currency, default: (0, 0)].entries = total.amount }
        for total in balances { totals[total.currency, default: (0, 0)].balances = total.amount }
        return totals
    }

    // MARK: - In a transaction

    /// Writes a balanced movement: its lines, and each real account's balance change (the CHECK constraints refuse
    /// an overdraft, which aborts the whole transaction).
    static func apply(_ movement: LedgerMovement, kind: String, reference: String, at time: Int64, in tx: SQLTransaction) throws(StoreError) {
        guard movement.isBalanced else { throw StoreError.database("an unbalanced movement was refused") }
        let movementID = try insert(
            "INSERT INTO movement (kind, reference, created_at) VALUES (\(kind), \(reference), \(time)) RETURNING id", in: tx)
        for entry in movement.entries {
            var balanceAfter: Int64?
            if entry.account != LedgerEntry.world {
                // A zero row first: the CHECK constraints apply to an INSERT's proposed row even when it conflicts.
                try tx.execute(
                    """
                    INSERT INTO balance (account_uid, kind, ccy, available, frozen, updated_at)
                    VALUES (\(entry.account), \(entry.kind.rawValue), \(entry.currency), 0, 0, \(time))
                    ON CONFLICT (account_uid, kind, ccy) DO NOTHING
                    """)
                balanceAfter = try tx.value(
                    .either(
                        // SQLite turns an integer sum that overflows into a float instead of failing: such a row is not updated.
                        sqlite: """
                            UPDATE balance SET available = available + \(entry.availableDelta), frozen = frozen + \(entry.frozenDelta),
                            updated_at = \(time) WHERE account_uid = \(entry.account) AND kind = \(entry.kind.rawValue)
                            AND ccy = \(entry.currency) AND typeof(available + \(entry.availableDelta)) = 'integer'
                            AND typeof(frozen + \(entry.frozenDelta)) = 'integer' AND typeof(available + \(entry.availableDelta) + frozen + \(entry.frozenDelta)) = 'integer'
                            RETURNING available + frozen
                            """,
                        // PostgreSQL refuses a bigint that overflows (22003, `.outOfRange`).
                        postgres: """
                            UPDATE balance SET available = available + \(entry.availableDelta), frozen = frozen + \(entry.frozenDelta),
                            updated_at = \(time) WHERE account_uid = \(entry.account) AND kind = \(entry.kind.rawValue)
                            AND ccy = \(entry.currency)
                            RETURNING available + frozen
                            """),
                    as: Int64.self)
                guard balanceAfter != nil else { throw StoreError.outOfRange("a balance would exceed the largest amount the ledger holds") }
            }
            // Each line keeps the balance it left, so an account's bills read back with their running balance.
            try tx.execute(
                """
                INSERT INTO ledger_entry (movement_id, account_uid, kind, ccy, available_delta, frozen_delta, order_id, trade_id, fee,
                balance_after) VALUES (\(movementID), \(entry.account), \(entry.kind.rawValue), \(entry.currency),
                \(entry.availableDelta), \(entry.frozenDelta), \(entry.trade?.order), \(entry.trade?.trade), \(entry.trade?.fee ?? 0),
                \(balanceAfter))
                """)
        }
    }

    /// Runs an `INSERT … RETURNING id` and returns the id.
    static func insert(_ statement: SQL, in tx: SQLTransaction) throws(StoreError) -> Int64 {
        guard let id = try tx.value(statement, as: Int64.self) else { throw StoreError.database("an insert returned no id") }
        return id
    }

    static func save(_ currency: Currency, in tx: SQLTransaction) throws(StoreError) {
        try tx.execute(
            """
            INSERT INTO currency (code, name, scale, chain, withdrawal_fee, min_withdrawal, max_withdrawal, daily_withdrawal,
            can_deposit, can_withdraw) VALUES (\(currency.code), \(currency.name), \(currency.scale), \(currency.chain),
            \(currency.withdrawalFee.units), \(currency.minimumWithdrawal.units), \(currency.maximumWithdrawal.units),
            \(currency.dailyWithdrawalLimit.units), \(currency.canDeposit), \(currency.canWithdraw))
            ON CONFLICT (code) DO UPDATE SET name = excluded.name, scale = excluded.scale, chain = excluded.chain,
            withdrawal_fee = excluded.withdrawal_fee, min_withdrawal = excluded.min_withdrawal,
            max_withdrawal = excluded.max_withdrawal, daily_withdrawal = excluded.daily_withdrawal,
            can_deposit = excluded.can_deposit, can_withdraw = excluded.can_withdraw
            """)
    }

    static func save(_ instrument: Instrument, in tx: SQLTransaction) throws(StoreError) {
        let type = instrument.type.rawValue, contractValue = instrument.contract?.value.fixedText ?? ""
        let leverage = Int64(instrument.contract?.maximumLeverage ?? 0)
        try tx.execute(
            """
            INSERT INTO instrument (inst_id, base_ccy, quote_ccy, tick_sz, lot_sz, min_sz, max_lmt_sz, max_mkt_sz, listed_at,
            inst_type, ct_val, max_lever)
            VALUES (\(instrument.id), \(instrument.base), \(instrument.quote), \(instrument.tickSize.fixedText),
            \(instrument.lotSize.fixedText), \(instrument.minimumSize.fixedText), \(instrument.maximumLimitSize.fixedText),
            \(instrument.maximumMarketSize.fixedText), \(instrument.listedAt), \(type), \(contractValue), \(leverage))
            ON CONFLICT (inst_id) DO UPDATE SET base_ccy = excluded.base_ccy, quote_ccy = excluded.quote_ccy,
            tick_sz = excluded.tick_sz, lot_sz = excluded.lot_sz, min_sz = excluded.min_sz, max_lmt_sz = excluded.max_lmt_sz,
            max_mkt_sz = excluded.max_mkt_sz, listed_at = excluded.listed_at, inst_type = excluded.inst_type,
            ct_val = excluded.ct_val, max_lever = excluded.max_lever
            """)
    }

    // MARK: - Rows

    /// An instrument row; the number of decimals of its tick and lot sizes gives the price and size scales.
    static func instrument(_ row: SQLRow) throws(StoreError) -> Instrument? {
        func scale(_ text: String) -> Int { text.split(separator: ".").dropFirst().first?.count ?? 0 }
        let tickText: String = try row("tick_sz"), lotText: String = try row("lot_sz")
        let priceScale = scale(tickText), sizeScale = scale(lotText)
        guard let tick = Amount(parsing: tickText, scale: priceScale), let lot = Amount(parsing: lotText, scale: sizeScale),
            let minimum = Amount(parsing: try row("min_sz", as: String.self), scale: sizeScale),
            let maxLimit = Amount(parsing: try row("max_lmt_sz", as: String.self), scale: sizeScale),
            let maxMarket = Amount(parsing: try row("max_mkt_sz", as: String.self), scale: sizeScale)
        else { return nil }
        let instrument = Instrument(
            id: try row("inst_id"), base: try row("base_ccy"), quote: try row("quote_ccy"), tickSize: tick, lotSize: lot,
            minimumSize: minimum, maximumLimitSize: maxLimit, maximumMarketSize: maxMarket, listedAt: try row("listed_at"))
        switch InstrumentType(rawValue: try row("inst_type")) {
        case .spot: return instrument
        case .swap:
            let valueText: String = try row("ct_val")
            guard let value = Amount(parsing: valueText, scale: scale(valueText)), value.isPositive else { return nil }
            let leverage: Int64 = try row("max_lever")
            return instrument.swap(ContractTerms(value: value, maximumLeverage: Int(clamping: leverage)))
        case nil: return nil
        }
    }

    static func currency(_ row: SQLRow) throws(StoreError) -> Currency {
        let scale: Int = try row("scale")
        return Currency(
            code: try row("code"), name: try row("name"), scale: scale, chain: try row("chain"),
            withdrawalFee: Amount(units: try row("withdrawal_fee"), scale: scale),
            minimumWithdrawal: Amount(units: try row("min_withdrawal"), scale: scale),
            maximumWithdrawal: Amount(units: try row("max_withdrawal"), scale: scale),
            dailyWithdrawalLimit: Amount(units: try row("daily_withdrawal"), scale: scale), canDeposit: try row("can_deposit"),
            canWithdraw: try row("can_withdraw"))
    }

    static func transfer(_ row: SQLRow) throws(StoreError) -> TransferRecord {
        guard let fromKind = BalanceKind(rawValue: try row("from_kind")), let toKind = BalanceKind(rawValue: try row("to_kind")) else {
            throw StoreError.database("unreadable transfer \(try row("id", as: Int64.self))")
        }
        return TransferRecord(
            id: try row("id"), initiator: try row("initiator_uid"), clientID: try row("client_id"), type: try row("type"),
            currency: try row("ccy"), amount: try row("amount"), from: (try row("from_uid"), fromKind), to: (try row("to_uid"), toKind),
            subAccount: try row("sub_acct"), state: try row("state"), createdAt: try row("created_at"))
    }

    private struct Total: Sendable {
        var currency: String
        var amount: Int64
    }

    private static func total(_ row: SQLRow) throws(StoreError) -> Total {
        Total(currency: try row("ccy"), amount: try row("total"))
    }
}
