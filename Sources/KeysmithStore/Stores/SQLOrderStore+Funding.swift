import KeysmithCore

extension SQLOrderStore {
    public func settleFunding(_ settlement: FundingSettlement, movement: LedgerMovement?, positions: [FundingChange], audit: AuditRecord)
        async throws(StoreError)
    {
        try await database.write { tx throws(StoreError) in
            if try tx.exists(
                "SELECT 1 FROM funding_settlement WHERE inst_id = \(settlement.instrument) AND funding_time = \(settlement.time)")
            {
                throw StoreError.duplicate(.fundingSettlement, "\(settlement.instrument) was already settled at \(settlement.time)")
            }
            try tx.execute(
                """
                INSERT INTO funding_settlement (inst_id, funding_time, rate, mark, method, created_at)
                VALUES (\(settlement.instrument), \(settlement.time), \(settlement.rate.text), \(settlement.mark.text),
                \(settlement.method), \(audit.time))
                """)
            if let movement {
                try SQLLedgerStore.apply(movement, kind: "funding", reference: settlement.instrument, at: settlement.time, in: tx)
            }
            for change in positions {
                // Relative updates: what the settlement changed, whatever else the row holds.
                try tx.execute(
                    """
                    UPDATE position SET margin = margin - \(change.marginTaken), funding_fee = funding_fee + \(change.funding),
                    updated_at = \(settlement.time) WHERE id = \(change.position)
                    """)
            }
            try AuditLog.append([audit], in: tx)
        }
    }

    public func fundingSettlements(instrument: String, matching page: Page) async throws(StoreError) -> [FundingSettlement] {
        let found = try await database.fetchAll(
            """
            SELECT * FROM funding_settlement WHERE inst_id = \(instrument)
            AND (CAST(\(page.after) AS BIGINT) IS NULL OR funding_time < \(page.after))
            AND (CAST(\(page.before) AS BIGINT) IS NULL OR funding_time > \(page.before))
            AND (CAST(\(page.begin) AS BIGINT) IS NULL OR funding_time >= \(page.begin))
            AND (CAST(\(page.end) AS BIGINT) IS NULL OR funding_time <= \(page.end))
            ORDER BY funding_time \(unsafe: page.readsOldestFirst ? "ASC" : "DESC") LIMIT \(page.limit)
            """
        ) { row throws(StoreError) in
            let rate = try row("rate", as: String.self), mark = try row("mark", as: String.self)
            guard let rateAmount = Amount(parsing: rate, scale: Funding.scale), let markAmount = Amount(parsing: mark, scale: mark.decimals)
            else { throw StoreError.database("unreadable funding settlement") }
            return FundingSettlement(
                instrument: try row("inst_id"), time: try row("funding_time"), rate: rateAmount, mark: markAmount, method: try row("method"))
        }
        return page.readsOldestFirst ? found.reversed() : found
    }

    public func requestFunding(instrument: String, at time: Int64) async throws(StoreError) -> Int64 {
        try await database.write { tx throws(StoreError) in
            try SQLLedgerStore.insert(
                "INSERT INTO funding_request (inst_id, requested_at) VALUES (\(instrument), \(time)) RETURNING id", in: tx)
        }
    }

    public func pendingFundingRequests() async throws(StoreError) -> [(id: Int64, instrument: String)] {
        let rows = try await database.fetchAll(
            "SELECT id, inst_id FROM funding_request WHERE claimed_at IS NULL AND settled_at IS NULL ORDER BY id"
        ) { row throws(StoreError) in (try row("id", as: Int64.self), try row("inst_id", as: String.self)) }
        return rows.map { (id: $0.0, instrument: $0.1) }
    }

    public func claimFundingRequest(_ id: Int64, at time: Int64) async throws(StoreError) -> Bool {
        try await database.write { tx throws(StoreError) in
            try tx.execute(
                "UPDATE funding_request SET claimed_at = \(time) WHERE id = \(id) AND claimed_at IS NULL AND settled_at IS NULL") == 1
        }
    }

    public func finishFundingRequest(_ id: Int64, at time: Int64, failure: String?) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            try tx.execute("UPDATE funding_request SET settled_at = \(time), outcome = \(failure ?? "") WHERE id = \(id)")
        }
    }

    public func fundingRequestOutcome(_ id: Int64) async throws(StoreError) -> String? {
        let rows = try await database.fetchAll("SELECT settled_at, outcome FROM funding_request WHERE id = \(id)") { row throws(StoreError) in
            (try row("settled_at", as: Int64?.self), try row("outcome", as: String.self))
        }
        guard let row = rows.first, row.0 != nil else { return nil }
        return row.1
    }
}

extension String {
    /// The decimals of a decimal number's text ("31000.5" → 1).
    fileprivate var decimals: Int {
        guard let dot = firstIndex(of: ".") else { return 0 }
        return distance(from: index(after: dot), to: endIndex)
    }
}
