/// A master account or one of its sub-accounts.
///
/// ```swift
/// let sub = Account(uid: "1234567890123456", parentUID: master.uid, name: "bot01trader", level: .spotAndFutures,
///                   positionMode: .net, depositsAllowed: true, frozen: false, createdAt: now)
/// sub.isMaster   // false
/// ```
public struct Account: Sendable, Hashable {
    public var uid: String
    /// nil for the master account.
    public var parentUID: String?
    /// The sub-account name (`subAcct`); the master account's is its label ("master").
    public var name: String
    /// OKX account type: "0" master, "1" standard sub-account.
    public var type: AccountType
    public var level: AccountLevel
    public var positionMode: PositionMode
    public var depositsAllowed: Bool
    public var frozen: Bool
    public var label: String
    /// A sub-account that may send funds to its sibling sub-accounts itself (`asset/transfer` type 4).
    public var canTransferOut: Bool
    /// Milliseconds since the epoch.
    public var createdAt: Int64

    public init(
        uid: String, parentUID: String?, name: String, type: AccountType, level: AccountLevel,
        positionMode: PositionMode, depositsAllowed: Bool, frozen: Bool, label: String = "", canTransferOut: Bool = false,
        createdAt: Int64
    ) {
        self.canTransferOut = canTransferOut
        self.uid = uid
        self.parentUID = parentUID
        self.name = name
        self.type = type
        self.level = level
        self.positionMode = positionMode
        self.depositsAllowed = depositsAllowed
        self.frozen = frozen
        self.label = label
        self.createdAt = createdAt
    }

    public var isMaster: Bool { parentUID == nil }

    /// The master account's uid: this account's own when it is the master.
    public var mainUID: String { parentUID ?? uid }
}

/// OKX account type as sent in `type`/`roleType`.
public enum AccountType: String, Sendable, Hashable, CaseIterable {
    case master = "0"
    case standard = "1"
}

/// OKX `acctLv`: "1" spot, "2" spot and futures (the seed's choice), "3" multi-currency margin, "4" portfolio margin.
public enum AccountLevel: String, Sendable, Hashable, CaseIterable {
    case spot = "1"
    case spotAndFutures = "2"
    case multiCurrencyMargin = "3"
    case portfolioMargin = "4"
}

/// OKX `posMode`: `net_mode` (one-way, the seed's choice) or `long_short_mode`.
public enum PositionMode: String, Sendable, Hashable, CaseIterable {
    case net = "net_mode"
    case longShort = "long_short_mode"
}
