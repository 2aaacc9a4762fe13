import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import Testing

/// `/api/v5/users/subaccount/...` with OKX's rules.
@Suite struct SubAccountRoutesTests {
    static let createKey = "/api/v5/users/subaccount/apikey"

    @Test
    func masterCreatesASubAccountAndAKeyThatWorks() async throws {
        try await Harness.run { h in
            let created = try await h.call(
                .post, "/api/v5/users/subaccount/create-subaccount", body: #"{"subAcct": "bot01trader", "type": "1", "label": "bots", "pwd": ""}"#,
                as: h.master)
            #expect(created.code == "0")
            #expect(created.data.first?["subAcct"] as? String == "bot01trader")
            let list = try await h.call(.get, "/api/v5/users/subaccount/list", as: h.master)
            #expect(list.data.map { $0["subAcct"] as? String } == ["bot01trader"])
            #expect(list.data.first?["enable"] as? Bool == true)

            let key = try await h.call(
                .post, Self.createKey,
                body: #"{"subAcct": "bot01trader", "label": "platform", "passphrase": "Abcdef1!", "perm": "read_only,trade", "ip": "127.0.0.1"}"#,
                as: h.master)
            #expect(key.code == "0")
            #expect(key.headers[.cacheControl] == "no-store")
            let item = try #require(key.data.first)
            let apiKey = try #require(item["apiKey"] as? String), secret = try #require(item["secretKey"] as? String)
            #expect(KeyMaterial.isAPIKey(apiKey))
            #expect(KeyMaterial.isSecret(secret))
            #expect(item["perm"] as? String == "read_only,trade")
            let credentials = KeyCredentials(apiKey: apiKey, secretKey: secret, passphrase: "Abcdef1!")
            let config = try await h.call(.get, "/api/v5/account/config", as: credentials)
            #expect(config.code == "0")
            #expect(config.data.first?["label"] as? String == "platform")
            #expect(config.data.first?["mainUid"] as? String != config.data.first?["uid"] as? String)
            // The secret is shown once: querying never returns it.
            let query = try await h.call(.get, "\(Self.createKey)?subAcct=bot01trader", as: h.master)
            #expect(query.code == "0")
            #expect(!query.raw.contains(secret))
            #expect(!query.raw.contains("Abcdef1!"))
            #expect(query.data.first?["apiKey"] as? String == apiKey)
        }
    }

