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

    public let kind: Kind
    public let detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { detail }

    public static func notFound(_ detail: String) -> StoreError { StoreError(.notFound, detail) }
    public static func duplicate(_ detail: String) -> StoreError { StoreError(.duplicate, detail) }
    public static func limitReached(_ detail: String) -> StoreError { StoreError(.limitReached, detail) }
    public static func invalidMasterKey(_ detail: String) -> StoreError { StoreError(.invalidMasterKey, detail) }
    public static func sealing(_ detail: String) -> StoreError { StoreError(.sealing, detail) }
    public static func database(_ detail: String) -> StoreError { StoreError(.database, detail) }
    public static func file(_ detail: String) -> StoreError { StoreError(.file, detail) }
    public static func insufficientFunds(_ detail: String) -> StoreError { StoreError(.insufficientFunds, detail) }
    public static func outOfRange(_ detail: String) -> StoreError { StoreError(.outOfRange, detail) }
}
