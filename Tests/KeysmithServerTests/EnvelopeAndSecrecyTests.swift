import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import PostgresNIO
import Testing

@Suite struct EnvelopeTests {
    @Test
    func publicTimeNeedsNoKey() async throws {
        try await Harness.run { h in
            let reply = try await h.call(.get, "/api/v5/public/time", as: nil)
            #expect(reply.code == "0")
            #expect(reply.data.first?["ts"] as? String == String(h.clock.milliseconds))
        }
    }

    @Test(arguments: ["/", "/api/v5/nope", "/api/v5/account/config/extra", "/consoles"])
    func unknownRoutesAnswerOKXJSON(_ path: String) async throws {
        try await Harness.run { h in
            let reply = try await h.call(.get, path, as: nil)
            #expect(reply.status == 404)
            #expect(reply.code == "50005")
            #expect(reply.headers[.contentType] == "application/json")
        }
    }

    @Test
    func wrongMethodAnswersOKXJSON() async throws {
        try await Harness.run { h in
            let reply = try await h.call(.post, "/api/v5/public/time", body: "{}", as: nil)
            #expect(reply.code == "50005")
        }
    }

    @Test
    func balanceHasOKXShape() async throws {
        try await Harness.run { h in
            let reply = try await h.call(.get, "/api/v5/account/balance", as: h.master)
            let item = try #require(reply.data.first)
            #expect(item["totalEq"] as? String == "0")
            #expect(item["details"] as? [Any] != nil)
            #expect(item["uTime"] as? String == String(h.clock.milliseconds))
        }
    }

    @Test
    func serverKeepsServingAfterGarbage() async throws {
        try await Harness.run { h in
            for body in ["{", "null", "[[[[", String(repeating: "x", count: 10_000)] {
                _ = try await h.call(.post, "/api/v5/users/subaccount/apikey", body: body, as: h.master)
            }
            #expect(try await h.call(.get, "/api/v5/account/config", as: h.master).code == "0")
        }
    }
}

/// Secrets never leak: not in logs, error messages, later responses or the database file.
@Suite struct SecrecyTests {
    @Test
    func noSecretInLogsOrErrorResponses() async throws {
        try await Harness.run { h in
            let created = try await h.call(
                .post, "/api/v5/users/subaccount/apikey",
                body: #"{"subAcct":"bot01trader","label":"leak","passphrase":"Leak-Test9","ip":"127.0.0.1"}"#, as: h.master)
            _ = created
            let key = try await h.subAccountKey(allowlist: "127.0.0.1")
            var replies: [OKXReply] = []
            let wrong = KeyCredentials(apiKey: key.apiKey, secretKey: key.secretKey, passphrase: "Wrong-pass1")
            replies.append(try await h.call(.get, "/api/v5/account/config", as: wrong))
            replies.append(try await h.call(.get, "/api/v5/account/config", as: key, from: "203.0.113.1"))
            replies.append(try await h.call(.get, "/api/v5/account/config", as: key, signedAt: "bad"))
            replies.append(try await h.call(.get, "/api/v5/account/config", as: key))
            let sign = OKXSigner(secret: key.secretKey).signature(
                timestamp: OKXTimestamp.string(fromMilliseconds: h.clock.milliseconds), method: "GET", requestPath: "/api/v5/account/config", body: "")
            let logs = h.logs.text
            #expect(logs.contains("request"))
            for secret in [key.secretKey, key.passphrase, h.master.secretKey, h.master.passphrase, "Leak-Test9", "Wrong-pass1", sign] {
                #expect(!logs.contains(secret))
                for reply in replies { #expect(!reply.raw.contains(secret)) }
            }
        }
    }

    @Test
    func databaseHoldsNoSecretInClear() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            var bytes = Data()
            if let postgres = h.installation.postgres {
                // Every row of every table as text; bytea columns print as hex, so secrets are searched in hex too.
                var tables: [String] = []
                for try await name in try await postgres.client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    .decode(String.self)
                {
                    tables.append(name)
                }
                for table in tables {
                    let rows = try await postgres.client.query(
                        PostgresQuery(unsafeSQL: "SELECT COALESCE(string_agg(t::text, E'\\n'), '') FROM \"\(table)\" t"))
                    for try await text in rows.decode(String.self) { bytes.append(Data(text.utf8)) }
                }
                for secret in [key.secretKey, key.passphrase, h.master.secretKey, h.master.passphrase] {
                    let hex = Data(secret.utf8).map { String(format: "%02x", $0) }.joined()
                    #expect(bytes.range(of: Data(hex.utf8)) == nil)
                }
            } else {
                let database = try #require(h.installation.database)
                try await database.checkpoint()
                for suffix in ["", "-wal", "-shm"] {
                    let path = database.path + suffix
                    if let data = FileManager.default.contents(atPath: path) { bytes.append(data) }
                }
            }
            #expect(bytes.count > 0)
            for secret in [key.secretKey, key.passphrase, h.master.secretKey, h.master.passphrase] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil)
                #expect(bytes.range(of: Data(secret.lowercased().utf8)) == nil)
            }
            // The API key id itself is public and is stored.
            #expect(bytes.range(of: Data(key.apiKey.utf8)) != nil)
        }
    }
}
