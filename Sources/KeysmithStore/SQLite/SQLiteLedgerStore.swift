import Foundation
import GRDB
import KeysmithCore

/// ``LedgerStore`` on the embedded SQLite database. SQLite runs one write transaction at a time, and each movement
/// updates balances with `available = available + delta` under CHECK constraints, so concurrent movements are
/// serialised and none can overdraw a balance.
public struct SQLiteLedgerStore: LedgerStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func currencies() async throws(StoreError) -> [Currency] {
        try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM currency ORDER BY code").map(Self.currency) }
    }

    public func instruments() async throws(StoreError) -> [Instrument] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM instrument ORDER BY inst_id").compactMap(Self.instrument)
        }
    }

    public func save(instrument: Instrument) async throws(StoreError) {
        try await database.write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM instrument WHERE inst_id = ?", arguments: [instrument.id]),
                let existing = Self.instrument(row),
                existing.tickSize.scale != instrument.tickSize.scale || existing.lotSize.scale != instrument.lotSize.scale,
                try Bool.fetchOne(db, sql: "SELECT 1 FROM spot_order WHERE inst_id = ? LIMIT 1", arguments: [instrument.id]) == true
            {
                throw StoreError.duplicate("\(instrument.id) has orders: the decimals of its tick and lot sizes cannot change")
            }
            try Self.save(instrument, in: db)
        }
    }

    public func save(currency: Currency) async throws(StoreError) {
        try await database.write { db in
            if let scale = try Int.fetchOne(db, sql: "SELECT scale FROM currency WHERE code = ?", arguments: [currency.code]),
                scale != currency.scale,
                try Bool.fetchOne(db, sql: "SELECT 1 FROM ledger_entry WHERE ccy = ? LIMIT 1", arguments: [currency.code]) == true
            {
                throw StoreError.duplicate("\(currency.code) has ledger entries: its number of decimals cannot change")
            }
            try Self.save(currency, in: db)
        }
    }

    public func balances(account: String) async throws(StoreError) -> [StoredBalance] {
        try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM balance WHERE account_uid = ? ORDER BY kind, ccy", arguments: [account]
            ).compactMap { row in
                guard let kind = BalanceKind(rawValue: row["kind"]) else { return nil }
                return StoredBalance(
                    kind: kind, currency: row["ccy"], available: row["available"], frozen: row["frozen"], updatedAt: row["updated_at"])
            }
        }
    }

    public func insert(deposit: DepositRecord, audit: AuditRecord) async throws(StoreError) -> DepositRecord {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO deposit (account_uid, ccy, amount, chain, address, tx_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    deposit.account, deposit.currency, deposit.amount, deposit.chain, deposit.address, deposit.txID, deposit.createdAt,
                ])
            var stored = deposit
            stored.id = db.lastInsertedRowID
            try Self.apply(
                .deposit(deposit.amount, of: deposit.currency, to: deposit.account), kind: "deposit", reference: String(stored.id),
                at: deposit.createdAt, in: db)
            var record = audit
            record.target = String(stored.id)
            try SQLiteAuditLog.append([record], in: db)
            return stored
        }
    }

    public func deposits(account: String, currency: String?, limit: Int) async throws(StoreError) -> [DepositRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM deposit WHERE account_uid = ? AND (? IS NULL OR ccy = ?) ORDER BY id DESC LIMIT ?",
                arguments: [account, currency, currency, limit]
            ).map { row in
                DepositRecord(
                    id: row["id"], account: row["account_uid"], currency: row["ccy"], amount: row["amount"], chain: row["chain"],
                    address: row["address"], txID: row["tx_id"], createdAt: row["created_at"])
            }
        }
    }

    public func insert(transfer: TransferRecord, audit: AuditRecord) async throws(StoreError) -> (transfer: TransferRecord, created: Bool) {
        try await database.write { db in
            if !transfer.clientID.isEmpty,
                let existing = try Row.fetchOne(
                    db, sql: "SELECT * FROM transfer WHERE initiator_uid = ? AND client_id = ?",
                    arguments: [transfer.initiator, transfer.clientID])
            {
                return (try Self.transfer(existing), false)
            }
            try db.execute(
                sql: """
                    INSERT INTO transfer (initiator_uid, client_id, type, ccy, amount, from_uid, from_kind, to_uid, to_kind, sub_acct,
                    state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    transfer.initiator, transfer.clientID, transfer.type, transfer.currency, transfer.amount, transfer.from.account,
                    transfer.from.kind.rawValue, transfer.to.account, transfer.to.kind.rawValue, transfer.subAccount, transfer.state,
                    transfer.createdAt,
                ])
            var stored = transfer
            stored.id = db.lastInsertedRowID
            try Self.apply(transfer.movement, kind: "transfer", reference: String(stored.id), at: transfer.createdAt, in: db)
            var record = audit
            record.target = String(stored.id)
            try SQLiteAuditLog.append([record], in: db)
            return (stored, true)
        }
    }

    public func transfer(id: Int64) async throws(StoreError) -> TransferRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM transfer WHERE id = ?", arguments: [id]).map(Self.transfer)
        }
    }

    public func transfer(clientID: String, initiator: String) async throws(StoreError) -> TransferRecord? {
        try await database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM transfer WHERE initiator_uid = ? AND client_id = ?", arguments: [initiator, clientID]
            ).map(Self.transfer)
        }
    }

    public func totals() async throws(StoreError) -> [String: (entries: Int64, balances: Int64)] {
        let (entries, balances) = try await database.read { db in
            let entries = try Row.fetchAll(
                db, sql: "SELECT ccy, SUM(available_delta + frozen_delta) AS total FROM ledger_entry GROUP BY ccy"
            ).map { ($0["ccy"] as String, $0["total"] as Int64) }
            let balances = try Row.fetchAll(
                db, sql: "SELECT ccy, SUM(available + frozen) AS total FROM balance GROUP BY ccy"
            ).map { ($0["ccy"] as String, $0["total"] as Int64) }
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
    static func apply(_ movement: LedgerMovement, kind: String, reference: String, at time: Int64, in db: Database) throws {
        guard movement.isBalanced else { throw StoreError.database("an unbalanced movement was refused") }
        try db.execute(
            sql: "INSERT INTO movement (kind, reference, created_at) VALUES (?, ?, ?)", arguments: [kind, reference, time])
        let movementID = db.lastInsertedRowID
        for entry in movement.entries {
            try db.execute(
                sql: """
                    INSERT INTO ledger_entry (movement_id, account_uid, kind, ccy, available_delta, frozen_delta)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [movementID, entry.account, entry.kind.rawValue, entry.currency, entry.availableDelta, entry.frozenDelta])
            guard entry.account != LedgerEntry.world else { continue }
            try db.execute(
                sql: """
                    INSERT INTO balance (account_uid, kind, ccy, available, frozen, updated_at) VALUES (?, ?, ?, 0, 0, ?)
                    ON CONFLICT (account_uid, kind, ccy) DO NOTHING
                    """,
                arguments: [entry.account, entry.kind.rawValue, entry.currency, time])
            // SQLite turns an integer sum that overflows into a float instead of failing: such a row is not updated.
            try db.execute(
                sql: """
                    UPDATE balance SET available = available + ?1, frozen = frozen + ?2, updated_at = ?3
                    WHERE account_uid = ?4 AND kind = ?5 AND ccy = ?6
                    AND typeof(available + ?1) = 'integer' AND typeof(frozen + ?2) = 'integer'
                    """,
                arguments: [entry.availableDelta, entry.frozenDelta, time, entry.account, entry.kind.rawValue, entry.currency])
            guard db.changesCount == 1 else { throw StoreError.outOfRange("a balance would exceed the largest amount the ledger holds") }
        }
    }

    static func save(_ currency: Currency, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO currency (code, name, scale, chain, withdrawal_fee, min_withdrawal, max_withdrawal,
                daily_withdrawal, can_deposit, can_withdraw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                currency.code, currency.name, currency.scale, currency.chain, currency.withdrawalFee.units,
                currency.minimumWithdrawal.units, currency.maximumWithdrawal.units, currency.dailyWithdrawalLimit.units,
                currency.canDeposit, currency.canWithdraw,
            ])
    }

    static func save(_ instrument: Instrument, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO instrument (inst_id, base_ccy, quote_ccy, tick_sz, lot_sz, min_sz, max_lmt_sz, max_mkt_sz,
                listed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                instrument.id, instrument.base, instrument.quote, instrument.tickSize.fixedText, instrument.lotSize.fixedText,
                instrument.minimumSize.fixedText, instrument.maximumLimitSize.fixedText, instrument.maximumMarketSize.fixedText,
                instrument.listedAt,
            ])
    }

    /// An instrument row; the number of decimals of its tick and lot sizes gives the price and size scales.
    static func instrument(_ row: Row) -> Instrument? {
        func scale(_ text: String) -> Int { text.split(separator: ".").dropFirst().first?.count ?? 0 }
        let tickText: String = row["tick_sz"], lotText: String = row["lot_sz"]
        let priceScale = scale(tickText), sizeScale = scale(lotText)
        guard let tick = Amount(parsing: tickText, scale: priceScale), let lot = Amount(parsing: lotText, scale: sizeScale),
            let minimum = Amount(parsing: row["min_sz"] as String, scale: sizeScale),
            let maxLimit = Amount(parsing: row["max_lmt_sz"] as String, scale: sizeScale),
            let maxMarket = Amount(parsing: row["max_mkt_sz"] as String, scale: sizeScale)
        else { return nil }
        return Instrument(
            id: row["inst_id"], base: row["base_ccy"], quote: row["quote_ccy"], tickSize: tick, lotSize: lot, minimumSize: minimum,
            maximumLimitSize: maxLimit, maximumMarketSize: maxMarket, listedAt: row["listed_at"])
    }

    static func currency(_ row: Row) -> Currency {
        let scale: Int = row["scale"]
        return Currency(
            code: row["code"], name: row["name"], scale: scale, chain: row["chain"],
            withdrawalFee: Amount(units: row["withdrawal_fee"], scale: scale),
            minimumWithdrawal: Amount(units: row["min_withdrawal"], scale: scale),
            maximumWithdrawal: Amount(units: row["max_withdrawal"], scale: scale),
            dailyWithdrawalLimit: Amount(units: row["daily_withdrawal"], scale: scale), canDeposit: row["can_deposit"],
            canWithdraw: row["can_withdraw"])
    }

    static func transfer(_ row: Row) throws -> TransferRecord {
        guard let fromKind = BalanceKind(rawValue: row["from_kind"]), let toKind = BalanceKind(rawValue: row["to_kind"]) else {
            throw StoreError.database("unreadable transfer \(row["id"] as Int64)")
        }
        return TransferRecord(
            id: row["id"], initiator: row["initiator_uid"], clientID: row["client_id"], type: row["type"], currency: row["ccy"],
            amount: row["amount"], from: (row["from_uid"], fromKind), to: (row["to_uid"], toKind), subAccount: row["sub_acct"],
            state: row["state"], createdAt: row["created_at"])
    }
}
