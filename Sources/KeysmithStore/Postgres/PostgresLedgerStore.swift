import Foundation
import KeysmithCore
import PostgresNIO

/// ``LedgerStore`` (and ``WithdrawalStore``) on PostgreSQL.
///
/// Invariants, and what enforces them:
/// - **no negative balance**: the `balance_available_not_negative` / `balance_frozen_not_negative` CHECK constraints;
///   each movement updates balances with `available = available + delta`, so an overdraft aborts the transaction;
/// - **entries sum to zero**: every movement is checked balanced before any row is written, in the same transaction
///   as its balance updates;
/// - **idempotent clientId**: looked up under the write lock and backed by the unique index
///   `transfer_client_id` / `withdrawal_client_id`; a retry gets the first transfer back;
/// - **daily withdrawal limit**: summed and checked under the write lock, so two nodes cannot both pass it.
/// The write lock (see ``PostgresDatabase``) serialises movements across nodes, like SQLite's single writer; reads
/// need no lock.
public struct PostgresLedgerStore: LedgerStore {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func currencies() async throws(StoreError) -> [Currency] {
        try await database.read { connection, logger in
            try await connection.query("SELECT * FROM currency ORDER BY code", logger: logger).rows().map(Self.currency)
        }
    }

    public func instruments() async throws(StoreError) -> [Instrument] {
        try await database.read { connection, logger in
            try await connection.query("SELECT * FROM instrument ORDER BY inst_id", logger: logger).rows().compactMap(Self.instrument)
        }
    }

    public func save(instrument: Instrument) async throws(StoreError) {
        try await database.write { connection, logger in
            let existing = try await connection.query("SELECT * FROM instrument WHERE inst_id = \(instrument.id)", logger: logger)
                .rows().compactMap(Self.instrument).first
            if let existing, existing.tickSize.scale != instrument.tickSize.scale || existing.lotSize.scale != instrument.lotSize.scale,
                try await !connection.query("SELECT 1 FROM spot_order WHERE inst_id = \(instrument.id) LIMIT 1", logger: logger)
                    .collect(Int32.self).isEmpty
            {
                throw StoreError.duplicate("\(instrument.id) has orders: the decimals of its tick and lot sizes cannot change")
            }
            try await connection.query(
                """
                INSERT INTO instrument (inst_id, base_ccy, quote_ccy, tick_sz, lot_sz, min_sz, max_lmt_sz, max_mkt_sz, listed_at)
                VALUES (\(instrument.id), \(instrument.base), \(instrument.quote), \(instrument.tickSize.fixedText),
                \(instrument.lotSize.fixedText), \(instrument.minimumSize.fixedText), \(instrument.maximumLimitSize.fixedText),
                \(instrument.maximumMarketSize.fixedText), \(instrument.listedAt))
                ON CONFLICT (inst_id) DO UPDATE SET base_ccy = EXCLUDED.base_ccy, quote_ccy = EXCLUDED.quote_ccy,
                tick_sz = EXCLUDED.tick_sz, lot_sz = EXCLUDED.lot_sz, min_sz = EXCLUDED.min_sz, max_lmt_sz = EXCLUDED.max_lmt_sz,
                max_mkt_sz = EXCLUDED.max_mkt_sz, listed_at = EXCLUDED.listed_at
                """, logger: logger)
        }
    }

    public func save(currency: Currency) async throws(StoreError) {
        try await database.write { connection, logger in
            if let scale = try await connection.query("SELECT scale FROM currency WHERE code = \(currency.code)", logger: logger)
                .collect(Int32.self).first, Int(scale) != currency.scale,
                try await !connection.query("SELECT 1 FROM ledger_entry WHERE ccy = \(currency.code) LIMIT 1", logger: logger)
                    .collect(Int32.self).isEmpty
            {
                throw StoreError.duplicate("\(currency.code) has ledger entries: its number of decimals cannot change")
            }
            try await connection.query(
                """
                INSERT INTO currency (code, name, scale, chain, withdrawal_fee, min_withdrawal, max_withdrawal, daily_withdrawal,
                can_deposit, can_withdraw) VALUES (\(currency.code), \(currency.name), \(Int32(currency.scale)), \(currency.chain),
                \(currency.withdrawalFee.units), \(currency.minimumWithdrawal.units), \(currency.maximumWithdrawal.units),
                \(currency.dailyWithdrawalLimit.units), \(currency.canDeposit), \(currency.canWithdraw))
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, scale = EXCLUDED.scale, chain = EXCLUDED.chain,
                withdrawal_fee = EXCLUDED.withdrawal_fee, min_withdrawal = EXCLUDED.min_withdrawal,
                max_withdrawal = EXCLUDED.max_withdrawal, daily_withdrawal = EXCLUDED.daily_withdrawal,
                can_deposit = EXCLUDED.can_deposit, can_withdraw = EXCLUDED.can_withdraw
                """, logger: logger)
        }
    }

