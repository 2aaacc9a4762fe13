import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import Testing

@Suite struct WithdrawalTests {
    static let address = "TXYZkeysmithTestAddress000000001"

    static func withdrawalBody(_ amount: String, to address: String = address, extra: String = "") -> String {
        #"{"ccy":"USDT","amt":"\#(amount)","dest":"4","toAddr":"\#(address)","chain":"USDT-TRC20"\#(extra)}"#
    }

    static func prepare(_ h: Harness, deposit: String = "100") async throws -> Account {
        let master = try await h.installation.accounts.master()
        try await h.deposit(deposit, to: master)
        _ = try await h.installation.withdrawals.addAddress(Self.address, label: "cold", currency: "USDT", for: master, origin: .test)
        return master
    }

    @Test
    func requestFreezesThenApprovalSendsAndTheBooksBalance() async throws {
        try await Harness.run { h in
            try await h.addUnreachableWebhook()
            let master = try await Self.prepare(h)
            let reply = try await h.call(.post, "/api/v5/asset/withdrawal", body: Self.withdrawalBody("10", extra: #","fee":"1""#), as: h.master)
            #expect(reply.code == "0", "\(reply.raw)")
            let idText = try #require(reply.data.first?["wdId"] as? String)
            let id = try #require(Int64(idText))
            let funding = try #require(try await h.ledger.balances(of: master).first { $0.kind == .funding })
            #expect(funding.available == 89_000_000 && funding.frozen == 11_000_000)
            #expect(try await h.queuedAlerts().contains { $0.kind == .withdrawalRequested })
            let done = try await h.installation.withdrawals.approve(id: id, origin: .test)
            #expect(done.state == .completed && !done.txID.isEmpty)
            let after = try #require(try await h.ledger.balances(of: master).first { $0.kind == .funding })
            #expect(after.available == 89_000_000 && after.frozen == 0)
            let totals = try #require(try await h.ledger.totals()["USDT"])
            #expect(totals.entries == 0 && totals.balances == 89_000_000)  // 100 deposited − 11 withdrawn
            let history = try await h.call(.get, "/api/v5/asset/withdrawal-history?ccy=USDT", as: h.master)
            #expect(history.data.first?["state"] as? String == "2" && history.data.first?["fee"] as? String == "1")
            // Settled withdrawals cannot be settled again.
            await #expect(throws: OKXError.self) { try await h.installation.withdrawals.reject(id: id, origin: .test) }
        }
    }

    @Test
    func cancellationAndRejectionGiveTheFundsBack() async throws {
        try await Harness.run { h in
            let master = try await Self.prepare(h)
            let first = try await h.call(.post, "/api/v5/asset/withdrawal", body: Self.withdrawalBody("20"), as: h.master)
            let firstID = try #require(first.data.first?["wdId"] as? String)
            h.clock.advance(by: 1)
            let cancel = try await h.call(.post, "/api/v5/asset/cancel-withdrawal", body: #"{"wdId":"\#(firstID)"}"#, as: h.master)
            #expect(cancel.code == "0" && cancel.data.first?["wdId"] as? String == firstID)
            h.clock.advance(by: 1)
            let again = try await h.call(.post, "/api/v5/asset/cancel-withdrawal", body: #"{"wdId":"\#(firstID)"}"#, as: h.master)
            #expect(again.code == "58216")
            #expect(try await h.call(.post, "/api/v5/asset/cancel-withdrawal", body: #"{"wdId":"999"}"#, as: h.master).code == "58215")
            h.clock.advance(by: 1)
            let second = try await h.call(.post, "/api/v5/asset/withdrawal", body: Self.withdrawalBody("30"), as: h.master)
            let secondText = try #require(second.data.first?["wdId"] as? String)
            let secondID = try #require(Int64(secondText))
            _ = try await h.installation.withdrawals.reject(id: secondID, origin: .test)
            let funding = try #require(try await h.ledger.balances(of: master).first { $0.kind == .funding })
            #expect(funding.available == 100_000_000 && funding.frozen == 0)
        }
    }

    @Test(arguments: [
        (withdrawalBody("10", to: "TSomewhereElse"), "58207"), (withdrawalBody("1"), "58206"), (withdrawalBody("2000000"), "58205"),
        (withdrawalBody("99.5"), "58350"), (withdrawalBody("10", extra: #","fee":"0.5""#), "51000"),
        (#"{"ccy":"USDT","amt":"10","dest":"4","toAddr":"x","chain":"USDT-ERC20"}"#, "58200"),
        (#"{"ccy":"USDT","amt":"10","dest":"3","toAddr":"x"}"#, "58200"),
    ])
    func refusedWithdrawalsFreezeNothing(_ body: String, _ code: String) async throws {
        try await Harness.run { h in
            let master = try await Self.prepare(h)
            let reply = try await h.call(.post, "/api/v5/asset/withdrawal", body: body, as: h.master)
            #expect(reply.code == code, "\(reply.raw)")
            let funding = try #require(try await h.ledger.balances(of: master).first { $0.kind == .funding })
            #expect(funding.available == 100_000_000 && funding.frozen == 0)
        }
    }

    @Test
    func withoutAnyAddressTheAnswerIs58203AndKeysWithoutWithdrawGet50120() async throws {
        try await Harness.run { h in
            try await h.deposit("100", to: try await h.installation.accounts.master())
            #expect(try await h.call(.post, "/api/v5/asset/withdrawal", body: Self.withdrawalBody("10"), as: h.master).code == "58203")
            let trader = try await h.subAccountKey()
            #expect(try await h.call(.post, "/api/v5/asset/withdrawal", body: Self.withdrawalBody("10"), as: trader).code == "50120")
            let sub = try await h.installation.accounts.subAccount(named: "bot01trader")
            let refused = await #expect(throws: OKXError.self) {
                try await h.installation.withdrawals.request(
                    WithdrawalRequest(currency: "USDT", amount: "10", address: Self.address), by: sub, origin: .test)
            }
            #expect(refused?.code == "58209")
        }
    }

    @Test
    func theDailyLimitCountsEveryWithdrawalNotGivenBack() async throws {
        try await Harness.run { h in
            let master = try await Self.prepare(h, deposit: "7000000")
            let request = WithdrawalRequest(currency: "USDT", amount: "1000000", address: Self.address)
            for _ in 0..<5 { _ = try await h.installation.withdrawals.request(request, by: master, origin: .test) }
            let over = await #expect(throws: OKXError.self) {
                try await h.installation.withdrawals.request(request, by: master, origin: .test)
            }
            #expect(over?.code == "58201")
        }
    }

    @Test
    func hundredConcurrentWithdrawalsNeverOverdraw() async throws {
        try await Harness.run { h in
            let master = try await Self.prepare(h, deposit: "55")  // room for exactly five 10 + 1 fee withdrawals
            let codes = await withTaskGroup(of: String.self) { group in
                for i in 0..<100 {
                    group.addTask {
                        do {
                            _ = try await h.installation.withdrawals.request(
                                WithdrawalRequest(currency: "USDT", amount: "10", address: Self.address, clientID: "w\(i)"), by: master,
                                origin: .test)
                            return "0"
                        } catch {
                            return (error as? OKXError)?.code ?? "?"
                        }
                    }
                }
                return await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(codes.filter { $0 == "0" }.count == 5)
            #expect(codes.filter { $0 == "58350" }.count == 95)
            let funding = try #require(try await h.ledger.balances(of: master).first { $0.kind == .funding })
            #expect(funding.available == 0 && funding.frozen == 55_000_000)
        }
    }
}
