// A trading bot that keeps no secret of its own: it reads its exchange credentials from the Keysmith vault (linked
// and validated beforehand with `keysmith link add NAME --url URL`), checks the link, and places one limit order.
//
//   keysmith-example-bot NAME INST-ID SIDE SIZE PRICE
//   keysmith-example-bot okx-main-bot BTC-USDT buy 0.001 20000
//
// The vault and its key come from KEYSMITH_VAULT / KEYSMITH_VAULT_KEY (default ~/.keysmith/vault and vault.key).
import Foundation
import KeysmithClient

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 5, let size = Decimal(string: arguments[arguments.startIndex + 3]),
    let price = Decimal(string: arguments[arguments.startIndex + 4])
else {
    FileHandle.standardError.write(Data("usage: keysmith-example-bot NAME INST-ID buy|sell SIZE PRICE\n".utf8))
    exit(2)
}
let name = arguments[arguments.startIndex]
let instId = arguments[arguments.startIndex + 1]
let side = arguments[arguments.startIndex + 2]

do {
    // 1. Credentials from the encrypted vault; nothing secret in code, flags or environment.
    let link = try CredentialVault.open(.standard()).credential(named: name)
    let client = link.client()

    // 2. Refuse to trade with a key that fails validation (withdraw permission, revoked, wrong passphrase).
    let report = await LinkValidator(link).validate()
    guard report.ok else {
        for check in report.checks where check.status == .fail { print("FAIL \(check.check): \(check.message) — fix: \(check.fix ?? "")") }
        exit(1)
    }

    // 3. Trade: one limit order with our own id, then read it back.
    let clientOrderId = "bot\(Int(Date().timeIntervalSince1970 * 1000))\(UInt16.random(in: 0...UInt16.max))"
    let ack = try await client.placeOrder(
        OrderRequest(instId: instId, side: side, ordType: "limit", size: size, price: price, clientOrderId: clientOrderId))
    let order = try await client.order(instId: instId, orderId: ack.ordId)
    print("placed \(order.side) \(order.sz ?? 0) \(order.instId) @ \(order.px ?? 0): ordId \(order.ordId), state \(order.state)")
} catch let error as OKXClientError {
    // OKX errors carry their code: 51008 insufficient balance, 50110 IP not allowed, …
    print("exchange refused: \(error)")
    exit(1)
} catch {
    print("error: \(error)")
    exit(1)
}
