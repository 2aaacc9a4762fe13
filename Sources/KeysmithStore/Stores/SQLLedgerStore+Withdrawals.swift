import Foundation
import KeysmithCore

extension SQLLedgerStore: WithdrawalStore {
    public func add(address: WithdrawalAddress, audit: AuditRecord) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            try tx.execute(
                """
                INSERT INTO withdrawal_address (account_uid, ccy, address, label, created_at)
                VALUES (\(address.account), \(address.currency), \(address.address), \(address.label), \(address.createdAt))
                ON CONFLICT (account_uid, ccy, address) DO UPDATE SET label = excluded.label
                """)
            try AuditLog.append([audit], in: tx)
        }
    }

    public func removeAddress(account: String, currency: String, address: String, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { tx throws(StoreError) in
            let removed = try tx.execute(
                "DELETE FROM withdrawal_address WHERE account_uid = \(account) AND ccy = \(currency) AND address = \(address)") == 1
            if removed { try AuditLog.append([audit], in: tx) }
            return removed
        }
    }

    public func addresses(account: String, currency: String?) async throws(StoreError) -> [WithdrawalAddress] {
        try await database.fetchAll(
            """
            SELECT * FROM withdrawal_address WHERE account_uid = \(account) AND (CAST(\(currency) AS TEXT) IS NULL OR ccy = \(currency))
            ORDER BY ccy, created_at
            """
        ) { row throws(StoreError) in
            WithdrawalAddress(
                account: try row("account_uid"), currency: try row("ccy"), address: try row("address"), label: try row("label"),
                createdAt: try row("created_at"))
        }
    }

    public func request(_ withdrawal: WithdrawalRecord, dailyLimit: Int64, dayStart: Int64, audit: AuditRecord) async throws(StoreError)
        -> (withdrawal: WithdrawalRecord, created: Bool)
    {
        let (stored, created) = try await database.write { tx throws(StoreError) in
            if !withdrawal.clientID.isEmpty,
                let existing = try tx.fetchOne(
                    "SELECT * FROM withdrawal WHERE account_uid = \(withdrawal.account) AND client_id = \(withdrawal.clientID)",
                    Self.withdrawal)
            {
                return (existing, false)
            }
            // The day's total counts every withdrawal that was not given back.
            let today =
                try tx.value(
                    """
                    SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM withdrawal
                    WHERE account_uid = \(withdrawal.account) AND ccy = \(withdrawal.currency) AND created_at >= \(dayStart)
                    AND state IN ('0', '2')
                    """, as: Int64.self) ?? 0
            let (total, overflow) = today.addingReportingOverflow(withdrawal.amount)
            guard !overflow, total <= dailyLimit else {
                throw StoreError.limitReached(.dailyWithdrawal, "the daily withdrawal limit would be exceeded")
            }
            guard let frozen = withdrawal.total else { throw StoreError.outOfRange("the amount and fee do not fit") }
            var stored = withdrawal
            stored.id = try Self.insert(
                """
                INSERT INTO withdrawal (account_uid, client_id, ccy, chain, amount, fee, to_addr, state, tx_id, created_at, updated_at)
                VALUES (\(withdrawal.account), \(withdrawal.clientID), \(withdrawal.currency), \(withdrawal.chain), \(withdrawal.amount),
                \(withdrawal.fee), \(withdrawal.address), \(WithdrawalState.pending.rawValue), '', \(withdrawal.createdAt),
                \(withdrawal.updatedAt))
                RETURNING id
                """, in: tx)
            try Self.apply(
                .freeze(frozen, of: withdrawal.currency, in: withdrawal.account, kind: .funding),
                kind: "withdrawal.request", reference: String(stored.id), at: withdrawal.createdAt, in: tx)
            var record = audit
            record.target = String(stored.id)
            try AuditLog.append([record], in: tx)
            return (stored, true)
        }
        return (stored, created)
    }

    public func settle(id: Int64, to state: WithdrawalState, txID: String, at time: Int64, audit: AuditRecord) async throws(StoreError)
        -> WithdrawalRecord
    {
        try await database.write { tx throws(StoreError) in
            guard var withdrawal = try tx.fetchOne("SELECT * FROM withdrawal WHERE id = \(id)", Self.withdrawal) else {
                throw StoreError.notFound(.pendingWithdrawal, "no withdrawal \(id)")
            }
            guard withdrawal.state == .pending else {
                throw StoreError.notFound(.pendingWithdrawal, "withdrawal \(id) is \(withdrawal.state.name), not pending")
            }
            let movement = try withdrawal.settlement(to: state)
            try tx.execute("UPDATE withdrawal SET state = \(state.rawValue), tx_id = \(txID), updated_at = \(time) WHERE id = \(id)")
            try Self.apply(movement, kind: "withdrawal.\(state.name)", reference: String(id), at: time, in: tx)
            try AuditLog.append([audit], in: tx)
            withdrawal.state = state
            withdrawal.txID = txID
            withdrawal.updatedAt = time
            return withdrawal
        }
    }

    public func withdrawal(id: Int64) async throws(StoreError) -> WithdrawalRecord? {
        try await database.fetchOne("SELECT * FROM withdrawal WHERE id = \(id)", Self.withdrawal)
    }

    public func withdrawals(account: String?, state: WithdrawalState?, limit: Int) async throws(StoreError) -> [WithdrawalRecord] {
        let stateText = state?.rawValue
        return try await database.fetchAll(
            """
            SELECT * FROM withdrawal WHERE (CAST(\(account) AS TEXT) IS NULL OR account_uid = \(account))
            AND (CAST(\(stateText) AS TEXT) IS NULL OR state = \(stateText)) ORDER BY id DESC LIMIT \(limit)
            """, Self.withdrawal)
    }

    static func withdrawal(_ row: SQLRow) throws(StoreError) -> WithdrawalRecord {
        guard let state = WithdrawalState(rawValue: try row("state")) else {
            throw StoreError.database("unreadable withdrawal \(try row("id", as: Int64.self))")
        }
        return WithdrawalRecord(
            id: try row("id"), account: try row("account_uid"), clientID: try row("client_id"), currency: try row("ccy"),
            chain: try row("chain"), amount: try row("amount"), fee: try row("fee"), address: try row("to_addr"), state: state,
            txID: try row("tx_id"), createdAt: try row("created_at"), updatedAt: try row("updated_at"))
    }
}
