import Crypto
import Foundation
import HTTPTypes
import KeysmithApp
import KeysmithCore
import KeysmithServer
import NIOCore
import Testing

/// One signed request has one spelling: respelt signatures, repeated auth headers and other timestamp forms are
/// refused, and a captured POST moves money once.
@Suite struct RequestIntegrityTests {
    static let transfer = "/api/v5/asset/transfer"
    static let transferBody = #"{"ccy":"USDT","amt":"1","from":"6","to":"18","type":"0"}"#

    /// Every other spelling of a base64 text that decodes to the same bytes: the last data character with its
    /// unused low bits changed.
    static func respellings(of signature: String) -> [String] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var characters = Array(signature)
        let padding = characters.reversed().prefix { $0 == "=" }.count
        let position = characters.count - 1 - padding
        guard let index = alphabet.firstIndex(of: characters[position]) else { return [] }
        let unused = padding == 1 ? 2 : padding == 2 ? 4 : 0
        let base = index & ~((1 << unused) - 1)
        return (0..<(1 << unused)).map { base | $0 }.filter { $0 != index }.map { value in
            characters[position] = alphabet[value]
            return String(characters)
        }
    }

    @Test
    func respeltHMACSignaturesAreRefusedAndMoveNothing() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(rateLimit: .unlimited)
            let sub = try await h.installation.accounts.subAccount(named: "bot01trader")
            try await h.deposit("10", to: sub)
            let ts = OKXTimestamp.string(fromMilliseconds: h.clock.milliseconds)
            let sign = OKXSigner(secret: key.secretKey).signature(
                timestamp: ts, method: "POST", requestPath: Self.transfer, body: Self.transferBody)
            let variants = Self.respellings(of: sign)
            #expect(variants.count == 3)
            // A respelt signature is refused even when it comes first…
            let first = try #require(variants.first)
            let early = try await h.call(.post, Self.transfer, body: Self.transferBody, as: key, signedAt: ts) {
                $0[okx: "OK-ACCESS-SIGN"] = first
            }
            #expect(early.code == "50113")
            // …the canonical one is accepted once…
            #expect(try await h.call(.post, Self.transfer, body: Self.transferBody, as: key, signedAt: ts).code == "0")
            // …and neither it nor any respelling moves the money again.
            for variant in variants {
                let replay = try await h.call(.post, Self.transfer, body: Self.transferBody, as: key, signedAt: ts) {
                    $0[okx: "OK-ACCESS-SIGN"] = variant
                }
                #expect(replay.code == "50113", "\(variant)")
            }
            #expect(try await h.call(.post, Self.transfer, body: Self.transferBody, as: key, signedAt: ts).code == "50042")
            #expect(try await h.available(sub, .funding) == "9")
            #expect(try await h.available(sub, .trading) == "1")
        }
    }

    @Test
    func respeltEd25519SignaturesAreRefusedAndMoveNothing() async throws {
        try await Harness.run { h in
            let privateKey = Curve25519.Signing.PrivateKey()
            let account = try await h.existingOrNewSubAccount("bot01trader")
            var request = NewKeyRequest(
                account: account, label: "ed", permissions: [.readOnly, .trade], passphrase: "Ed-pass-1234", rateLimit: .unlimited)
            request.ed25519PublicKey = Array(privateKey.publicKey.rawRepresentation)
            let created = try await h.installation.keys.create(request, origin: .test)
            let credentials = KeyCredentials(apiKey: created.key.apiKey, secretKey: "", passphrase: "Ed-pass-1234")
            try await h.deposit("10", to: account)
            let ts = OKXTimestamp.string(fromMilliseconds: h.clock.milliseconds)
            let sign = try privateKey.signature(for: Data((ts + "POST" + Self.transfer + Self.transferBody).utf8)).base64EncodedString()
            let variants = Self.respellings(of: sign)
            #expect(variants.count == 15)
            #expect(
                try await h.call(.post, Self.transfer, body: Self.transferBody, as: credentials, signedAt: ts) {
                    $0[okx: "OK-ACCESS-SIGN"] = sign
                }.code == "0")
            for variant in variants {
                let replay = try await h.call(.post, Self.transfer, body: Self.transferBody, as: credentials, signedAt: ts) {
                    $0[okx: "OK-ACCESS-SIGN"] = variant
                }
                #expect(replay.code == "50113", "\(variant)")
            }
            #expect(try await h.available(account, .trading) == "1")
        }
    }

    @Test(arguments: ["OK-ACCESS-KEY", "OK-ACCESS-SIGN", "OK-ACCESS-TIMESTAMP", "OK-ACCESS-PASSPHRASE", "x-simulated-trading"])
    func repeatedAuthHeaderIsRefused(_ header: String) async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            // The valid request, with a bogus copy of one header first: the last copy alone would authenticate it.
            let reply = try await h.call(.get, "/api/v5/account/config", as: key) { fields in
                let name = HTTPField.Name(header)!
                let valid = fields[name] ?? "0"
                fields[name] = nil
                fields.append(HTTPField(name: name, value: header == "x-simulated-trading" ? "1" : "bogus"))
                fields.append(HTTPField(name: name, value: valid))
            }
            #expect(reply.code == "50114")
            #expect(reply.status == 401)
            #expect(reply.msg.lowercased().contains(header.lowercased()))
            // The same value twice is refused too: one copy per header.
            let twice = try await h.call(.get, "/api/v5/account/config", as: key) { fields in
                let name = HTTPField.Name(header)!
                let valid = fields[name] ?? "0"
                fields[name] = nil
                fields.append(HTTPField(name: name, value: valid))
                fields.append(HTTPField(name: name, value: valid))
            }
            #expect(twice.code == "50114")
            #expect(try await h.call(.get, "/api/v5/account/config", as: key).code == "0")
        }
    }

    @Test
    func aGETCarryingABodyIsRefused() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            // Signed as OKX signs a GET (empty body); the body it carries would be unsigned.
            let ts = OKXTimestamp.string(fromMilliseconds: h.clock.milliseconds)
            let sign = OKXSigner(secret: key.secretKey).signature(timestamp: ts, method: "GET", requestPath: "/api/v5/account/config", body: "")
            var headers: HTTPFields = [.contentType: "application/json"]
            headers[okx: "OK-ACCESS-KEY"] = key.apiKey
            headers[okx: "OK-ACCESS-SIGN"] = sign
            headers[okx: "OK-ACCESS-TIMESTAMP"] = ts
            headers[okx: "OK-ACCESS-PASSPHRASE"] = key.passphrase
            let response = try await h.client.execute(
                uri: "/api/v5/account/config", method: .get, headers: headers, body: ByteBuffer(string: #"{"ccy":"BTC"}"#))
            #expect(response.status.code == 401)
            #expect(String(buffer: response.body).contains(#""code":"50113""#))
            #expect(try await h.call(.get, "/api/v5/account/config", as: key).code == "0")
        }
    }

    @Test(arguments: ["2025-11-23T12:13:20Z", "2025-11-23T12:13:20.0Z", "2025-11-23T12:13:20.0000Z", "2025-11-23T12:13:20.000000Z"])
    func otherTimestampFormsAre50112(_ timestamp: String) async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            // Correctly signed over that text, at the harness clock's instant: only its form is wrong.
            let reply = try await h.call(.get, "/api/v5/account/config", as: key, signedAt: timestamp)
            #expect(reply.code == "50112")
        }
    }

    @Test
    func bodiesOverTheLimitAre413WithoutAnErrorLine() async throws {
        try await Harness.run(configure: { $0.maximumBodySize = 1024 }) { h in
            let key = try await h.subAccountKey()
            let big = #"{"ccy":"USDT","amt":"1","from":"6","to":"18","type":"0","pad":""# + String(repeating: "x", count: 4096) + #""}"#
            let reply = try await h.call(.post, Self.transfer, body: big, as: key)
            #expect(reply.status == 413)
            #expect(reply.code == "50000")
            let console = try await h.client.execute(
                uri: "/console/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "email=a%40b.c&password=" + String(repeating: "x", count: 100_000)))
            #expect(console.status.code == 413)
            #expect(String(buffer: console.body).contains(#""code":"50000""#))
            #expect(try await h.call(.get, "/api/v5/account/config", as: key).code == "0")
            #expect(!h.logs.text.split(separator: "\n").contains { $0.hasPrefix("error") || $0.hasPrefix("critical") })
        }
    }
}
