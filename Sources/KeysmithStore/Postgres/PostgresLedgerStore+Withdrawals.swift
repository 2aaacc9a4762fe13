import Foundation
import KeysmithCore
import PostgresNIO

extension PostgresLedgerStore: WithdrawalStore {
    public func add(address: WithdrawalAddress, audit: AuditRecord) async throws(StoreError) {
        try await database.write { connection, logger in
            try await connection.query(
                """
                INSERT INTO withdrawal_address (account_uid, ccy, address, label, created_at)
                VALUES (\(address.account), \(address.currency), \(address.address), \(address.label), \(address.createdAt))
                ON CONFLICT (account_uid, ccy, address) DO UPDATE SET label = EXCLUDED.label
                """, logger: logger)
            try await PostgresAuditLog.append([audit], on: connection, logger)
        }
    }

    public func removeAddress(account: String, currency: String, address: String, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { connection, logger in
            let removed = try await connection.query(
                """
                DELETE FROM withdrawal_address WHERE account_uid = \(account) AND ccy = \(currency) AND address = \(address)
                RETURNING address
                """, logger: logger
            ).collect(String.self)
            if !removed.isEmpty { try await PostgresAuditLog.append([audit], on: connection, logger) }
            return !removed.isEmpty
        }
    }

    public func addresses(account: String, currency: String?) async throws(StoreError) -> [WithdrawalAddress] {
        try await database.read { connection, logger in
            try await connection.query(
                """
                SELECT * FROM withdrawal_address WHERE account_uid = \(account) AND (\(currency)::TEXT IS NULL OR ccy = \(currency))
                ORDER BY ccy, created_at
                """, logger: logger
            ).rows().map { row in
                WithdrawalAddress(
                    account: try row("account_uid"), currency: try row("ccy"), address: try row("address"), label: try row("label"),
                    createdAt: try row("created_at"))
            }
        }
    }

    public func request(_ withdrawal: WithdrawalRecord, dailyLimit: Int64, dayStart: Int64, audit: AuditRecord) async throws(StoreError)
        -> (withdrawal: WithdrawalRecord, created: Bool)
    {
        let (stored, created) = try await database.write { connection, logger in
            if !withdrawal.clientID.isEmpty,
                let existing = try await connection.query(
                    "SELECT * FROM withdrawal WHERE account_uid = \(withdrawal.account) AND client_id = \(withdrawal.clientID)",
                    logger: logger
                ).rows().first
            {
                return (try Self.withdrawal(existing), false)
            }
            // The day's total counts every withdrawal that was not given back.
            let today = try await connection.query(
                """
                SELECT COALESCE(SUM(amount), 0)::BIGINT FROM withdrawal
                WHERE account_uid = \(withdrawal.account) AND ccy = \(withdrawal.currency) AND created_at >= \(dayStart)
                AND state IN ('0', '2')
                """, logger: logger
            ).collect(Int64.self).first ?? 0
            let (total, overflow) = today.addingReportingOverflow(withdrawal.amount)
            guard !overflow, total <= dailyLimit else {
                throw StoreError.limitReached("the daily withdrawal limit would be exceeded")
            }
            guard let frozen = withdrawal.total else { throw StoreError.outOfRange("the amount and fee do not fit") }
            var stored = withdrawal
            stored.id = try await connection.query(
                """
                INSERT INTO withdrawal (account_uid, client_id, ccy, chain, amount, fee, to_addr, state, tx_id, created_at, updated_at)
                VALUES (\(withdrawal.account), \(withdrawal.clientID), \(withdrawal.currency), \(withdrawal.chain), \(withdrawal.amount),
                \(withdrawal.fee), \(withdrawal.address), \(WithdrawalState.pending.rawValue), '', \(withdrawal.createdAt),
                \(withdrawal.updatedAt))
                RETURNING id
                """, logger: logger
            ).collect(Int64.self).first ?? 0
            try await Self.apply(
                .freeze(frozen, of: withdrawal.currency, in: withdrawal.account, kind: .funding),
                kind: "withdrawal.request", reference: String(stored.id), at: withdrawal.createdAt, on: connection, logger)
            var record = audit
            record.target = String(stored.id)
            try await PostgresAuditLog.append([record], on: connection, logger)
            return (stored, true)
        }
        return (stored, created)
    }

    public func settle(id: Int64, to state: WithdrawalState, txID: String, at time: Int64, audit: AuditRecord) async throws(StoreError)
        -> WithdrawalRecord
    {
        try await database.write { connection, logger in
            guard let row = try await connection.query("SELECT * FROM withdrawal WHERE id = \(id)", logger: logger).rows().first else {
                throw StoreError.notFound("no withdrawal \(id)")
            }
            var withdrawal = try Self.withdrawal(row)
            guard withdrawal.state == .pending else {
                throw StoreError.notFound("withdrawal \(id) is \(withdrawal.state.name), not pending")
            }
            let movement = try withdrawal.settlement(to: state)
            try await connection.query(
                "UPDATE withdrawal SET state = \(state.rawValue), tx_id = \(txID), updated_at = \(time) WHERE id = \(id)", logger: logger)
            try await Self.apply(movement, kind: "withdrawal.\(state.name)", reference: String(id), at: time, on: connection, logger)
            try await PostgresAuditLog.append([audit], on: connection, logger)
            withdrawal.state = state
            withdrawal.txID = txID
            withdrawal.updatedAt = time
            return withdrawal
        }
    }

    public func withdrawal(id: Int64) async throws(StoreError) -> WithdrawalRecord? {
        try await database.read { connection, logger in
            try await connection.query("SELECT * FROM withdrawal WHERE id = \(id)", logger: logger).rows().first.map(Self.withdrawal)
        }
    }

    public func withdrawals(account: String?, state: WithdrawalState?, limit: Int) async throws(StoreError) -> [WithdrawalRecord] {
        let stateText = state?.rawValue
        return try await database.read { connection, logger in
            try await connection.query(
                """
                SELECT * FROM withdrawal WHERE (\(account)::TEXT IS NULL OR account_uid = \(account))
                AND (\(stateText)::TEXT IS NULL OR state = \(stateText)) ORDER BY id DESC LIMIT \(Int64(limit))
                """, logger: logger
            ).rows().map(Self.withdrawal)
        }
    }

    static func withdrawal(_ row: PostgresRandomAccessRow) throws -> WithdrawalRecord {
        guard let state = WithdrawalState(rawValue: try row("state")) else {
            throw StoreError.database("unreadable withdrawal \(try row("id", as: Int64.self))")
        }
        return WithdrawalRecord(
            id: try row("id"), account: try row("account_uid"), clientID: try row("client_id"), currency: try row("ccy"),
            chain: try row("chain"), amount: try row("amount"), fee: try row("fee"), address: try row("to_addr"), state: state,
            txID: try row("tx_id"), createdAt: try row("created_at"), updatedAt: try row("updated_at"))
    }
}
