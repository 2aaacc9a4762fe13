import KeysmithApp
import KeysmithCore

// Response items of the sub-account endpoints, in OKX's field names. Numbers are strings, as on the wire.

/// A sub-account as `users/subaccount/list` returns it (and `keysmith subaccount list --json` prints it).
public struct SubAccountItem: Encodable, Sendable {
    let type: String
    let enable: Bool
    let subAcct: String
    let uid: String
    let label: String
    let mobile = ""
    let gAuth = false
    let frozenFunc: [String] = []
    let canTransOut: Bool
    let ts: String
    let subAcctLv = "1"
    let firstLvSubAcct: String
    let ifDma = false
    /// Keysmith extensions: the seed's account settings.
    let acctLv: String
    let posMode: String
    let canDep: Bool

    public init(_ account: Account) {
        type = account.type.rawValue
        enable = !account.frozen
        subAcct = account.name
        uid = account.uid
        label = account.label
        ts = String(account.createdAt)
        firstLvSubAcct = account.name
        acctLv = account.level.rawValue
        posMode = account.positionMode.rawValue
        canDep = account.depositsAllowed
        canTransOut = account.canTransferOut
    }
}

struct CreatedSubAccount: Encodable, Sendable {
    let subAcct: String
    let label: String
    let uid: String
    let ts: String
}

/// The create-apikey item: the only response that ever carries a secret and passphrase.
struct CreatedKeyItem: Encodable, Sendable {
    let subAcct: String
    let label: String
    let apiKey: String
    let secretKey: String
    let passphrase: String
    let perm: String
    let ip: String
    let ts: String

    init(subAcct: String, _ created: CreatedKey) {
        self.subAcct = subAcct
        label = created.key.label
        apiKey = created.key.apiKey
        secretKey = created.credentials.secretKey
        passphrase = created.credentials.passphrase
        perm = created.key.permissions.okxString
        ip = created.key.allowlist.okxString
        ts = String(created.key.createdAt)
    }
}

/// A key as `users/subaccount/apikey` (query) and `modify-apikey` return it; `subAcct` only in the latter.
struct KeyItem: Encodable, Sendable {
    let subAcct: String?
    let label: String
    let apiKey: String
    let perm: String
    let ip: String
    let ts: String

    init(_ key: APIKey, subAcct: String? = nil) {
        self.subAcct = subAcct
        label = key.label
        apiKey = key.apiKey
        perm = key.permissions.okxString
        ip = key.allowlist.okxString
        ts = String(key.createdAt)
    }
}

struct DeletedKeyItem: Encodable, Sendable {
    let subAcct: String
}
