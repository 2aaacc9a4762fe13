import Foundation
import GRDB
import KeysmithCore

/// ``OrderStore`` on the embedded SQLite database.
public struct SQLiteOrderStore: OrderStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func place(_ placement: OrderPlacement, audit: AuditRecord) async throws(StoreError) -> (order: Order, fills: [Fill]) {
        try await database.write { db in
            var order = placement.order
            if !order.clientOrderID.isEmpty,
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM spot_order WHERE account_uid = ? AND client_order_id = ?",
                    arguments: [order.account, order.clientOrderID]) == true
            {
                throw StoreError.duplicate("clOrdId \(order.clientOrderID) already exists")
            }
            try db.execute(
                sql: """
                    INSERT INTO spot_order (client_order_id, tag, account_uid, api_key, inst_id, side, ord_type, price, size, tgt_ccy,
                    filled, filled_notional, state, frozen, notional, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    order.clientOrderID, order.tag, order.account, order.apiKey, order.instrument, order.side.rawValue,
                    order.type.rawValue, order.price, order.size, order.targetCurrency, order.filled, order.filledNotional,
                    order.state.rawValue, order.frozen, placement.notional, order.createdAt, order.updatedAt,
                ])
            order.id = db.lastInsertedRowID
            for maker in placement.makers {
                try db.execute(
                    sql: "UPDATE spot_order SET filled = ?, filled_notional = ?, state = ?, frozen = ?, updated_at = ? WHERE id = ?",
                    arguments: [maker.filled, maker.filledNotional, maker.state.rawValue, maker.frozen, maker.updatedAt, maker.id])
            }
            var fills: [Fill] = []
            for var fill in placement.fills {
                fill.takerOrder = order.id
                try db.execute(
                    sql: """
                        INSERT INTO fill (inst_id, taker_order, maker_order, taker_uid, maker_uid, side, price, size, notional, time)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        fill.instrument, fill.takerOrder, fill.makerOrder, fill.takerAccount, fill.makerAccount, fill.side.rawValue,
                        fill.price, fill.size, fill.notional, fill.time,
                    ])
                fill.tradeID = db.lastInsertedRowID
                fills.append(fill)
            }
            for movement in placement.movements {
                try SQLiteLedgerStore.apply(movement, kind: "order", reference: String(order.id), at: order.createdAt, in: db)
            }
            var record = audit
            record.target = String(order.id)
            try SQLiteAuditLog.append([record], in: db)
            return (order, fills)
        }
    }

    public func cancel(_ order: Order, release: LedgerMovement?, at time: Int64, audit: AuditRecord) async throws(StoreError) -> Order {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE spot_order SET state = 'canceled', frozen = 0, updated_at = ?
                    WHERE id = ? AND state IN ('live', 'partially_filled')
                    """,
                arguments: [time, order.id])
            guard db.changesCount == 1 else { throw StoreError.notFound("order \(order.id) is not open") }
            if let release {
                try SQLiteLedgerStore.apply(release, kind: "order.cancel", reference: String(order.id), at: time, in: db)
            }
            try SQLiteAuditLog.append([audit], in: db)
            var canceled = order
            canceled.state = .canceled
            canceled.frozen = 0
            canceled.updatedAt = time
            return canceled
        }
    }

    public func order(id: Int64) async throws(StoreError) -> Order? {
        try await fetch(sql: "SELECT * FROM spot_order WHERE id = ?", arguments: [id]).first
    }

    public func order(clientOrderID: String, account: String) async throws(StoreError) -> Order? {
        try await fetch(
            sql: "SELECT * FROM spot_order WHERE account_uid = ? AND client_order_id = ?", arguments: [account, clientOrderID]
        ).first
    }

    public func orders(account: String, instrument: String?, open: Bool, limit: Int) async throws(StoreError) -> [Order] {
        try await fetch(
            sql: """
                SELECT * FROM spot_order WHERE account_uid = ? AND (? IS NULL OR inst_id = ?)
                AND (state IN ('live', 'partially_filled')) = ? ORDER BY id DESC LIMIT ?
                """,
            arguments: [account, instrument, instrument, open, limit])
    }

    public func openOrders() async throws(StoreError) -> [Order] {
        try await fetch(sql: "SELECT * FROM spot_order WHERE state IN ('live', 'partially_filled') ORDER BY id", arguments: [])
    }

    public func fills(account: String, instrument: String?, limit: Int) async throws(StoreError) -> [Fill] {
        try await fetchFills(
            sql: """
                SELECT * FROM fill WHERE (taker_uid = ?1 OR maker_uid = ?1) AND (?2 IS NULL OR inst_id = ?2)
                ORDER BY trade_id DESC LIMIT ?3
                """,
            arguments: [account, instrument, limit])
    }

    public func trades(instrument: String, limit: Int) async throws(StoreError) -> [Fill] {
        try await fetchFills(sql: "SELECT * FROM fill WHERE inst_id = ? ORDER BY trade_id DESC LIMIT ?", arguments: [instrument, limit])
    }

    public func notional(apiKey: String, since time: Int64) async throws(StoreError) -> Int64 {
        try await database.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT COALESCE(SUM(notional), 0) FROM spot_order WHERE api_key = ? AND created_at >= ?",
                arguments: [apiKey, time]) ?? 0
        }
    }

    // MARK: - Rows

    private func fetch(sql: String, arguments: StatementArguments) async throws(StoreError) -> [Order] {
        try await database.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.order) }
    }

    private func fetchFills(sql: String, arguments: StatementArguments) async throws(StoreError) -> [Fill] {
        try await database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                Fill(
                    tradeID: row["trade_id"], instrument: row["inst_id"], takerOrder: row["taker_order"], makerOrder: row["maker_order"],
                    takerAccount: row["taker_uid"], makerAccount: row["maker_uid"],
                    side: OrderSide(rawValue: row["side"]) ?? .buy, price: row["price"], size: row["size"], notional: row["notional"],
                    time: row["time"])
            }
        }
    }

    static func order(_ row: Row) throws -> Order {
        guard let side = OrderSide(rawValue: row["side"]), let type = OrderType(rawValue: row["ord_type"]),
            let state = OrderState(rawValue: row["state"])
        else { throw StoreError.database("unreadable order \(row["id"] as Int64)") }
        return Order(
            id: row["id"], clientOrderID: row["client_order_id"], tag: row["tag"], account: row["account_uid"], apiKey: row["api_key"],
            instrument: row["inst_id"], side: side, type: type, price: row["price"], size: row["size"], targetCurrency: row["tgt_ccy"],
            filled: row["filled"], filledNotional: row["filled_notional"], state: state, frozen: row["frozen"],
            createdAt: row["created_at"], updatedAt: row["updated_at"])
    }
}
