import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore

/// Sub-accounts and their API keys (`/api/v5/users/subaccount/...`): master-account keys only (59500).
/// Writes additionally require the master key to be IP-bound (50035), as OKX does.
struct SubAccountRoutes {
    let accounts: AccountService
    let keys: KeyService

    func register(read: RouterGroup<AppRequestContext>, trade: RouterGroup<AppRequestContext>) {
        read.get("users/subaccount/list", use: list)
        trade.post("users/subaccount/create-subaccount", use: createSubAccount)
        trade.post("users/subaccount/apikey", use: createKey)
        read.get("users/subaccount/apikey", use: queryKeys)
        trade.post("users/subaccount/modify-apikey", use: modifyKey)
        trade.post("users/subaccount/delete-apikey", use: deleteKey)
    }

    // MARK: - Sub-accounts

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<SubAccountItem> {
        _ = try masterKey(context, mustBeIPBound: false)
        let params = OKXParameters(query: request.uri.query)
        var items = try await accounts.subAccounts()
        if let enable = params.optional("enable") {
            guard enable == "true" || enable == "false" else { throw OKXError.parameterError("enable") }
            items = items.filter { $0.frozen == (enable == "false") }
        }
        if let name = params.optional("subAcct") { items = items.filter { $0.name == name } }
        if let after = try params.optional("after").map(Self.timestamp) { items = items.filter { $0.createdAt < after } }
        if let before = try params.optional("before").map(Self.timestamp) { items = items.filter { $0.createdAt > before } }
        let limit = try params.limit(maximum: 100)
        return OKXResponse(items.sorted { $0.createdAt > $1.createdAt }.prefix(limit).map(SubAccountItem.init))
    }

    @Sendable func createSubAccount(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<CreatedSubAccount> {
        _ = try masterKey(context, mustBeIPBound: true)
        let params = try OKXParameters(jsonBody: context.body)
        if let type = params.optional("type"), type != AccountType.standard.rawValue {
            throw OKXError.parameterError("type").with(message: "Parameter type error: only standard (1) sub-accounts are supported")
        }
        var spec = SubAccountRequest(name: try params.required("subAcct"), label: params.optional("label") ?? "")
        if let level = params.optional("acctLv") {
            guard let parsed = AccountLevel(rawValue: level) else { throw OKXError.parameterError("acctLv") }
            spec.level = parsed
        }
        if let mode = params.optional("posMode") {
            guard let parsed = PositionMode(rawValue: mode) else { throw OKXError.parameterError("posMode") }
            spec.positionMode = parsed
        }
        let account = try await accounts.createSubAccount(spec, origin: context.auditOrigin(request))
        return OKXResponse([CreatedSubAccount(subAcct: account.name, label: account.label, uid: account.uid, ts: String(account.createdAt))])
    }

    // MARK: - Keys

    @Sendable func createKey(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<CreatedKeyItem> {
        let caller = try masterKey(context, mustBeIPBound: true)
        let params = try OKXParameters(jsonBody: context.body)
        let account = try await accounts.subAccount(named: try params.required("subAcct"))
        let label = try params.required("label")
        let passphrase = try params.required("passphrase")
        let permissions = try Permissions(okx: params.optional("perm") ?? "read_only")
        let allowlist = try IPAllowlist(okx: params.optional("ip") ?? "")
        let created = try await keys.create(
            NewKeyRequest(
                account: account, label: label, permissions: permissions, allowlist: allowlist, passphrase: passphrase,
                environment: caller.key.environment), origin: context.auditOrigin(request))
        var response = OKXResponse([CreatedKeyItem(subAcct: account.name, created)])
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func queryKeys(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<KeyItem> {
        _ = try masterKey(context, mustBeIPBound: false)
        let params = OKXParameters(query: request.uri.query)
        let account = try await accounts.subAccount(named: try params.required("subAcct"))
        if let apiKey = params.optional("apiKey") {
            return OKXResponse([KeyItem(try await keys.activeKey(apiKey, of: account))])
        }
        return OKXResponse(try await keys.keys(of: account).map { KeyItem($0) })
    }

    @Sendable func modifyKey(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<KeyItem> {
        _ = try masterKey(context, mustBeIPBound: true)
        let params = try OKXParameters(jsonBody: context.body)
        let account = try await accounts.subAccount(named: try params.required("subAcct"))
        let apiKey = try params.required("apiKey")
        let permissions = try params.optional("perm").map { text throws(OKXError) in try Permissions(okx: text) }
        // OKX: `ip` replaces the list and an explicit "" unbinds every address.
        let allowlist = try params.exact("ip").map { text throws(OKXError) in try IPAllowlist(okx: text) }
        let key = try await keys.modify(
            apiKey: apiKey, of: account, label: params.optional("label"), permissions: permissions, allowlist: allowlist,
            origin: context.auditOrigin(request))
        return OKXResponse([KeyItem(key, subAcct: account.name)])
    }

    @Sendable func deleteKey(_ request: Request, context: AppRequestContext) async throws -> OKXResponse<DeletedKeyItem> {
        let caller = try masterKey(context, mustBeIPBound: true)
        let params = try OKXParameters(jsonBody: context.body)
        let account = try await accounts.subAccount(named: try params.required("subAcct"))
        try await keys.revoke(apiKey: try params.required("apiKey"), of: account, reason: "deleted by master key \(caller.key.apiKey)",
            origin: context.auditOrigin(request))
        return OKXResponse([DeletedKeyItem(subAcct: account.name)])
    }

    // MARK: - Helpers

    private func masterKey(_ context: AppRequestContext, mustBeIPBound: Bool) throws(OKXError) -> CachedKey {
        let cached = try context.requireKey()
        guard cached.account.isMaster else { throw OKXError.masterAccountOnly }
        if mustBeIPBound && cached.key.allowlist.isEmpty { throw OKXError.keyMustBeBoundToIP }
        return cached
    }

    private static func timestamp(_ text: String) throws(OKXError) -> Int64 {
        guard let value = Int64(text) else { throw OKXError.parameterError("after/before") }
        return value
    }
}
