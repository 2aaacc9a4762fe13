import Foundation
import KeysmithStore
import Testing

/// The two migration files (one per dialect) must build the same schema: every store statement is written once for
/// both, so a column or constraint on one database only is a bug waiting for the other.
@Suite struct SchemaParityTests {
    /// Tables only one database has, and why.
    static let postgresOnly: Set<String> = [
        "schema_migration",  // PostgreSQL's migration ledger (GRDB keeps SQLite's in grdb_migrations)
        "replay_seen",  // replay records shared by nodes; one SQLite process keeps them in memory
        "rate_bucket",  // rate-limit buckets shared by nodes; one SQLite process keeps them in memory
    ]
    static let sqliteOnly: Set<String> = ["grdb_migrations"]

    @Test(.enabled(if: Backend.postgresURL != nil, "needs the test PostgreSQL server"))
    func bothMigrationsBuildTheSameTablesColumnsAndUniqueKeys() async throws {
        let sqliteDatabase = try await TestDatabase.make(.sqlite)
        defer { sqliteDatabase.cleanup() }
        let postgresDatabase = try await TestDatabase.make(.postgres)
        defer { postgresDatabase.cleanup() }
        let sqlite = try SQLiteDatabase(path: sqliteDatabase.location)
        let postgres = try await PostgresDatabase.started(url: postgresDatabase.location, logger: quietLogger, maximumConnections: 2)
        defer { postgres.close() }

        let sqliteSchema = try await Self.schema(SQLDatabase(sqlite), postgres: false).filter { !Self.sqliteOnly.contains($0.key) }
        let postgresSchema = try await Self.schema(SQLDatabase(postgres), postgres: true).filter { !Self.postgresOnly.contains($0.key) }

        #expect(sqliteSchema.count > 20)
        #expect(Set(sqliteSchema.keys) == Set(postgresSchema.keys))
        for table in Set(sqliteSchema.keys).intersection(postgresSchema.keys).sorted() {
            #expect(sqliteSchema[table]?.columns == postgresSchema[table]?.columns, "columns of \(table)")
            #expect(sqliteSchema[table]?.uniqueKeys == postgresSchema[table]?.uniqueKeys, "unique keys of \(table)")
        }
    }

    /// `keysmith copy` moves every table an embedded installation has: a table added without being listed there
    /// would be silently left behind (as the fee schedule once was).
    @Test
    func copyingToPostgresCoversEveryTable() async throws {
        let database = try await TestDatabase.make(.sqlite)
        defer { database.cleanup() }
        let sqlite = try SQLiteDatabase(path: database.location)
        let tables = try await Self.schema(SQLDatabase(sqlite), postgres: false).keys
        let copied = Set(DatabaseCopy.tables.map(\.name))
        #expect(Set(tables).subtracting(DatabaseCopy.notCopied) == copied)
    }

    struct Table: Equatable {
        /// Column name → NOT NULL (primary-key columns count as NOT NULL).
        var columns: [String: Bool] = [:]
        /// The column sets of the primary key and of every unique index or constraint (`lower(x)` counts as `x`, another
        /// expression as `?`).
        var uniqueKeys: Set<[String]> = []
    }

    static func schema(_ database: SQLDatabase, postgres: Bool) async throws -> [String: Table] {
        var tables: [String: Table] = [:]
        if postgres {
            let columns = try await database.fetchAll(
                """
                SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), CAST(is_nullable AS TEXT) FROM information_schema.columns WHERE table_schema = 'public'
                """
            ) { row throws(StoreError) in (try row(at: 0, as: String.self), try row(at: 1, as: String.self), try row(at: 2, as: String.self)) }
            for (table, column, nullable) in columns { tables[table, default: Table()].columns[column] = nullable == "NO" }
            let indexes = try await database.fetchAll(
                """
                SELECT CAST(t.relname AS TEXT), pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
                JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public' AND i.indisunique
                """
            ) { row throws(StoreError) in (try row(at: 0, as: String.self), try row(at: 1, as: String.self)) }
            for (table, definition) in indexes {
                // CREATE UNIQUE INDEX name ON public.table USING btree (a, lower(b)) [WHERE …]
                guard let open = definition.range(of: "USING btree (") else { continue }
                let list = String(definition[open.upperBound...])
                    .replacingOccurrences(of: #"lower\((\w+)\)"#, with: "$1", options: .regularExpression)
                let end = list.firstIndex(of: ")") ?? list.endIndex
                tables[table, default: Table()].uniqueKeys.insert(Self.normalised(String(list[..<end])))
            }
        } else {
            let names = try await database.fetchAll(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ) { row throws(StoreError) in try row(at: 0, as: String.self) }
            for table in names {
                let columns = try await database.fetchAll("SELECT name, \"notnull\", pk FROM pragma_table_info(\(table))") { row throws(StoreError) in
                    (try row(at: 0, as: String.self), try row(at: 1, as: Int64.self) == 1, try row(at: 2, as: Int64.self))
                }
                var entry = Table()
                for (column, notNull, primaryKey) in columns { entry.columns[column] = notNull || primaryKey > 0 }
                let primaryKey = columns.filter { $0.2 > 0 }.sorted { $0.2 < $1.2 }.map(\.0)
                if !primaryKey.isEmpty { entry.uniqueKeys.insert(primaryKey.sorted()) }
                let indexes = try await database.fetchAll(
                    "SELECT name FROM pragma_index_list(\(table)) WHERE \"unique\" = 1 AND origin <> 'pk'"
                ) { row throws(StoreError) in try row(at: 0, as: String.self) }
                for index in indexes {
                    let indexColumns = try await database.fetchAll("SELECT name FROM pragma_index_info(\(index)) ORDER BY seqno") {
                        row throws(StoreError) in try row(at: 0, as: String?.self) ?? "?"
                    }
                    entry.uniqueKeys.insert(indexColumns.sorted())
                }
                tables[table] = entry
            }
        }
        return tables
    }

    /// A column list as names; an expression (other than `lower(column)`) is `?`, as SQLite lists it.
    private static func normalised(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .map { $0.contains("(") || $0.contains(" ") ? "?" : $0 }.sorted()
    }
}
