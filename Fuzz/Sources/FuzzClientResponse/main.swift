// What the platform-side client reads from a server it talks to (which may be hostile): OKXClient.decode of an
// OKX envelope into each response model. The first byte picks the model; the rest is the response body.
import Foundation
import FuzzSupport
import KeysmithClient

/// Decodes `body` as `[Item]`; whatever decodes survives re-encoding, describing and decoding again.
func check<Item: Codable & Hashable>(_ type: Item.Type, _ body: Data, status: Int) {
    guard let items = try? OKXClient.decode(Item.self, from: body, status: status) else { return }
    for item in items {
        _ = String(describing: item)
        // Re-encoding is what a caller printing a response as JSON does.
        guard !skipped("client-reencode"), let json = try? JSONEncoder().encode(item) else { continue }
        _ = try? JSONDecoder().decode(Item.self, from: json)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = InputReader(inputBytes(data, size))
    let model = input.byte()
    let status = [200, 400, 401, 429, 500][Int(input.byte() % 5)]
    let body = Data(input.rest())
    switch model % 15 {
    case 0: check(ServerTime.self, body, status: status)
    case 1: check(KeysmithClient.Instrument.self, body, status: status)
    case 2: check(Ticker.self, body, status: status)
    case 3: check(AccountConfiguration.self, body, status: status)
    case 4: check(AccountBalance.self, body, status: status)
    case 5: check(AssetBalance.self, body, status: status)
    case 6: check(TransferResult.self, body, status: status)
    case 7: check(TransferState.self, body, status: status)
    case 8: check(WithdrawalResult.self, body, status: status)
    case 9: check(OrderAck.self, body, status: status)
    case 10: check(Order.self, body, status: status)
    case 11: check(SubAccount.self, body, status: status)
    case 12: check(SubAccountAPIKey.self, body, status: status)
    case 13: check(KeyInfo.self, body, status: status)
    default:
        // A created key carries credentials: decoded, described (never showing them), not re-encoded.
        guard let items = try? OKXClient.decode(CreatedAPIKey.self, from: body, status: status) else { return 0 }
        for item in items { _ = item.description }
    }
    return 0
}

runFuzzer(fuzz)
