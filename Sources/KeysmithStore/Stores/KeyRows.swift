import Foundation
import KeysmithCore

/// The `account` table's row, as the database holds it.
struct AccountRow {
    var uid: String
    var parent_uid: String?
    var name: String
    var type: String
    var acct_lv: String
    var pos_mode: String
    var deposits_allowed: Bool
    var frozen: Bool
    var label: String
    var can_transfer_out: Bool
    var created_at: Int64

    init(_ account: Account) {
        can_transfer_out = account.canTransferOut
        uid = account.uid
        parent_uid = account.parentUID
        name = account.name
        type = account.type.rawValue
        acct_lv = account.level.rawValue
        pos_mode = account.positionMode.rawValue
        deposits_allowed = account.depositsAllowed
        frozen = account.frozen
        label = account.label
        created_at = account.createdAt
    }

    func account() throws(StoreError) -> Account {
        guard let type = AccountType(rawValue: type), let level = AccountLevel(rawValue: acct_lv),
            let mode = PositionMode(rawValue: pos_mode)
        else { throw StoreError.database("account \(uid) has an unreadable type, level or position mode") }
        return Account(
            uid: uid, parentUID: parent_uid, name: name, type: type, level: level, positionMode: mode,
            depositsAllowed: deposits_allowed, frozen: frozen, label: label, canTransferOut: can_transfer_out, createdAt: created_at)
    }
}

/// The `api_key` table's row, as the database holds it.
struct KeyRow {
    var api_key: String
    var account_uid: String
    var label: String
    var purpose: String
    var app: String?
    var permissions: String
    var ip_allowlist: String
    var algorithm: String
    var environment: String
    var sealed_secret: Data
    var passphrase_verifier: Data
    var created_at: Int64
    var expires_at: Int64?
    var revoked_at: Int64?
    var revoke_reason: String?
    var rate_limit: String?
    var last_used_at: Int64?
    var last_used_ip: String?
    var rotated_from: String?
    var public_key: Data?
    var instruments: String
    var max_order_usdt: String?
    var max_daily_usdt: String?
    var products: String
    var secret_fingerprint: Data?
    var secret_format: String
    var changeSeq: Int64

    init(_ stored: StoredKey) {
        let key = stored.key
        api_key = key.apiKey
        account_uid = key.accountUID
        label = key.label
        purpose = key.purpose.name
        app = key.purpose.app
        permissions = key.permissions.okxString
        ip_allowlist = key.allowlist.okxString
        algorithm = key.algorithm.rawValue
        public_key = stored.publicKey.map { Data($0) }
        instruments = key.trading.instruments.joined(separator: ",")
        max_order_usdt = key.trading.maxOrderUSDT
        max_daily_usdt = key.trading.maxDailyUSDT
        products = key.trading.productsText
        secret_fingerprint = stored.secretFingerprint.map { Data($0) }
        secret_format = key.secretFormat.rawValue
        environment = key.environment.rawValue
        sealed_secret = Data(stored.sealedSecret)
        passphrase_verifier = Data(stored.passphraseVerifier)
        created_at = key.createdAt
        expires_at = key.expiresAt
        revoked_at = key.revokedAt
        revoke_reason = key.revokeReason
        rate_limit = key.rateLimit?.text
        last_used_at = key.lastUsedAt
        last_used_ip = key.lastUsedIP
        rotated_from = key.rotatedFrom
        changeSeq = stored.changeSequence
    }

