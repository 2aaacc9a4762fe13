import Foundation
import GRDB
import KeysmithCore

extension SQLiteLedgerStore: WithdrawalStore {
    public func add(address: WithdrawalAddress, audit: AuditRecord) async throws(StoreError) {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO withdrawal_address (account_uid, ccy, address, label, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (account_uid, ccy, address) DO UPDATE SET label = excluded.label
                    """,
                arguments: [address.account, address.currency, address.address, address.label, address.createdAt])
            try SQLiteAuditLog.append([audit], in: db)
        }
    }

    public func removeAddress(account: String, currency: String, address: String, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "DELETE FROM withdrawal_address WHERE account_uid = ? AND ccy = ? AND address = ?",
                arguments: [account, currency, address])
            let removed = db.changesCount == 1
            if removed { try SQLiteAuditLog.append([audit], in: db) }
            return removed
        }
    }

    public func addresses(account: String, currency: String?) async throws(StoreError) -> [WithdrawalAddress] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM withdrawal_address WHERE account_uid = ? AND (? IS NULL OR ccy = ?) ORDER BY ccy, created_at",
                arguments: [account, currency, currency]
            ).map { row in
                WithdrawalAddress(
                    account: row["account_uid"], currency: row["ccy"], address: row["address"], label: row["label"],
                    createdAt: row["created_at"])
            }
        }
    }

    public func request(_ withdrawal: WithdrawalRecord, dailyLimit: Int64, dayStart: Int64, audit: AuditRecord) async throws(StoreError)
        -> (withdrawal: WithdrawalRecord, created: Bool)
    {
        try await database.write { db in
            if !withdrawal.clientID.isEmpty,
                let existing = try Row.fetchOne(
                    db, sql: "SELECT * FROM withdrawal WHERE account_uid = ? AND client_id = ?",
                    arguments: [withdrawal.account, withdrawal.clientID])
            {
                return (try Self.withdrawal(existing), false)
            }
            // The day's total counts every withdrawal that was not given back.
            let today = try Int64.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(amount), 0) FROM withdrawal
                    WHERE account_uid = ? AND ccy = ? AND created_at >= ? AND state IN ('0', '2')
                    """,
                arguments: [withdrawal.account, withdrawal.currency, dayStart]) ?? 0
            let (total, overflow) = today.addingReportingOverflow(withdrawal.amount)
            guard !overflow, total <= dailyLimit else {
                throw StoreError.limitReached("the daily withdrawal limit would be exceeded")
            }
            guard let frozen = withdrawal.total else { throw StoreError.outOfRange("the amount and fee do not fit") }
            try db.execute(
                sql: """
                    INSERT INTO withdrawal (account_uid, client_id, ccy, chain, amount, fee, to_addr, state, tx_id, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)
                    """,
                arguments: [
                    withdrawal.account, withdrawal.clientID, withdrawal.currency, withdrawal.chain, withdrawal.amount, withdrawal.fee,
                    withdrawal.address, WithdrawalState.pending.rawValue, withdrawal.createdAt, withdrawal.updatedAt,
                ])
            var stored = withdrawal
            stored.id = db.lastInsertedRowID
            try Self.apply(
                .freeze(frozen, of: withdrawal.currency, in: withdrawal.account, kind: .funding),
                kind: "withdrawal.request", reference: String(stored.id), at: withdrawal.createdAt, in: db)
            var record = audit
            record.target = String(stored.id)
            try SQLiteAuditLog.append([record], in: db)
            return (stored, true)
        }
    }

    public func settle(id: Int64, to state: WithdrawalState, txID: String, at time: Int64, audit: AuditRecord) async throws(StoreError)
        -> WithdrawalRecord
    {
        try await database.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM withdrawal WHERE id = ?", arguments: [id]) else {
                throw StoreError.notFound("no withdrawal \(id)")
            }
            var withdrawal = try Self.withdrawal(row)
            guard withdrawal.state == .pending else {
                throw StoreError.notFound("withdrawal \(id) is \(withdrawal.state.name), not pending")
            }
            let movement = try withdrawal.settlement(to: state)
            try db.execute(
                sql: "UPDATE withdrawal SET state = ?, tx_id = ?, updated_at = ? WHERE id = ?",
                arguments: [state.rawValue, txID, time, id])
            try Self.apply(movement, kind: "withdrawal.\(state.name)", reference: String(id), at: time, in: db)
            try SQLiteAuditLog.append([audit], in: db)
            withdrawal.state = state
            withdrawal.txID = txID
            withdrawal.updatedAt = time
            return withdrawal
        }
    }

    public func withdrawal(id: Int64) async throws(StoreError) -> WithdrawalRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM withdrawal WHERE id = ?", arguments: [id]).map(Self.withdrawal)
        }
    }

    public func withdrawals(account: String?, state: WithdrawalState?, limit: Int) async throws(StoreError) -> [WithdrawalRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM withdrawal WHERE (?1 IS NULL OR account_uid = ?1) AND (?2 IS NULL OR state = ?2)
                    ORDER BY id DESC LIMIT ?3
                    """,
                arguments: [account, state?.rawValue, limit]
            ).map(Self.withdrawal)
        }
    }

    static func withdrawal(_ row: Row) throws -> WithdrawalRecord {
        guard let state = WithdrawalState(rawValue: row["state"]) else {
            throw StoreError.database("unreadable withdrawal \(row["id"] as Int64)")
        }
        return WithdrawalRecord(
            id: row["id"], account: row["account_uid"], clientID: row["client_id"], currency: row["ccy"], chain: row["chain"],
            amount: row["amount"], fee: row["fee"], address: row["to_addr"], state: state, txID: row["tx_id"],
            createdAt: row["created_at"], updatedAt: row["updated_at"])
    }
}
