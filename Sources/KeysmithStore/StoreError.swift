/// Errors of the persistence layer. Descriptions name what went wrong, never a secret or an SQL argument.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case notFound
        case duplicate
        case limitReached
        case invalidMasterKey
        case masterKeyMismatch
        case sealing
        case database
        /// A private file or folder could not be created, written or put in place.
        case file
        /// A balance would go below zero (the database's CHECK constraint refused it).
        case insufficientFunds
        /// A balance or total would not fit 64 bits: refused rather than wrapped or rounded.
        case outOfRange
    }

    /// What a `.duplicate`, `.notFound` or `.limitReached` is about, where the store knows: the caller's answer
    /// (an OKX code) depends on it, and is chosen in one place (KeysmithServer's `StoreError+OKX.swift`).
    public enum Subject: Sendable, Hashable {
        // .duplicate
        case subAccountName, masterAccount, keyLabel, app, alertSink, consoleUser, clientOrderID
        /// An instrument settled at a funding time already (by another node, or twice).
        case fundingSettlement
        /// A currency's decimals cannot change once it has ledger entries.
        case currencyScale
        /// An instrument's tick and lot decimals cannot change once it has orders.
        case instrumentScale
        // .notFound
        case activeKey, openOrder, pendingWithdrawal, maintenanceWindow, feeLevel
        // .limitReached
        case keysPerAccount, dailyWithdrawal, linkedKeys
        /// Settings that wait for open SWAP orders (and positions) to close: the account's modes, and the leverage
        /// of an instrument with pending cross or isolated orders.
        case openSwapOrders, openCrossOrders, openIsolatedOrders
    }

    public let kind: Kind
    public let detail: String
    public let subject: Subject?

    public init(_ kind: Kind, _ detail: String, subject: Subject? = nil) {
        self.kind = kind
        self.detail = detail
        self.subject = subject
    }

    public var description: String { detail }

    public static func notFound(_ detail: String) -> StoreError { StoreError(.notFound, detail) }
    public static func duplicate(_ detail: String) -> StoreError { StoreError(.duplicate, detail) }
    public static func limitReached(_ detail: String) -> StoreError { StoreError(.limitReached, detail) }
    public static func notFound(_ subject: Subject, _ detail: String) -> StoreError { StoreError(.notFound, detail, subject: subject) }
    public static func duplicate(_ subject: Subject, _ detail: String) -> StoreError { StoreError(.duplicate, detail, subject: subject) }
    public static func limitReached(_ subject: Subject, _ detail: String) -> StoreError {
        StoreError(.limitReached, detail, subject: subject)
    }
    public static func invalidMasterKey(_ detail: String) -> StoreError { StoreError(.invalidMasterKey, detail) }
    public static func sealing(_ detail: String) -> StoreError { StoreError(.sealing, detail) }
    public static func database(_ detail: String) -> StoreError { StoreError(.database, detail) }
    public static func file(_ detail: String) -> StoreError { StoreError(.file, detail) }
    public static func insufficientFunds(_ detail: String) -> StoreError { StoreError(.insufficientFunds, detail) }
    public static func outOfRange(_ detail: String) -> StoreError { StoreError(.outOfRange, detail) }
}
