import Foundation
import HTTPTypes
import KeysmithCore
import Testing

/// The four refusals users ask about most keep OKX's codes and say how to fix them, without a secret, a passphrase
/// or the signature the server expected.
@Suite struct AuthenticationHelpTests {
    @Test(arguments: [(Int64(-120_000), "120000 ms behind"), (45_000, "45000 ms ahead of")])
    func aClockOutsideTheWindowIsToldItsSkewAndSide(_ offset: Int64, _ expected: String) async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            let ts = OKXTimestamp.string(fromMilliseconds: h.clock.milliseconds + offset)
            let reply = try await h.call(.get, "/api/v5/account/balance", as: key, signedAt: ts)
            #expect(reply.code == "50102" && reply.msg.hasPrefix("Timestamp request expired."))
            #expect(reply.msg.contains(expected), "\(reply.msg)")
            #expect(reply.msg.contains("server's time is \(h.clock.milliseconds) ms"))
        }
    }

    @Test
    func aBadSignatureIsToldThePrehashTheServerVerified() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            var sent = ""
            let reply = try await h.call(.get, "/api/v5/account/balance?ccy=BTC", as: key) { headers in
                // Signed without the query string: the most common mistake.
                let ts = headers[okx: "OK-ACCESS-TIMESTAMP"]!
                headers[okx: "OK-ACCESS-SIGN"] = OKXSigner(secret: key.secretKey).signature(
                    timestamp: ts, method: "GET", requestPath: "/api/v5/account/balance", body: "")
                sent = ts
            }
            #expect(reply.code == "50113" && reply.msg.hasPrefix("Invalid signature."))
            #expect(reply.msg.contains(#""\#(sent)" + "GET" + "/api/v5/account/balance?ccy=BTC" + 0 body bytes"#), "\(reply.msg)")
            let expected = OKXSigner(secret: key.secretKey).signature(
                timestamp: sent, method: "GET", requestPath: "/api/v5/account/balance?ccy=BTC", body: "")
            #expect(!reply.msg.contains(expected) && !reply.msg.contains(key.secretKey) && !reply.msg.contains(key.passphrase))
            #expect(!reply.raw.contains(expected) && !reply.raw.contains(key.secretKey))
        }
    }

    @Test
    func anEnvironmentMismatchNamesTheKeysEnvironmentAndHeader() async throws {
        try await Harness.run { h in
            let demo = try await h.subAccountKey(environment: .demo)
            let live = try await h.subAccountKey()
            let toLive = try await h.call(.get, "/api/v5/account/balance", as: demo)
            #expect(toLive.code == "50101" && toLive.msg.contains("demo-trading key") && toLive.msg.contains("x-simulated-trading: 1"))
            let toDemo = try await h.call(.get, "/api/v5/account/balance", as: live) { $0[okx: "x-simulated-trading"] = "1" }
            #expect(toDemo.code == "50101" && toDemo.msg.contains("live-trading key"), "\(toDemo.msg)")
        }
    }

    @Test
    func anAddressOutsideTheListIsToldWhereTheServerSawIt() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(allowlist: "203.0.113.7")
            // The harness's peer (loopback) is a trusted proxy: X-Forwarded-For names the client.
            let forwarded = try await h.call(.get, "/api/v5/account/balance", as: key, from: "198.51.100.9")
            #expect(forwarded.code == "50110" && forwarded.msg.contains("Your IP 198.51.100.9"), "\(forwarded.msg)")
            #expect(forwarded.msg.contains("X-Forwarded-For") && forwarded.msg.contains("a trusted proxy"))
            #expect(!forwarded.msg.contains("127.0.0.1") && !forwarded.msg.contains("::1"), "the proxy's own address stays inside")
            let direct = try await h.call(.get, "/api/v5/account/balance", as: key)
            #expect(direct.code == "50110" && direct.msg.contains("connection's own address"), "\(direct.msg)")
        }
    }

    @Test
    func everyAnswerCarriesTheServerTime() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey()
            let now = String(h.clock.milliseconds)
            for reply in [
                try await h.call(.get, "/api/v5/public/time", as: nil), try await h.call(.get, "/api/v5/account/balance", as: key),
                try await h.call(.get, "/api/v5/no/such/route", as: nil),
                try await h.call(.get, "/api/v5/account/balance", as: key) { $0[okx: "OK-ACCESS-SIGN"] = "bad" },
            ] {
                #expect(reply.headers[HTTPField.Name("x-server-time")!] == now, "\(reply.raw)")
            }
        }
    }
}
