/// A currency the ledger holds, with what deposits and withdrawals of it need: decimals, its one chain, withdrawal
/// fee and limits. Configured in the database (`keysmith currency …`); USDT, BTC, ETH and OKB by default.
public struct Currency: Sendable, Hashable {
    /// `USDT`, `BTC`, … (uppercase).
    public var code: String
    public var name: String
    /// Decimal places of amounts (the ledger's unit is 10^-scale).
    public var scale: Int
    /// `USDT-TRC20`: the currency code, a dash, the network.
    public var chain: String
    public var withdrawalFee: Amount
    public var minimumWithdrawal: Amount
    public var maximumWithdrawal: Amount
    /// Total withdrawals allowed per account per UTC day.
    public var dailyWithdrawalLimit: Amount
    public var canDeposit: Bool
    public var canWithdraw: Bool

    public init(
        code: String, name: String, scale: Int, chain: String, withdrawalFee: Amount, minimumWithdrawal: Amount,
        maximumWithdrawal: Amount, dailyWithdrawalLimit: Amount, canDeposit: Bool = true, canWithdraw: Bool = true
    ) {
        self.code = code
        self.name = name
        self.scale = scale
        self.chain = chain
        self.withdrawalFee = withdrawalFee
        self.minimumWithdrawal = minimumWithdrawal
        self.maximumWithdrawal = maximumWithdrawal
        self.dailyWithdrawalLimit = dailyWithdrawalLimit
        self.canDeposit = canDeposit
        self.canWithdraw = canWithdraw
    }

    /// An amount of this currency from text; nil for malformed text or too many decimals.
    public func amount(_ text: some StringProtocol) -> Amount? { Amount(parsing: text, scale: scale) }

    public var zero: Amount { .zero(scale: scale) }

    /// The defaults: USDT (6 decimals, TRC20), BTC (8), ETH (8, ERC20), OKB (8, X Layer).
    public static let defaults: [Currency] = [
        make("USDT", "Tether", 6, "USDT-TRC20", fee: "1", min: "2", max: "1000000", daily: "5000000"),
        make("BTC", "Bitcoin", 8, "BTC-Bitcoin", fee: "0.0001", min: "0.0005", max: "100", daily: "500"),
        make("ETH", "Ethereum", 8, "ETH-ERC20", fee: "0.001", min: "0.005", max: "1000", daily: "5000"),
        make("OKB", "OKB", 8, "OKB-X Layer", fee: "0.01", min: "0.1", max: "100000", daily: "500000"),
    ]

    private static func make(
        _ code: String, _ name: String, _ scale: Int, _ chain: String, fee: String, min: String, max: String, daily: String
    ) -> Currency {
        func amount(_ text: String) -> Amount { Amount(parsing: text, scale: scale) ?? .zero(scale: scale) }
        return Currency(
            code: code, name: name, scale: scale, chain: chain, withdrawalFee: amount(fee), minimumWithdrawal: amount(min),
            maximumWithdrawal: amount(max), dailyWithdrawalLimit: amount(daily))
    }
}

extension Array where Element == Currency {
    /// Decimal places by currency code.
    public var scales: [String: Int] { Dictionary(map { ($0.code, $0.scale) }, uniquingKeysWith: { first, _ in first }) }
}
