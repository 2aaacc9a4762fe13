/// The maker and taker rates of one fee level for one instrument type, as OKX writes them: a charge is negative
/// (`-0.001` is 0.1 % of what the order receives). Keysmith charges fees and pays no rebates, so a rate is zero or
/// negative, down to -1 %; at most 8 decimals.
public struct FeeRates: Sendable, Hashable {
    public var maker: Amount
    public var taker: Amount

    /// The decimals a rate may have.
    public static let scale = 8
    /// No fee.
    public static let zero = FeeRates(maker: .zero(scale: scale), taker: .zero(scale: scale))

    public init(maker: Amount, taker: Amount) {
        self.maker = maker
        self.taker = taker
    }

    /// A rate from the operator's text: OKX's form (`-0.001`), the charge as a positive fraction (`0.001`) or a
    /// percentage (`0.1%`), all the same charge; nil for anything else, a rebate, or a charge above 1 %.
    public static func rate(_ text: String) -> Amount? {
        var body = Substring(text)
        let percent = body.hasSuffix("%")
        if percent { body = body.dropLast() }
        if body.hasPrefix("-") { body = body.dropFirst() }
        // u units of a percentage at 6 decimals are u units of a fraction at 8.
        guard !body.hasPrefix("-"), let parsed = Amount(parsing: body, scale: percent ? scale - 2 : scale),
            (0...1_000_000).contains(parsed.units)
        else { return nil }
        return Amount(units: -parsed.units, scale: scale)
    }

    /// What a fill that gives the account `received` units charges it at `rate`, in the same units: rounded up to
    /// the currency's smallest unit, so the fee shown is exactly what the ledger took and no fill escapes a non-zero
    /// rate by being small.
    public static func charge(_ received: Int64, at rate: Amount) -> Int64 {
        guard received > 0, rate.units < 0 else { return 0 }
        var divisor: Int128 = 1
        for _ in 0..<rate.scale { divisor *= 10 }
        let (quotient, remainder) = (Int128(received) * Int128(-rate.units)).quotientAndRemainder(dividingBy: divisor)
        // A rate of at most 1 % keeps the charge below what was received; whatever the rate, it never exceeds it.
        return Int64(min(quotient + (remainder > 0 ? 1 : 0), Int128(received)))
    }
}

/// The fee schedule: the rates of each fee level (`Lv1`, OKX's regular users, by default) per instrument type, and
/// the level of each account that is not on the default one.
public struct FeeSchedule: Sendable, Hashable {
    /// level → instrument type (`SPOT`, `MARGIN`, `SWAP`, `FUTURES`, `OPTION`) → rates.
    public var rates: [String: [String: FeeRates]]
    /// account uid → level, for accounts off ``defaultLevel``.
    public var levels: [String: String]

    public static let defaultLevel = "Lv1"
    public static let instrumentTypes = ["SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"]

    public init(rates: [String: [String: FeeRates]] = [:], levels: [String: String] = [:]) {
        self.rates = rates
        self.levels = levels
    }

    /// OKX's published rates for regular users (Lv1): spot and margin maker 0.08 %, taker 0.1 %; USDT-margined
    /// perpetual and expiry futures maker 0.02 %, taker 0.05 %.
    public static let defaults: [(level: String, instrumentType: String, rates: FeeRates)] = {
        func rates(_ maker: Int64, _ taker: Int64) -> FeeRates {
            FeeRates(maker: Amount(units: maker, scale: FeeRates.scale), taker: Amount(units: taker, scale: FeeRates.scale))
        }
        let spot = rates(-80_000, -100_000), swap = rates(-20_000, -50_000)
        return [("Lv1", "SPOT", spot), ("Lv1", "MARGIN", spot), ("Lv1", "SWAP", swap), ("Lv1", "FUTURES", swap)]
    }()

    /// The account's fee level.
    public func level(of account: String) -> String { levels[account] ?? Self.defaultLevel }

    /// The rates the account pays on `instrumentType`: its level's, or where its level sets none for that type the
    /// default level's; zero where neither does.
    public func rates(account: String, instrumentType: String) -> FeeRates {
        rates[level(of: account)]?[instrumentType] ?? rates[Self.defaultLevel]?[instrumentType] ?? .zero
    }

    /// A level name: 1 to 16 letters and digits (`Lv1`, `VIP2`).
    public static func isValidLevel(_ name: String) -> Bool {
        (1...16).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}
