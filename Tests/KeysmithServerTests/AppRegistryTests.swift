import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import Testing

/// Keys linked to a third-party app follow the app's addresses.
@Suite struct AppRegistryTests {
    static let config = "/api/v5/account/config"

    @Test
    func updatingAnAppRebindsItsKeysAtOnce() async throws {
        try await Harness.run { h in
            let app = try await h.installation.apps.add(name: "tradebot.io", allowlist: try IPAllowlist(okx: "198.51.100.0/28"), url: "https://tradebot.io", origin: .test)
            let account = try await h.existingOrNewSubAccount("bot01trader")
            let linked = try await h.installation.keys.create(
                NewKeyRequest(account: account, label: "tradebot", linking: app, permissions: [.readOnly, .trade]), origin: .test)
            #expect(linked.key.purpose == .thirdParty(app: "tradebot.io"))
            #expect(linked.key.allowlist.okxString == "198.51.100.0/28")
            let own = try await h.subAccountKey(allowlist: "198.51.100.0/28")
            #expect(try await h.call(.get, Self.config, as: linked.credentials, from: "198.51.100.5").code == "0")
            #expect(try await h.call(.get, Self.config, as: linked.credentials, from: "203.0.113.1").code == "50110")

            let (_, rebound) = try await h.installation.apps.update(
                name: "tradebot.io", allowlist: try IPAllowlist(okx: "203.0.113.0/28,2001:db8::/48"), url: nil, origin: .test)
            #expect(rebound == [linked.key.apiKey])   // only linked keys
            #expect(try await h.call(.get, Self.config, as: linked.credentials, from: "203.0.113.1").code == "0")
            #expect(try await h.call(.get, Self.config, as: linked.credentials, from: "198.51.100.5").code == "50110")
            #expect(try await h.call(.get, Self.config, as: own, from: "198.51.100.5").code == "0")
            #expect(try await h.installation.apps.app(named: "tradebot.io").url == "https://tradebot.io")

            // An app with linked keys cannot be removed; once they are gone, it can.
            let refused = await #expect(throws: OKXError.self) { try await h.installation.apps.remove(name: "tradebot.io", origin: .test) }
            #expect(refused?.message.contains("1 active API keys") == true)
            try await h.installation.keys.revoke(apiKey: linked.key.apiKey, reason: "test", origin: .test)
            try await h.installation.apps.remove(name: "tradebot.io", origin: .test)
            #expect(try await h.installation.apps.apps().isEmpty)
        }
    }

    @Test
    func rejectsBadApps() async throws {
        try await Harness.run { h in
            let ips = try IPAllowlist(okx: "192.0.2.1")
            _ = try await h.installation.apps.add(name: "known", allowlist: ips, url: nil, origin: .test)
            let cases: [(String, IPAllowlist, String?, String)] = [
                ("", ips, nil, "51000"), ("has space", ips, nil, "51000"), (String(repeating: "a", count: 51), ips, nil, "51000"),
                ("noips", .empty, nil, "51000"), ("badurl", ips, "ftp://x", "51000"), ("known", ips, nil, "50071"),
            ]
            for (name, allowlist, url, code) in cases {
                let error = await #expect(throws: OKXError.self) { try await h.installation.apps.add(name: name, allowlist: allowlist, url: url, origin: .test) }
                #expect(error?.code == code, "\(name)")
            }
            let unknown = await #expect(throws: OKXError.self) { try await h.installation.apps.app(named: "nope") }
            #expect(unknown?.message.contains("no app named nope") == true)
            #expect(try await h.installation.apps.apps().map(\.name) == ["known"])
        }
    }
}
