import PostgresNIO

/// Key changes pushed by PostgreSQL: every key write `NOTIFY`s the channel with its change sequence on commit (see
/// ``SQLKeyStore``), and each node follows it on a connection of its own.
struct PostgresKeyChangeFeed: KeyChangeFeed {
    let database: PostgresDatabase
    let channel: String

    func followChanges(_ onChange: @escaping @Sendable (Int64?) async -> Void) async throws(StoreError) {
        try await PostgresChannel(database: database, name: channel).follow(onListening: { await onChange(nil) }) { payload in
            await onChange(Int64(payload))
        }
    }
}
