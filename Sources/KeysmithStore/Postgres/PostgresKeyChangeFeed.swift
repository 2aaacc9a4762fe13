import PostgresNIO

/// Key changes pushed by PostgreSQL: every key write `NOTIFY`s the channel with its change sequence on commit (see
/// ``SQLKeyStore``), and each node follows it on a connection of its own.
struct PostgresKeyChangeFeed: KeyChangeFeed {
    let database: PostgresDatabase
    let channel: String

    func followChanges(_ onChange: @escaping @Sendable (Int64?) async -> Void) async throws(StoreError) {
        do {
            try await database.client.withConnection { connection in
                try await connection.listen(on: channel) { notifications in
                    await onChange(nil)
                    for try await notification in notifications {
                        await onChange(Int64(notification.payload))
                    }
                }
            }
        } catch {
            throw PostgresDatabase.storeError(error)
        }
    }
}
