import KeysmithCore

extension SQLKeyStore {
    static func setPending(_ change: PendingKeyChange, in tx: SQLTransaction) throws(StoreError) {
        try tx.execute(
            """
            INSERT INTO pending_key_change (api_key, permissions, ip_allowlist, requested_at, effective_at)
            VALUES (\(change.apiKey), \(change.permissions.okxString), \(change.allowlist.okxString), \(change.requestedAt),
            \(change.effectiveAt))
            ON CONFLICT (api_key) DO UPDATE SET permissions = excluded.permissions, ip_allowlist = excluded.ip_allowlist,
            requested_at = excluded.requested_at, effective_at = excluded.effective_at
            """)
    }

    public func pending(apiKey: String) async throws(StoreError) -> PendingKeyChange? {
        try await database.fetchOne("SELECT * FROM pending_key_change WHERE api_key = \(apiKey)", Self.pending)
    }

    public func allPending() async throws(StoreError) -> [PendingKeyChange] {
        try await database.fetchAll("SELECT * FROM pending_key_change ORDER BY effective_at", Self.pending)
    }

    public func cancelPending(apiKey: String, audit: AuditRecord) async throws(StoreError) -> Bool {
        try await database.write { tx throws(StoreError) in
            let cancelled = try tx.execute("DELETE FROM pending_key_change WHERE api_key = \(apiKey)") == 1
            if cancelled { try AuditLog.append([audit], in: tx) }
            return cancelled
        }
    }

    public func applyPending(dueAt now: Int64, audit: @escaping @Sendable (String) -> AuditRecord) async throws(StoreError) -> [String] {
        try await database.write { tx throws(StoreError) in
            let due = try tx.fetchAll(
                "SELECT api_key, permissions, ip_allowlist FROM pending_key_change WHERE effective_at <= \(now) ORDER BY api_key"
            ) { row throws(StoreError) in
                (apiKey: try row("api_key", as: String.self), permissions: try row("permissions", as: String.self),
                 allowlist: try row("ip_allowlist", as: String.self))
            }
            var applied: [String] = []
            for change in due {
                let sequence = try Self.nextSequence(tx)
                let updated = try tx.execute(
                    """
                    UPDATE api_key SET permissions = \(change.permissions), ip_allowlist = \(change.allowlist), change_seq = \(sequence)
                    WHERE api_key = \(change.apiKey) AND revoked_at IS NULL
                    """)
                if updated == 1 {
                    applied.append(change.apiKey)
                    try AuditLog.append([audit(change.apiKey)], in: tx)
                }
                try tx.execute("DELETE FROM pending_key_change WHERE api_key = \(change.apiKey)")
            }
            return applied
        }
    }

    static func pending(_ row: SQLRow) throws(StoreError) -> PendingKeyChange {
        try PendingKeyChange.decode(
            apiKey: try row("api_key"), permissions: try row("permissions"), allowlist: try row("ip_allowlist"),
            requestedAt: try row("requested_at"), effectiveAt: try row("effective_at"))
    }
}
