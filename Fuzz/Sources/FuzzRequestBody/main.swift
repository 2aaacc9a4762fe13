// The parameters of the money-moving and key-creating endpoints, from raw request bytes to typed values, through
// the same calls the routes make. The first byte picks the endpoint; the rest is the JSON body (or, for mode 7,
// a query string):
//   0 asset/transfer   1 trade/order   2 trade/batch-orders   3 asset/withdrawal
//   4 users/subaccount/apikey (create)   5 users/subaccount/modify-apikey   6 asset/subaccount/transfer   7 a query
import FuzzSupport
import KeysmithApp
import KeysmithCore
import KeysmithServer
import NIOCore

let currencies = Dictionary(Currency.defaults.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
let instruments = Dictionary(
    Instrument.defaults.map { ($0.id, $0.withQuoteScale(currencies[$0.quote]?.scale ?? 6)) }, uniquingKeysWith: { first, _ in first })

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = InputReader(inputBytes(data, size))
    let mode = input.byte() % 8
    let bytes = input.rest()
    if mode == 7 {
        query(OKXParameters(query: String(decoding: bytes, as: UTF8.self)))
        return 0
    }
    let body = ByteBuffer(bytes: bytes)
    if mode == 2 {
        guard let items = try? OKXParameters.list(jsonBody: body) else { return 0 }
        for params in items { order(params) }
        return 0
    }
    guard let params = try? OKXParameters(jsonBody: body) else { return 0 }
    switch mode {
    case 0: transfer(params)
    case 1: order(params)
    case 3: withdrawal(params)
    case 4: createKey(params)
    case 5: modifyKey(params)
    default: subAccountTransfer(params)
    }
    return 0
}

/// What every accessor promises, for any parameter name.
func accessors(_ params: OKXParameters, _ name: String) {
    if let value = params.optional(name) { property(!value.isEmpty, "optional(\(name)) is empty") }
    if let value = try? params.required(name) { property(params.optional(name) == value, "required(\(name)) and optional disagree") }
    if let id = try? params.clientIdentifier(name) {
        property(id.utf8.count <= 32 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }, "\(name) \(id.debugDescription) accepted")
    }
    if let limit = try? params.integer(name, in: 1...100, default: 100) { property((1...100).contains(limit), "\(name) \(limit) accepted") }
    _ = params.exact(name)
}

/// A positive amount of a known currency, as ``LedgerService`` and ``WithdrawalService`` read `ccy` and `amt`.
func amount(_ text: String, of code: String) -> Amount? {
    guard let currency = currencies[code.uppercased()], let amount = currency.amount(text) else { return nil }
    property(amount.scale == currency.scale, "\(text.debugDescription) read at scale \(amount.scale)")
    property(Amount(parsing: amount.text, scale: currency.scale) == amount, "\(text.debugDescription) → \(amount.text) does not read back")
    return amount.isPositive ? amount : nil
}

func transfer(_ params: OKXParameters) {
    for name in ["type", "ccy", "amt", "from", "to", "subAcct", "clientId"] { accessors(params, name) }
    guard let request = try? TransferRequest(parameters: params) else { return }
    property(!request.currency.isEmpty && !request.amount.isEmpty && !request.from.isEmpty && !request.to.isEmpty, "empty field in \(request)")
    _ = amount(request.amount, of: request.currency)
    _ = BalanceKind(rawValue: request.from)
    _ = BalanceKind(rawValue: request.to)
}

func subAccountTransfer(_ params: OKXParameters) {
    for name in ["ccy", "amt", "from", "to", "fromSubAccount", "toSubAccount", "clientId"] { accessors(params, name) }
    guard let ccy = try? params.required("ccy"), let amt = try? params.required("amt") else { return }
    _ = amount(amt, of: ccy)
}

func withdrawal(_ params: OKXParameters) {
    for name in ["ccy", "amt", "toAddr", "dest", "chain", "fee", "clientId"] { accessors(params, name) }
    guard let request = try? WithdrawalRequest(parameters: params) else { return }
    _ = amount(request.amount, of: request.currency)
    if let fee = request.fee { _ = amount(fee, of: request.currency) }
}

/// An order's size and price in the instrument's scales, and its notional, as the matching engine reads them.
func order(_ params: OKXParameters) {
    for name in ["instId", "tdMode", "side", "ordType", "sz", "px", "clOrdId", "tag", "tgtCcy"] { accessors(params, name) }
    guard let request = try? OrderRequest(parameters: params) else { return }
    property(request.tag.count <= 16, "tag \(request.tag.debugDescription) kept")
    guard let inst = instruments[request.instrument] else { return }
    let sizes = [Amount(parsing: request.size, scale: inst.lotSize.scale), Amount(parsing: request.size, scale: inst.quoteScale)]
    let price = request.price.flatMap { Amount(parsing: $0, scale: inst.tickSize.scale) }
    for size in sizes.compactMap({ $0 }) {
        _ = size.isMultiple(of: inst.lotSize)
        if size.scale == inst.minimumSize.scale { _ = size >= inst.minimumSize }
        guard let price else { continue }
        _ = inst.notional(price: price.units, size: size.units)
        _ = inst.notionalRoundedUp(price: price.units, size: size.units)
        if inst.quoteScale - price.scale - size.scale <= 0 || !skipped("amount-value-shift") {
            _ = size.value(at: price, scale: inst.quoteScale)
        }
    }
}

func createKey(_ params: OKXParameters) {
    for name in ["subAcct", "label", "passphrase", "perm", "ip"] { accessors(params, name) }
    guard (try? params.required("subAcct")) != nil, (try? params.required("label")) != nil, (try? params.required("passphrase")) != nil
    else { return }
    if let permissions = try? Permissions(okx: params.optional("perm") ?? "read_only") {
        property(permissions.contains(.readOnly), "\(permissions) lacks read_only")
    }
    if let allowlist = try? IPAllowlist(okx: params.optional("ip") ?? "") {
        property(allowlist.entries.count <= IPAllowlist.maximumEntries, "\(allowlist.entries.count) addresses accepted")
    }
}

func modifyKey(_ params: OKXParameters) {
    for name in ["subAcct", "apiKey", "label", "perm", "ip"] { accessors(params, name) }
    _ = params.optional("perm").map { try? Permissions(okx: $0) }
    if let text = params.exact("ip"), let allowlist = try? IPAllowlist(okx: text) {
        // modify-apikey's `ip: ""` unbinds the key; nothing else may.
        property(!allowlist.isEmpty || text.allSatisfy { $0 == "," || $0 == " " || $0 == "\t" }, "\(text.debugDescription) unbinds the key")
    }
}

/// The query of a GET: what the list endpoints read from it.
func query(_ params: OKXParameters) {
    for name in ["ccy", "instId", "instType", "state", "after", "before", "limit", "subAcct", "apiKey", "clientId", "ordId", "clOrdId"] {
        accessors(params, name)
    }
}

runFuzzer(fuzz)