    public func balances(account: String) async throws(StoreError) -> [StoredBalance] {
        try await database.read { connection, logger in
            try await connection.query("SELECT * FROM balance WHERE account_uid = \(account) ORDER BY kind, ccy", logger: logger)
                .rows().compactMap { row in
                    guard let kind = BalanceKind(rawValue: try row("kind")) else { return nil }
                    return StoredBalance(
                        kind: kind, currency: try row("ccy"), available: try row("available"), frozen: try row("frozen"),
                        updatedAt: try row("updated_at"))
                }
        }
    }

    public func insert(deposit: DepositRecord, audit: AuditRecord) async throws(StoreError) -> DepositRecord {
        try await database.write { connection, logger in
            var stored = deposit
            stored.id = try await connection.query(
                """
                INSERT INTO deposit (account_uid, ccy, amount, chain, address, tx_id, created_at) VALUES (\(deposit.account),
                \(deposit.currency), \(deposit.amount), \(deposit.chain), \(deposit.address), \(deposit.txID), \(deposit.createdAt))
                RETURNING id
                """, logger: logger
            ).collect(Int64.self).first ?? 0
            try await Self.apply(
                .deposit(deposit.amount, of: deposit.currency, to: deposit.account), kind: "deposit", reference: String(stored.id),
                at: deposit.createdAt, on: connection, logger)
            var record = audit
            record.target = String(stored.id)
            try await PostgresAuditLog.append([record], on: connection, logger)
            return stored
        }
    }

    public func deposits(account: String, currency: String?, limit: Int) async throws(StoreError) -> [DepositRecord] {
        try await database.read { connection, logger in
            try await connection.query(
                """
                SELECT * FROM deposit WHERE account_uid = \(account) AND (\(currency)::TEXT IS NULL OR ccy = \(currency))
                ORDER BY id DESC LIMIT \(Int64(limit))
                """, logger: logger
            ).rows().map { row in
                DepositRecord(
                    id: try row("id"), account: try row("account_uid"), currency: try row("ccy"), amount: try row("amount"),
                    chain: try row("chain"), address: try row("address"), txID: try row("tx_id"), createdAt: try row("created_at"))
            }
        }
    }

    public func insert(transfer: TransferRecord, audit: AuditRecord) async throws(StoreError) -> (transfer: TransferRecord, created: Bool) {
        let (stored, created) = try await database.write { connection, logger in
            if !transfer.clientID.isEmpty,
                let existing = try await connection.query(
                    "SELECT * FROM transfer WHERE initiator_uid = \(transfer.initiator) AND client_id = \(transfer.clientID)", logger: logger
                ).rows().first
            {
                return (try Self.transfer(existing), false)
            }
            var stored = transfer
            stored.id = try await connection.query(
                """
                INSERT INTO transfer (initiator_uid, client_id, type, ccy, amount, from_uid, from_kind, to_uid, to_kind, sub_acct,
                state, created_at) VALUES (\(transfer.initiator), \(transfer.clientID), \(transfer.type), \(transfer.currency),
                \(transfer.amount), \(transfer.from.account), \(transfer.from.kind.rawValue), \(transfer.to.account),
                \(transfer.to.kind.rawValue), \(transfer.subAccount), \(transfer.state), \(transfer.createdAt))
                RETURNING id
                """, logger: logger
            ).collect(Int64.self).first ?? 0
            try await Self.apply(transfer.movement, kind: "transfer", reference: String(stored.id), at: transfer.createdAt, on: connection, logger)
            var record = audit
            record.target = String(stored.id)
            try await PostgresAuditLog.append([record], on: connection, logger)
            return (stored, true)
        }
        return (stored, created)
    }

    public func transfer(id: Int64) async throws(StoreError) -> TransferRecord? {
        try await database.read { connection, logger in
            try await connection.query("SELECT * FROM transfer WHERE id = \(id)", logger: logger).rows().first.map(Self.transfer)
        }
    }

    public func transfer(clientID: String, initiator: String) async throws(StoreError) -> TransferRecord? {
        try await database.read { connection, logger in
            try await connection.query(
                "SELECT * FROM transfer WHERE initiator_uid = \(initiator) AND client_id = \(clientID)", logger: logger
            ).rows().first.map(Self.transfer)
        }
    }

    public func totals() async throws(StoreError) -> [String: (entries: Int64, balances: Int64)] {
        let (entries, balances) = try await database.read { connection, logger in
            let entries = try await connection.query(
                "SELECT ccy, SUM(available_delta + frozen_delta)::BIGINT FROM ledger_entry GROUP BY ccy", logger: logger
            ).decode((String, Int64).self).reduce(into: [(String, Int64)]()) { $0.append($1) }
            let balances = try await connection.query(
                "SELECT ccy, SUM(available + frozen)::BIGINT FROM balance GROUP BY ccy", logger: logger
            ).decode((String, Int64).self).reduce(into: [(String, Int64)]()) { $0.append($1) }
            return (entries, balances)
        }
        var totals: [String: (entries: Int64, balances: Int64)] = [:]
        for (ccy, total) in entries { totals[ccy, default: (0, 0)].entries = total }
        for (ccy, total) in balances { totals[ccy, default: (0, 0)].balances = total }
        return totals
    }

