/// The two balances every account has, as OKX numbers them.
public enum BalanceKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Deposits land here; withdrawals leave from here.
    case funding = "6"
    /// Orders use this one.
    case trading = "18"
}

/// One line of a double-entry movement: a change to one account's available and frozen balance of one currency.
/// The account `world` stands for everything outside the exchange (deposits come from it, withdrawals go to it).
public struct LedgerEntry: Sendable, Hashable {
    public static let world = "world"
    /// The exchange's own account, which trading fees are paid to (its trading balances hold what was collected).
    public static let fees = "fees"
    /// The exchange's account for perpetual swaps: it holds the margin of every open position (in its trading
    /// balance) and pays what closing positions release and realise.
    public static let clearing = "swap-clearing"
    /// The exchange's insurance fund for perpetual swaps: it keeps what funding rounding leaves over and covers
    /// what a position could not pay.
    public static let insurance = "swap-insurance"

    public var account: String
    public var kind: BalanceKind
    public var currency: String
    public var availableDelta: Int64
    public var frozenDelta: Int64
    /// For a line of a fill: the order and trade it belongs to and the fee it includes (the account's bill).
    public var trade: TradeLine?

    public init(
        account: String, kind: BalanceKind, currency: String, availableDelta: Int64 = 0, frozenDelta: Int64 = 0,
        trade: TradeLine? = nil
    ) {
        self.account = account
        self.kind = kind
        self.currency = currency
        self.availableDelta = availableDelta
        self.frozenDelta = frozenDelta
        self.trade = trade
    }
}

/// What a ledger line of a fill records for its account's bill (`account/bills` type 2).
public struct TradeLine: Sendable, Hashable {
    /// The account's order; 0 for the order being placed, whose id the store assigns.
    public var order: Int64
    /// The fill's trade id; until the fill is stored, its index among the placement's fills.
    public var trade: Int64
    /// The fee this line's change already includes, in its currency (what was charged: ≥ 0).
    public var fee: Int64

    public init(order: Int64, trade: Int64, fee: Int64 = 0) {
        self.order = order
        self.trade = trade
        self.fee = fee
    }
}

/// A movement of money: entries that, per currency, sum to zero — money is only ever moved, never made or lost
/// (deposits and withdrawals move it from or to ``LedgerEntry/world``).
///
/// ```swift
/// let transfer = LedgerMovement.move(12_000_000, of: "USDT", from: (master, .funding), to: (sub, .funding))
/// transfer.isBalanced   // true
/// ```
public struct LedgerMovement: Sendable, Hashable {
    public var entries: [LedgerEntry]

    public init(entries: [LedgerEntry]) {
        self.entries = entries
    }

    /// Per currency, available plus frozen changes add up to zero.
    public var isBalanced: Bool {
        var sums: [String: Int64] = [:]
        for entry in entries {
            let (partial, o1) = entry.availableDelta.addingReportingOverflow(entry.frozenDelta)
            let (sum, o2) = (sums[entry.currency] ?? 0).addingReportingOverflow(partial)
            guard !o1, !o2 else { return false }
            sums[entry.currency] = sum
        }
        return sums.values.allSatisfy { $0 == 0 }
    }

    /// `units` of available balance from one account balance to another.
    public static func move(
        _ units: Int64, of currency: String, from: (account: String, kind: BalanceKind), to: (account: String, kind: BalanceKind)
    ) -> LedgerMovement {
        LedgerMovement(entries: [
            LedgerEntry(account: from.account, kind: from.kind, currency: currency, availableDelta: -units),
            LedgerEntry(account: to.account, kind: to.kind, currency: currency, availableDelta: units),
        ])
    }

    /// A simulated deposit: from the world into an account's funding balance.
    public static func deposit(_ units: Int64, of currency: String, to account: String) -> LedgerMovement {
        move(units, of: currency, from: (LedgerEntry.world, .funding), to: (account, .funding))
    }

    /// Available → frozen (a withdrawal waiting for approval, an order resting on the book), or back with a negative amount.
    public static func freeze(_ units: Int64, of currency: String, in account: String, kind: BalanceKind) -> LedgerMovement {
        LedgerMovement(entries: [
            LedgerEntry(account: account, kind: kind, currency: currency, availableDelta: -units, frozenDelta: units)
        ])
    }
}