    func storedKey() throws(StoreError) -> StoredKey {
        let permissions: Permissions
        let allowlist: IPAllowlist
        let rateLimit: RateLimit?
        let trading: TradingRestrictions
        do {
            trading = try TradingRestrictions(
                instruments: instruments, maxOrderUSDT: max_order_usdt, maxDailyUSDT: max_daily_usdt, products: products)
            permissions = try Permissions(okx: self.permissions)
            allowlist = try IPAllowlist(okx: ip_allowlist)
            rateLimit = try rate_limit.map { text throws(OKXError) in try RateLimit(parsing: text) }
        } catch {
            throw StoreError.database("API key \(api_key) has unreadable permissions, IP allowlist or rate limit")
        }
        guard let environment = KeyEnvironment(rawValue: environment), let algorithm = SignatureAlgorithm(rawValue: algorithm) else {
            throw StoreError.database("API key \(api_key) has an unreadable environment or algorithm")
        }
        let purpose: KeyPurpose = app.map { .thirdParty(app: $0) } ?? .own
        var key = APIKey(
            apiKey: api_key, accountUID: account_uid, label: label, purpose: purpose, permissions: permissions,
            allowlist: allowlist, environment: environment, createdAt: created_at, expiresAt: expires_at,
            revokedAt: revoked_at, revokeReason: revoke_reason, rateLimit: rateLimit)
        key.lastUsedAt = last_used_at
        key.lastUsedIP = last_used_ip
        key.rotatedFrom = rotated_from
        key.algorithm = algorithm
        key.trading = trading
        key.secretFormat = SecretFormat(rawValue: secret_format) ?? .hex
        return StoredKey(
            key: key, sealedSecret: Array(sealed_secret), passphraseVerifier: Array(passphrase_verifier),
            publicKey: public_key.map { Array($0) }, secretFingerprint: secret_fingerprint.map { Array($0) },
            changeSequence: changeSeq)
    }
}

extension AccountRow {
    init(_ row: SQLRow) throws(StoreError) {
        uid = try row("uid")
        parent_uid = try row("parent_uid")
        name = try row("name")
        type = try row("type")
        acct_lv = try row("acct_lv")
        pos_mode = try row("pos_mode")
        deposits_allowed = try row("deposits_allowed")
        frozen = try row("frozen")
        label = try row("label")
        can_transfer_out = try row("can_transfer_out")
        created_at = try row("created_at")
    }

    static func account(_ row: SQLRow) throws(StoreError) -> Account {
        try AccountRow(row).account()
    }

    var insert: SQL {
        """
        INSERT INTO account (uid, parent_uid, name, type, acct_lv, pos_mode, deposits_allowed, frozen, label, can_transfer_out,
        created_at) VALUES (\(uid), \(parent_uid), \(name), \(type), \(acct_lv), \(pos_mode), \(deposits_allowed), \(frozen),
        \(label), \(can_transfer_out), \(created_at))
        """
    }
}

extension KeyRow {
    init(_ row: SQLRow) throws(StoreError) {
        api_key = try row("api_key")
        account_uid = try row("account_uid")
        label = try row("label")
        purpose = try row("purpose")
        app = try row("app")
        permissions = try row("permissions")
        ip_allowlist = try row("ip_allowlist")
        algorithm = try row("algorithm")
        environment = try row("environment")
        sealed_secret = try row("sealed_secret")
        passphrase_verifier = try row("passphrase_verifier")
        created_at = try row("created_at")
        expires_at = try row("expires_at")
        revoked_at = try row("revoked_at")
        revoke_reason = try row("revoke_reason")
        rate_limit = try row("rate_limit")
        last_used_at = try row("last_used_at")
        last_used_ip = try row("last_used_ip")
        rotated_from = try row("rotated_from")
        public_key = try row("public_key")
        instruments = try row("instruments")
        max_order_usdt = try row("max_order_usdt")
        max_daily_usdt = try row("max_daily_usdt")
        products = try row("products")
        secret_fingerprint = try row("secret_fingerprint")
        secret_format = try row("secret_format")
        changeSeq = try row("change_seq")
    }

    static func storedKey(_ row: SQLRow) throws(StoreError) -> StoredKey {
        try KeyRow(row).storedKey()
    }

    var insert: SQL {
        """
        INSERT INTO api_key (api_key, account_uid, label, purpose, app, permissions, ip_allowlist, algorithm, environment,
        sealed_secret, passphrase_verifier, created_at, expires_at, revoked_at, revoke_reason, rate_limit, last_used_at,
        last_used_ip, rotated_from, public_key, instruments, max_order_usdt, max_daily_usdt, products, secret_fingerprint,
        secret_format, change_seq) VALUES (\(api_key), \(account_uid), \(label), \(purpose), \(app), \(permissions),
        \(ip_allowlist), \(algorithm), \(environment), \(sealed_secret), \(passphrase_verifier), \(created_at), \(expires_at),
        \(revoked_at), \(revoke_reason), \(rate_limit), \(last_used_at), \(last_used_ip), \(rotated_from), \(public_key),
        \(instruments), \(max_order_usdt), \(max_daily_usdt), \(products), \(secret_fingerprint), \(secret_format), \(changeSeq))
        """
    }
}
