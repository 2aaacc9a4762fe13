import Foundation
import KeysmithCore
import KeysmithStore
import Testing

/// The ledger's invariants on every backend, with two connections to one database playing two nodes: no balance
/// below zero, entries summing to what the balances hold, one transfer per clientId, one daily withdrawal limit.
struct LedgerStoreTests {
    @Test(arguments: Backend.available)
    func concurrentTransfersFromTwoNodesNeverOverdrawAndRetriesAreIdempotent(_ backend: Backend) async throws {
        try await withTwoNodes(backend) { nodeA, nodeB, master in
            let sub = account(name: "bot01", parent: master.uid)
            try await nodeA.keys.insert(account: sub, audit: audit())
            _ = try await nodeA.ledger.insert(
                deposit: DepositRecord(account: master.uid, currency: "USDT", amount: 100, chain: "USDT-TRC20", address: "T1", txID: "tx", createdAt: 1),
                audit: audit())

            // 30 transfers of 7 units (only 14 fit in 100), each sent to both nodes at once: a retry with the same clientId.
            let outcomes = try await withThrowingTaskGroup(of: (String, Bool?).self) { group in
                for index in 0..<30 {
                    for node in [nodeA, nodeB] {
                        group.addTask {
                            let transfer = TransferRecord(
                                initiator: master.uid, clientID: "c\(index)", type: "0", currency: "USDT", amount: 7,
                                from: (master.uid, .funding), to: (sub.uid, .funding), subAccount: sub.name, createdAt: 2)
                            do {
                                return ("c\(index)", try await node.ledger.insert(transfer: transfer, audit: audit()).created)
                            } catch let error as StoreError {
                                #expect(error.kind == .insufficientFunds)
                                return ("c\(index)", nil)
                            }
                        }
                    }
                }
                return try await group.reduce(into: [(String, Bool?)]()) { $0.append($1) }
            }
            let created = outcomes.filter { $0.1 == true }.map(\.0)
            #expect(created.count == 14)
            #expect(Set(created).count == 14)  // never two transfers for one clientId
            for clientID in created {
                // The other attempt with that clientId either got the same transfer back or was refused before it existed.
                let other = outcomes.filter { $0.0 == clientID && $0.1 != true }
                #expect(other.count == 1)
                let stored = try #require(try await nodeB.ledger.transfer(clientID: clientID, initiator: master.uid))
                #expect(stored.amount == 7)
            }
            let masterFunding = try await nodeB.ledger.balances(account: master.uid).first { $0.kind == .funding && $0.currency == "USDT" }
            let subFunding = try await nodeB.ledger.balances(account: sub.uid).first { $0.kind == .funding && $0.currency == "USDT" }
            #expect(masterFunding?.available == Int64(100 - 14 * 7))
            #expect(subFunding?.available == Int64(14 * 7))
            let totals = try await nodeA.ledger.totals()
            // The world's side of the deposit is the only counterweight: entries sum to zero, balances to the deposit.
            #expect(totals["USDT"]?.entries == 0)
            #expect(totals["USDT"]?.balances == 100)
        }
    }

    @Test(arguments: Backend.available)
    func theDailyWithdrawalLimitHoldsAcrossNodes(_ backend: Backend) async throws {
        try await withTwoNodes(backend) { nodeA, nodeB, master in
            _ = try await nodeA.ledger.insert(
                deposit: DepositRecord(account: master.uid, currency: "USDT", amount: 1_000, chain: "USDT-TRC20", address: "T1", txID: "tx", createdAt: 1),
                audit: audit())
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<10 {
                    let node = index % 2 == 0 ? nodeA : nodeB
                    group.addTask {
                        let request = WithdrawalRecord(
                            account: master.uid, clientID: "w\(index)", currency: "USDT", chain: "USDT-TRC20", amount: 30, fee: 1,
                            address: "TXYZ", state: .pending, txID: "", createdAt: 5, updatedAt: 5)
                        do {
                            _ = try await node.withdrawals.request(request, dailyLimit: 100, dayStart: 0, audit: audit())
                            return true
                        } catch let error as StoreError {
                            #expect(error.kind == .limitReached)
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 3)  // 3 × 30 ≤ 100 < 4 × 30
            let pending = try await nodeB.withdrawals.withdrawals(account: master.uid, state: .pending, limit: 50)
            #expect(pending.count == 3)
            let first = try #require(pending.first)
            let settled = try await nodeB.withdrawals.settle(id: first.id, to: .completed, txID: "0xabc", at: 6, audit: audit())
            #expect(settled.state == .completed)
            let again = await #expect(throws: StoreError.self) {
                try await nodeA.withdrawals.settle(id: first.id, to: .canceled, txID: "", at: 7, audit: audit())
            }
            #expect(again?.kind == .notFound)
            let funding = try await nodeA.ledger.balances(account: master.uid).first { $0.kind == .funding && $0.currency == "USDT" }
            #expect(funding?.available == Int64(1_000 - 3 * 31))
            #expect(funding?.frozen == Int64(2 * 31))
        }
    }

    @Test(arguments: Backend.available)
    func aBalanceThatWouldPassSixtyFourBitsIsRefusedAndStaysExact(_ backend: Backend) async throws {
        try await withStores(backend) { stores, master in
            func deposit(_ amount: Int64) async throws {
                _ = try await stores.ledger.insert(
                    deposit: DepositRecord(
                        account: master.uid, currency: "USDT", amount: amount, chain: "USDT-TRC20", address: "T1", txID: "tx\(amount)",
                        createdAt: 1),
                    audit: audit())
            }
            try await deposit(.max - 10)
            // SQLite would store the sum as a float (a row nothing can read back as money); PostgreSQL refuses it.
            let refused = await #expect(throws: StoreError.self) { try await deposit(100) }
            #expect(refused?.kind != .database)
            let funding = try await stores.ledger.balances(account: master.uid).first { $0.kind == .funding && $0.currency == "USDT" }
            #expect(funding?.available == Int64.max - 10)
            try await deposit(10)
            #expect(try await stores.ledger.balances(account: master.uid).first { $0.kind == .funding }?.available == Int64.max)
        }
    }
}
