import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithServer
import KeysmithStore
import PropertyBased
import Testing

extension Harness {
    var ledger: LedgerService { installation.ledger }

    func deposit(_ amount: String, _ ccy: String = "USDT", to account: Account) async throws {
        _ = try await ledger.deposit(to: account, currency: ccy, amount: amount, origin: .test)
    }

    /// `available` of one balance, as text ("0" when the account never held it).
    func available(_ account: Account, _ kind: BalanceKind, _ ccy: String = "USDT") async throws -> String {
        let scale = try await ledger.currency(ccy).scale
        let units = try await ledger.balances(of: account).first { $0.kind == kind && $0.currency == ccy }?.available ?? 0
        return Amount(units: units, scale: scale).text
    }

    /// Every ledger line sums to zero and the balances add up to what was deposited.
    func expectBalancedBooks(deposited: [String: Int64], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for (ccy, totals) in try await ledger.totals() {
            #expect(totals.entries == 0, "ledger lines of \(ccy)", sourceLocation: sourceLocation)
            #expect(totals.balances == deposited[ccy] ?? 0, "balances of \(ccy)", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct LedgerTests {
    @Test
    func depositTransferAndBalancesOverHTTP() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(rateLimit: .unlimited)
            let sub = try await h.installation.accounts.subAccount(named: "bot01trader")
            try await h.deposit("1000", to: sub)
            let funding = try await h.call(.get, "/api/v5/asset/balances", as: key)
            #expect(funding.data.first?["ccy"] as? String == "USDT" && funding.data.first?["availBal"] as? String == "1000")
            // Nothing in trading yet.
            #expect(try await h.call(.get, "/api/v5/account/balance", as: key).data.first?["details"] as? [Any] != nil)
            let moved = try await h.call(
                .post, "/api/v5/asset/transfer", body: #"{"ccy":"USDT","amt":"300.5","from":"6","to":"18","type":"0"}"#, as: key)
            #expect(moved.code == "0", "\(moved.raw)")
            let transID = try #require(moved.data.first?["transId"] as? String)
            let balance = try await h.call(.get, "/api/v5/account/balance", as: key)
            let details = try #require(balance.data.first?["details"] as? [[String: Any]])
            #expect(details.first?["ccy"] as? String == "USDT")
            #expect(details.first?["availBal"] as? String == "300.5" && details.first?["eq"] as? String == "300.5")
            #expect(balance.data.first?["totalEq"] as? String == "300.5")
            #expect(try await h.available(sub, .funding) == "699.5")
            let state = try await h.call(.get, "/api/v5/asset/transfer-state?transId=\(transID)", as: key)
            #expect(state.data.first?["state"] as? String == "success" && state.data.first?["amt"] as? String == "300.5")
            // The transfer's audit event was written with it.
            let events = try await h.installation.auditStore.search(AuditQuery(action: "POST /api/v5/asset/transfer", limit: 5))
            #expect(events.map(\.record.target) == [transID])
            try await h.expectBalancedBooks(deposited: ["USDT": 1_000_000_000])
        }
    }

    @Test
    func masterMovesMoneyToAndFromSubAccounts() async throws {
        try await Harness.run { h in
            let master = try await h.installation.accounts.master()
            let sub = try await h.existingOrNewSubAccount("bot01trader")
            _ = try await h.existingOrNewSubAccount("bot02trader")
            try await h.deposit("500", to: master)
            let toSub = try await h.call(
                .post, "/api/v5/asset/transfer", body: #"{"ccy":"USDT","amt":"200","from":"6","to":"18","type":"1","subAcct":"bot01trader"}"#,
                as: h.master)
            #expect(toSub.code == "0", "\(toSub.raw)")
            #expect(try await h.available(sub, .trading) == "200")
            let back = try await h.call(
                .post, "/api/v5/asset/transfer", body: #"{"ccy":"USDT","amt":"50","from":"18","to":"6","type":"2","subAcct":"bot01trader"}"#,
                as: h.master)
            #expect(back.code == "0")
            let between = try await h.call(
                .post, "/api/v5/asset/subaccount/transfer",
                body: #"{"ccy":"USDT","amt":"25","from":"18","to":"6","fromSubAccount":"bot01trader","toSubAccount":"bot02trader"}"#,
                as: h.master)
            #expect(between.code == "0", "\(between.raw)")
            let subFunding = try await h.call(.get, "/api/v5/asset/subaccount/balances?subAcct=bot02trader", as: h.master)
            #expect(subFunding.data.first?["bal"] as? String == "25")
            let subTrading = try await h.call(.get, "/api/v5/account/subaccount/balances?subAcct=bot01trader", as: h.master)
            let details = try #require(subTrading.data.first?["details"] as? [[String: Any]])
            #expect(details.first?["availBal"] as? String == "125")
            #expect(try await h.available(master, .funding) == "350")
            try await h.expectBalancedBooks(deposited: ["USDT": 500_000_000])
        }
    }

    @Test(arguments: [
        (#"{"ccy":"USDT","amt":"0","from":"6","to":"18"}"#, "58114"),
        (#"{"ccy":"USDT","amt":"-1","from":"6","to":"18"}"#, "58114"),
        (#"{"ccy":"USDT","amt":"5000","from":"6","to":"18"}"#, "58116"),
        (#"{"ccy":"USDT","amt":"1","from":"6","to":"6"}"#, "58123"),
        (#"{"ccy":"USDT","amt":"1","from":"6","to":"18","type":"1","subAcct":"bot01trader"}"#, "58128"),
        (#"{"ccy":"USDT","amt":"1","from":"6","to":"18","type":"4","subAcct":"bot02trader"}"#, "58119"),
        (#"{"ccy":"DOGE","amt":"1","from":"6","to":"18"}"#, "51000"),
        (#"{"ccy":"USDT","amt":"1.0000001","from":"6","to":"18"}"#, "51000"),
        (#"{"ccy":"USDT","amt":"1","from":"7","to":"18"}"#, "51000"),
        (#"{"ccy":"USDT","amt":"1","from":"6","to":"18","clientId":"no spaces allowed"}"#, "51000"),
        (#"{"ccy":"USDT","from":"6","to":"18"}"#, "50014"),
    ])
    func refusedTransfersMoveNothing(_ body: String, _ code: String) async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(rateLimit: .unlimited)
            let sub = try await h.installation.accounts.subAccount(named: "bot01trader")
            try await h.deposit("100", to: sub)
            let reply = try await h.call(.post, "/api/v5/asset/transfer", body: body, as: key)
            #expect(reply.code == code, "\(reply.raw)")
            #expect(try await h.available(sub, .funding) == "100")
            #expect(try await h.available(sub, .trading) == "0")
        }
    }

    @Test
    func subAccountsWithTransferOutMaySendToSiblings() async throws {
        try await Harness.run { h in
            let sender = try await h.installation.accounts.createSubAccount(
                SubAccountRequest(name: "sender01", canTransferOut: true), origin: .test)
            let sibling = try await h.existingOrNewSubAccount("sibling1")
            try await h.deposit("10", to: sender)
            let request = TransferRequest(type: "4", currency: "USDT", amount: "4", from: "6", to: "18", subAccount: "sibling1")
            _ = try await h.ledger.transfer(request, by: sender, origin: .test)
            #expect(try await h.available(sibling, .trading) == "4")
            let back = await #expect(throws: OKXError.self) {
                try await h.ledger.transfer(
                    TransferRequest(type: "4", currency: "USDT", amount: "1", from: "18", to: "6", subAccount: "sender01"), by: sibling,
                    origin: .test)
            }
            #expect(back?.code == "58119")
            let listed = try await h.call(.get, "/api/v5/users/subaccount/list?subAcct=sender01", as: h.master)
            #expect(listed.data.first?["canTransOut"] as? Bool == true)
        }
    }

    @Test
    func masterKeyCannotUseSubAccountTypes() async throws {
        try await Harness.run { h in
            let reply = try await h.call(.post, "/api/v5/asset/transfer", body: #"{"ccy":"USDT","amt":"1","from":"6","to":"18","type":"3"}"#, as: h.master)
            #expect(reply.code == "58127")
            let unknown = try await h.call(
                .post, "/api/v5/asset/transfer", body: #"{"ccy":"USDT","amt":"1","from":"6","to":"18","type":"1","subAcct":"nosuch1"}"#,
                as: h.master)
            #expect(unknown.code == "58115")
        }
    }

    @Test
    func readOnlyKeysCannotTransfer() async throws {
        try await Harness.run { h in
            let reader = try await h.subAccountKey(permissions: [.readOnly])
            let reply = try await h.call(.post, "/api/v5/asset/transfer", body: #"{"ccy":"USDT","amt":"1","from":"6","to":"18"}"#, as: reader)
            #expect(reply.code == "50120")
            #expect(try await h.call(.get, "/api/v5/asset/currencies", as: reader).data.count == 4)
        }
    }

    @Test
    func aRepeatedClientIDMovesMoneyOnce() async throws {
        try await Harness.run { h in
            let key = try await h.subAccountKey(rateLimit: .unlimited)
            let sub = try await h.installation.accounts.subAccount(named: "bot01trader")
            try await h.deposit("100", to: sub)
            var ids: Set<String> = []
            for _ in 0..<3 {
                // Fresh timestamps, so these are retries rather than replays.
                h.clock.advance(by: 1)
                let reply = try await h.call(
                    .post, "/api/v5/asset/transfer", body: #"{"ccy":"USDT","amt":"10","from":"6","to":"18","clientId":"order42"}"#, as: key)
                #expect(reply.code == "0")
                ids.insert(try #require(reply.data.first?["transId"] as? String))
            }
            #expect(ids.count == 1)
            #expect(try await h.available(sub, .trading) == "10")
            let state = try await h.call(.get, "/api/v5/asset/transfer-state?clientId=order42", as: key)
            #expect(state.data.first?["transId"] as? String == ids.first)
        }
    }

    @Test
    func thousandConcurrentIdenticalClientIDsMoveMoneyOnce() async throws {
        try await Harness.run { h in
            let sub = try await h.existingOrNewSubAccount("bot01trader")
            try await h.deposit("100", to: sub)
            let request = TransferRequest(currency: "USDT", amount: "1", from: "6", to: "18", clientID: "sameid")
            let results = try await withThrowingTaskGroup(of: (Int64, Bool).self) { group in
                for _ in 0..<1_000 {
                    group.addTask {
                        let result = try await h.ledger.transfer(request, by: sub, origin: .test)
                        return (result.transfer.id, result.created)
                    }
                }
                return try await group.reduce(into: [(Int64, Bool)]()) { $0.append($1) }
            }
            #expect(Set(results.map(\.0)).count == 1)
            #expect(results.filter(\.1).count == 1)
            #expect(try await h.available(sub, .trading) == "1")
            try await h.expectBalancedBooks(deposited: ["USDT": 100_000_000])
        }
    }

    @Test
    func hundredConcurrentTransfersNeverOverdraw() async throws {
        try await Harness.run { h in
            let sub = try await h.existingOrNewSubAccount("bot01trader")
            try await h.deposit("50", to: sub)
            let outcomes = await withTaskGroup(of: String.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        do {
                            _ = try await h.ledger.transfer(
                                TransferRequest(currency: "USDT", amount: "1", from: "6", to: "18"), by: sub, origin: .test)
                            return "0"
                        } catch {
                            return (error as? OKXError)?.code ?? "?"
                        }
                    }
                }
                return await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "0" }.count == 50)
            #expect(outcomes.filter { $0 == "58116" }.count == 50)
            #expect(try await h.available(sub, .funding) == "0")
            #expect(try await h.available(sub, .trading) == "50")
            try await h.expectBalancedBooks(deposited: ["USDT": 50_000_000])
        }
    }

    @Test
    func depositsRespectTheSubAccountSetting() async throws {
        try await Harness.run { h in
            let closed = try await h.installation.accounts.createSubAccount(
                SubAccountRequest(name: "nodeposit1", depositsAllowed: false), origin: .test)
            await #expect(throws: OKXError.self) { try await h.deposit("1", to: closed) }
            await #expect(throws: OKXError.self) { try await h.deposit("0", to: try await h.installation.accounts.master()) }
            let key = try await h.subAccountKey()
            let sub = try await h.installation.accounts.subAccount(named: "bot01trader")
            try await h.deposit("0.5", "BTC", to: sub)
            let address = try await h.call(.get, "/api/v5/asset/deposit-address?ccy=BTC", as: key)
            let again = try await h.call(.get, "/api/v5/asset/deposit-address?ccy=BTC", as: key)
            #expect(address.data.first?["addr"] as? String == again.data.first?["addr"] as? String)
            let history = try await h.call(.get, "/api/v5/asset/deposit-history?ccy=BTC", as: key)
            #expect(history.data.first?["amt"] as? String == "0.5")
            #expect(history.data.first?["to"] as? String == address.data.first?["addr"] as? String)
        }
    }
}

/// Random sequences of deposits, transfers, orders, cancels and withdrawals (property-based): every balance stays
/// ≥ 0 and per currency the balances add up to the deposits minus the completed withdrawals, whatever fails along
/// the way.
@Suite struct LedgerPropertyTests {
    enum Operation: Sendable, CustomStringConvertible {
        case deposit(account: Int, ccy: Int, units: Int)
        case transfer(from: Int, to: Int, fromKind: Int, toKind: Int, ccy: Int, units: Int)
        case order(account: Int, sell: Bool, tick: Int, units: Int)
        case cancel(account: Int)
        case amend(account: Int, tick: Int, units: Int)
        case withdrawal(units: Int, settle: Int)

        var description: String {
            switch self {
            case .deposit(let a, let c, let u): "deposit(\(a), \(c), \(u))"
            case .transfer(let f, let t, let fk, let tk, let c, let u): "transfer(\(f)->\(t), \(fk)->\(tk), \(c), \(u))"
            case .order(let a, let sell, let tick, let u): "order(\(a), \(sell ? "sell" : "buy"), \(tick), \(u))"
            case .cancel(let a): "cancel(\(a))"
            case .amend(let a, let tick, let u): "amend(\(a), \(tick), \(u))"
            case .withdrawal(let u, let settle): "withdrawal(\(u), \(settle))"
            }
        }
    }

    static let operation = zip(
        Gen.int(in: 0...6), Gen.int(in: 0...2), Gen.int(in: 0...2), Gen.int(in: 0...1), Gen.int(in: 0...1), Gen.int(in: 0...1),
        Gen.int(in: 1...3_000)
    ).map { kind, a, b, fk, tk, c, units -> Operation in
        switch kind {
        case 0: .deposit(account: a, ccy: c, units: units)
        // Half of the transfers fund the account's own trading balance, so that orders have money to work with.
        case 1: tk == 1 ? .transfer(from: a, to: a, fromKind: 0, toKind: 1, ccy: c, units: units)
            : .transfer(from: a, to: b, fromKind: fk, toKind: 1 - fk, ccy: c, units: units)
        case 2, 3: .order(account: a, sell: fk == 1, tick: units % 20, units: 1_000 + units)
        case 4: .cancel(account: a)
        case 5: .withdrawal(units: units, settle: b)
        default: .amend(account: a, tick: units % 20, units: 1_000 + units)
        }
    }

    @Test
    func balancesStayNonNegativeAndAddUp() async throws {
        await propertyCheck(count: 25, input: Self.operation.array(of: 1...40)) { operations in
            do {
                try await Harness.run { h in try await Self.run(operations, on: h) }
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    static func run(_ operations: [Operation], on h: Harness) async throws {
        let master = try await h.installation.accounts.master()
        let accounts = [master, try await h.existingOrNewSubAccount("prop01sub"), try await h.existingOrNewSubAccount("prop02sub")]
        var keys: [APIKey] = []
        for account in accounts {
            keys.append(
                try await h.installation.keys.create(
                    NewKeyRequest(account: account, label: "prop", permissions: [.readOnly, .trade], allowlist: .empty), origin: .test
                ).key)
        }
        _ = try await h.installation.withdrawals.addAddress("TPropertyAddress", label: "", currency: "USDT", for: master, origin: .test)
        let codes = ["USDT", "BTC"], kinds = ["6", "18"]
        var deposited: [String: Int64] = [:]
        // Every account starts with a little of both in its trading balance, so that orders can meet.
        for account in accounts {
            for (ccy, amount, units) in [("USDT", "10", Int64(10_000_000)), ("BTC", "0.001", Int64(100_000))] {
                try await h.deposit(amount, ccy, to: account)
                _ = try await h.ledger.transfer(TransferRequest(currency: ccy, amount: amount, from: "6", to: "18"), by: account, origin: .test)
                deposited[ccy, default: 0] += units
            }
        }
        for operation in operations {
            switch operation {
            case .deposit(let a, let c, let units):
                // Up to 30 USDT or 0.3 BTC.
                let amount = Amount(units: Int64(units) * 10_000, scale: try await h.ledger.currency(codes[c]).scale)
                try await h.deposit(amount.text, codes[c], to: accounts[a])
                deposited[codes[c], default: 0] += amount.units
            case .transfer(let f, let t, let fk, let tk, let c, let units):
                let amount = Amount(units: Int64(units) * 1_000, scale: try await h.ledger.currency(codes[c]).scale)
                // Master → sub (type 1), sub → master (3), within one account (0), sub → sub (4, refused).
                let type = f == t ? "0" : (f == 0 ? "1" : (t == 0 ? "3" : "4"))
                let request = TransferRequest(
                    type: type, currency: codes[c], amount: amount.text, from: kinds[fk], to: kinds[tk],
                    subAccount: type == "1" ? accounts[t].name : nil)
                _ = try? await h.ledger.transfer(request, by: accounts[f], origin: .test)
            case .order(let a, let sell, let tick, let units):
                // 0.00001–0.00004 BTC at 10.0–11.9 USDT: cheap enough for the balances above, crossing often.
                let request = OrderRequest(
                    instrument: "BTC-USDT", side: sell ? "sell" : "buy", type: tick % 5 == 0 ? "ioc" : "limit",
                    size: Amount(units: Int64(units), scale: 8).text, price: Amount(units: Int64(100 + tick), scale: 1).text)
                _ = await h.installation.engine.place(request, key: keys[a], account: accounts[a], origin: .test)
            case .cancel(let a):
                if let open = try await h.installation.orders.orders(account: accounts[a].uid, matching: OrderQuery(open: true, page: Page(limit: 1))).first {
                    _ = try? await h.installation.engine.cancel(
                        instrument: open.instrument, orderID: String(open.id), clientOrderID: nil, account: accounts[a], origin: .test)
                }
            case .amend(let a, let tick, let units):
                // The account's newest open order, to a new price and size (what it filled included).
                if let open = try await h.installation.orders.orders(account: accounts[a].uid, matching: OrderQuery(open: true, page: Page(limit: 1))).first {
                    let request = AmendRequest(
                        instrument: open.instrument, orderID: String(open.id), newSize: Amount(units: Int64(units), scale: 8).text,
                        newPrice: Amount(units: Int64(100 + tick), scale: 1).text)
                    _ = await h.installation.engine.amend(request, key: keys[a], account: accounts[a], origin: .test)
                }
            case .withdrawal(let units, let settle):
                let amount = Amount(units: 2_000_000 + Int64(units) * 1_000, scale: 6)
                guard let requested = try? await h.installation.withdrawals.request(
                    WithdrawalRequest(currency: "USDT", amount: amount.text, address: "TPropertyAddress"), by: master, origin: .test)
                else { continue }
                if settle == 0 {
                    _ = try await h.installation.withdrawals.approve(id: requested.withdrawal.id, origin: .test)
                    deposited["USDT", default: 0] -= requested.withdrawal.amount + requested.withdrawal.fee
                } else if settle == 1 {
                    _ = try await h.installation.withdrawals.reject(id: requested.withdrawal.id, origin: .test)
                }
            }
            for account in accounts {
                for balance in try await h.ledger.balances(of: account) {
                    #expect(balance.available >= 0 && balance.frozen >= 0, "\(operation)")
                }
            }
        }
        try await h.expectBalancedBooks(deposited: deposited)
        // What open orders hold is exactly what the trading balances hold frozen.
        var held: [String: Int64] = [:]
        for account in accounts {
            for order in try await h.installation.orders.orders(account: account.uid, matching: OrderQuery(open: true)) {
                held[order.side == .buy ? "USDT" : "BTC", default: 0] += order.frozen
            }
        }
        var frozen: [String: Int64] = [:]
        for account in accounts {
            for balance in try await h.ledger.balances(of: account) where balance.kind == .trading {
                frozen[balance.currency, default: 0] += balance.frozen
            }
        }
        #expect(held.filter { $0.value != 0 } == frozen.filter { $0.value != 0 })
    }
}