    // MARK: - In a transaction

    /// Writes a balanced movement: its lines, and each real account's balance change (the CHECK constraints refuse
    /// an overdraft, which aborts the whole transaction).
    static func apply(
        _ movement: LedgerMovement, kind: String, reference: String, at time: Int64, on connection: PostgresConnection, _ logger: Logger
    ) async throws {
        guard movement.isBalanced else { throw StoreError.database("an unbalanced movement was refused") }
        let movementID = try await connection.query(
            "INSERT INTO movement (kind, reference, created_at) VALUES (\(kind), \(reference), \(time)) RETURNING id", logger: logger
        ).collect(Int64.self).first ?? 0
        for entry in movement.entries {
            try await connection.query(
                """
                INSERT INTO ledger_entry (movement_id, account_uid, kind, ccy, available_delta, frozen_delta)
                VALUES (\(movementID), \(entry.account), \(entry.kind.rawValue), \(entry.currency), \(entry.availableDelta),
                \(entry.frozenDelta))
                """, logger: logger)
            guard entry.account != LedgerEntry.world else { continue }
            // Insert a zero row first: the CHECK constraints apply to an INSERT's proposed row even when it conflicts.
            try await connection.query(
                """
                INSERT INTO balance (account_uid, kind, ccy, available, frozen, updated_at)
                VALUES (\(entry.account), \(entry.kind.rawValue), \(entry.currency), 0, 0, \(time))
                ON CONFLICT (account_uid, kind, ccy) DO NOTHING
                """, logger: logger)
            try await connection.query(
                """
                UPDATE balance SET available = available + \(entry.availableDelta), frozen = frozen + \(entry.frozenDelta),
                updated_at = \(time) WHERE account_uid = \(entry.account) AND kind = \(entry.kind.rawValue) AND ccy = \(entry.currency)
                """, logger: logger)
        }
    }

    static func instrument(_ row: PostgresRandomAccessRow) throws -> Instrument? {
        func scale(_ text: String) -> Int { text.split(separator: ".").dropFirst().first?.count ?? 0 }
        let tickText: String = try row("tick_sz"), lotText: String = try row("lot_sz")
        let priceScale = scale(tickText), sizeScale = scale(lotText)
        guard let tick = Amount(parsing: tickText, scale: priceScale), let lot = Amount(parsing: lotText, scale: sizeScale),
            let minimum = Amount(parsing: try row("min_sz", as: String.self), scale: sizeScale),
            let maxLimit = Amount(parsing: try row("max_lmt_sz", as: String.self), scale: sizeScale),
            let maxMarket = Amount(parsing: try row("max_mkt_sz", as: String.self), scale: sizeScale)
        else { return nil }
        return Instrument(
            id: try row("inst_id"), base: try row("base_ccy"), quote: try row("quote_ccy"), tickSize: tick, lotSize: lot,
            minimumSize: minimum, maximumLimitSize: maxLimit, maximumMarketSize: maxMarket, listedAt: try row("listed_at"))
    }

    static func currency(_ row: PostgresRandomAccessRow) throws -> Currency {
        let scale = Int(try row("scale", as: Int32.self))
        return Currency(
            code: try row("code"), name: try row("name"), scale: scale, chain: try row("chain"),
            withdrawalFee: Amount(units: try row("withdrawal_fee"), scale: scale),
            minimumWithdrawal: Amount(units: try row("min_withdrawal"), scale: scale),
            maximumWithdrawal: Amount(units: try row("max_withdrawal"), scale: scale),
            dailyWithdrawalLimit: Amount(units: try row("daily_withdrawal"), scale: scale), canDeposit: try row("can_deposit"),
            canWithdraw: try row("can_withdraw"))
    }

    static func transfer(_ row: PostgresRandomAccessRow) throws -> TransferRecord {
        guard let fromKind = BalanceKind(rawValue: try row("from_kind")), let toKind = BalanceKind(rawValue: try row("to_kind")) else {
            throw StoreError.database("unreadable transfer \(try row("id", as: Int64.self))")
        }
        return TransferRecord(
            id: try row("id"), initiator: try row("initiator_uid"), clientID: try row("client_id"), type: try row("type"),
            currency: try row("ccy"), amount: try row("amount"), from: (try row("from_uid"), fromKind), to: (try row("to_uid"), toKind),
            subAccount: try row("sub_acct"), state: try row("state"), createdAt: try row("created_at"))
    }
}