    @Test
    func modifyReplacesLabelPermissionsAndIPs() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "127.0.0.1,198.51.100.0/24")
            // Narrowing (fewer permissions, a sub-range) is live at once.
            let modified = try await h.call(
                .post, "/api/v5/users/subaccount/modify-apikey",
                body: #"{"subAcct":"bot01trader","apiKey":"\#(key.apiKey)","label":"renamed","perm":"read_only","ip":"198.51.100.1"}"#,
                as: h.master)
            #expect(modified.code == "0")
            #expect(modified.data.first?["ip"] as? String == "198.51.100.1")
            #expect(try await h.call(.get, "/api/v5/account/config", as: key).code == "50110")
            let config = try await h.call(.get, "/api/v5/account/config", as: key, from: "198.51.100.1")
            #expect(config.data.first?["perm"] as? String == "read_only")
            #expect(config.data.first?["label"] as? String == "renamed")
            // Moving to an address outside the list widens it: the response shows what is in force, the move cools down.
            let moved = try await h.call(
                .post, "/api/v5/users/subaccount/modify-apikey", body: #"{"subAcct":"bot01trader","apiKey":"\#(key.apiKey)","ip":"203.0.113.50"}"#,
                as: h.master)
            #expect(moved.data.first?["ip"] as? String == "198.51.100.1")
            #expect(try await h.call(.get, "/api/v5/account/config", as: key, from: "203.0.113.50").code == "50110")
            h.clock.advance(by: KeyService.defaultCooldown)
            try await h.installation.keys.applyDueChanges()
            #expect(try await h.call(.get, "/api/v5/account/config", as: key, from: "203.0.113.50").code == "0")
        }
    }

    @Test
    func deleteRevokesAtOnce() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            let deleted = try await h.call(
                .post, "/api/v5/users/subaccount/delete-apikey", body: #"{"subAcct":"bot01trader","apiKey":"\#(key.apiKey)"}"#, as: h.master)
            #expect(deleted.code == "0")
            #expect(try await h.call(.get, "/api/v5/account/config", as: key).code == "50111")
            h.clock.advance(by: 1)  // a retry is signed afresh; the identical POST would be a replay (50042)
            let again = try await h.call(
                .post, "/api/v5/users/subaccount/delete-apikey", body: #"{"subAcct":"bot01trader","apiKey":"\#(key.apiKey)"}"#, as: h.master)
            #expect(again.code == "59506")
        }
    }

    @Test
    func subAccountKeysCannotManageKeys() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "127.0.0.1")
            let reply = try await h.call(.get, "/api/v5/users/subaccount/list", as: key)
            #expect(reply.code == "59500")
            let create = try await h.call(
                .post, Self.createKey, body: #"{"subAcct":"bot01trader","label":"x","passphrase":"Abcdef1!"}"#, as: key)
            #expect(create.code == "59500")
        }
    }

    @Test
    func masterKeyMustBeIPBoundToManageKeys() async throws {
        try await Harness.run { h in
            _ = try await h.existingOrNewSubAccount("bot01trader")
            let master = try await h.installation.accounts.master()
            let unbound = try await h.installation.keys.create(
                NewKeyRequest(account: master, label: "unbound", permissions: [.readOnly, .trade]), origin: .test).credentials
            let reply = try await h.call(
                .post, Self.createKey, body: #"{"subAcct":"bot01trader","label":"x","passphrase":"Abcdef1!"}"#, as: unbound)
            #expect(reply.code == "50035")
            #expect(reply.status == 403)
            // Reading is allowed without a binding.
            #expect(try await h.call(.get, "/api/v5/users/subaccount/list", as: unbound).code == "0")
        }
    }

    @Test(arguments: [
        (#"{"subAcct":"bot01trader","label":"x","passphrase":"weak"}"#, "59505"),
        (#"{"subAcct":"bot01trader","label":"x","passphrase":"Abcdef1!","perm":"read_only,withdraw"}"#, "51000"),
        (#"{"subAcct":"bot01trader","label":"x","passphrase":"Abcdef1!","perm":"admin"}"#, "51000"),
        (#"{"subAcct":"bot01trader","label":"x","passphrase":"Abcdef1!","ip":"999.1.1.1"}"#, "51000"),
        (#"{"subAcct":"nosuchsub1","label":"x","passphrase":"Abcdef1!"}"#, "58115"),
        (#"{"subAcct":"bot01trader","passphrase":"Abcdef1!"}"#, "50014"),
        (#"{"subAcct":"bot01trader","label":"","passphrase":"Abcdef1!"}"#, "50014"),
        (#"{"subAcct":"bot01trader","label":null,"passphrase":"Abcdef1!"}"#, "50014"),
        (#"{"subAcct":"bot01trader","label":"x","passphrase":"Abcdef1!""#, "50002"),
        (#"["subAcct"]"#, "50002"),
        ("", "50000"),
    ])
    func createKeyRejectsBadInput(_ body: String, _ code: String) async throws {
        try await Harness.run { h in
            _ = try await h.existingOrNewSubAccount("bot01trader")
            let reply = try await h.call(.post, Self.createKey, body: body, as: h.master)
            #expect(reply.code == code, "\(reply.msg)")
            #expect(try await h.installation.keys.keys(of: h.existingOrNewSubAccount("bot01trader")).isEmpty)
        }
    }

    @Test
    func moreThanTwentyIPsIs59503() async throws {
        try await Harness.run { h in
            _ = try await h.existingOrNewSubAccount("bot01trader")
            let ips = (1...21).map { "192.0.2.\($0)" }.joined(separator: ",")
            let reply = try await h.call(
                .post, Self.createKey, body: #"{"subAcct":"bot01trader","label":"x","passphrase":"Abcdef1!","ip":"\#(ips)"}"#, as: h.master)
            #expect(reply.code == "59503")
        }
    }

    @Test
    func labelsAreUniqueAndKeysLimitedTo50() async throws {
        try await Harness.run { h in
            let account = try await h.existingOrNewSubAccount("bot01trader")
            for i in 0..<50 {
                _ = try await h.installation.keys.create(NewKeyRequest(account: account, label: "k\(i)"), origin: .test)
            }
            let body = #"{"subAcct":"bot01trader","label":"k7","passphrase":"Abcdef1!"}"#
            #expect(try await h.call(.post, Self.createKey, body: body, as: h.master).code == "59501")
            let first = try await h.installation.keys.keys(of: account)[0]
            try await h.installation.keys.revoke(apiKey: first.apiKey, reason: "make room", origin: .test)
            h.clock.advance(by: 1)
            #expect(try await h.call(.post, Self.createKey, body: body, as: h.master).code == "59502")
            let fresh = #"{"subAcct":"bot01trader","label":"fresh","passphrase":"Abcdef1!"}"#
            #expect(try await h.call(.post, Self.createKey, body: fresh, as: h.master).code == "0")
        }
    }

    @Test
    func unknownApiKeyIs59506() async throws {
        try await Harness.run { h in
            _ = try await h.existingOrNewSubAccount("bot01trader")
            let other = try await h.subAccountKey("otheraccount1")
            let query = try await h.call(.get, "\(Self.createKey)?subAcct=bot01trader&apiKey=\(other.apiKey)", as: h.master)
            #expect(query.code == "59506")
            let modify = try await h.call(
                .post, "/api/v5/users/subaccount/modify-apikey", body: #"{"subAcct":"bot01trader","apiKey":"\#(other.apiKey)","label":"x"}"#,
                as: h.master)
            #expect(modify.code == "59506")
        }
    }

    @Test(arguments: ["abc", "has space1", "bot01trader"])
    func subAccountNamesFollowOKXRules(_ name: String) async throws {
        try await Harness.run { h in
            _ = try await h.existingOrNewSubAccount("bot01trader")
            let reply = try await h.call(
                .post, "/api/v5/users/subaccount/create-subaccount", body: #"{"subAcct":"\#(name)"}"#, as: h.master)
            #expect(reply.code == (name == "bot01trader" ? "50071" : "51000"))
            #expect(try await h.installation.accounts.subAccounts().count == 1)
        }
    }
}
