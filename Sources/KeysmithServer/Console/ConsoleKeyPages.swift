import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// API keys: the list, creating one (its secret shown once), revoking, editing, rotating, and the least-privilege report.
package struct ConsoleKeyPages: ConsoleController {
    let shell: ConsoleShell
    let keys: KeyService
    let accounts: AccountService
    let apps: AppService
    let usage: UsageRecorder
    /// Open WebSocket connections logged in with each key, on this node.
    var webSocketConnections: @Sendable () async -> [String: Int] = { [:] }

    /// The fields of the new-key form that can show an error.
    package static let keyFormFields: Set<String> = ["account", "label", "passphrase", "perm", "ip", "app", "code"]

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("keys", use: guarded { _, context in try await keysPage(context) })
        group.get("keys/new", use: guarded { _, context in try await newKeyPage(context) })
        group.post("keys", use: guarded { request, context in try await createKey(request, context) })
        group.get("keys/:apiKey/revoke", use: guarded { _, context in try await revokePage(context, apiKey: context.parameters.get("apiKey") ?? "") })
        group.post("keys/:apiKey/revoke", use: guarded { request, context in
            try await revoke(request, context, apiKey: context.parameters.get("apiKey") ?? "")
        })
        group.get("keys/:apiKey/edit", use: guarded { _, context in try await editKeyPage(context, apiKey: context.parameters.get("apiKey") ?? "") })
        group.post("keys/:apiKey/edit", use: guarded { request, context in
            try await editKey(request, context, apiKey: context.parameters.get("apiKey") ?? "")
        })
        group.post("keys/:apiKey/rotate", use: guarded { request, context in
            try await rotateKey(request, context, apiKey: context.parameters.get("apiKey") ?? "")
        })
        group.get("review", use: guarded { _, context in try await reviewPage(context) })
    }

    func keysPage(_ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let keys = try await keyRows()
        return page("keys", ["title": "API keys", "keys": keys], context, user: user)
    }

    func newKeyPage(_ context: AppRequestContext, form: [String: String] = [:], errors: [String: String] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try await requireUser(context)
        var session = self.session(context)
        session.keyForm = KeyMaterial.randomBytes(16).lowercaseHex
        save(session, context)
        var values: [String: Any] = ["title": "Create API key", "errors": errors, "keyForm": session.keyForm ?? ""]
        values["accounts"] = try await ConsoleViews.accountChoices(accounts, selected: form["account"])
        values["apps"] = try await appChoices(selected: form["app"])
        values["purposeApp"] = (form["purpose"] ?? "app") == "app"
        var shown: [String: Any] = [:]
        shown["label"] = form["label"] ?? ""
        shown["ip"] = form["ip"] ?? ""
        shown["trade"] = form["trade"] == "on"
        shown["withdraw"] = form["withdraw"] == "on"
        values["form"] = shown
        return page("key-new", values, context, user: user, status: status)
    }

    func createKey(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        var session = self.session(context)
        guard let token = session.keyForm, fields["keyForm"] == token else {
            flash("That form was already submitted; no second key was created.", context)
            return redirect("/console/keys")
        }
        let again: ([String: String]) async throws -> Response = { errors in
            try await newKeyPage(context, form: fields.values, errors: errors, status: .badRequest)
        }
        var permissions = Permissions.readOnly
        if fields["trade"] == "on" { permissions.insert(.trade) }
        if fields["withdraw"] == "on" { permissions.insert(.withdraw) }
        if permissions.contains(.withdraw) {
            do {
                try await auth.verify(code: fields["code"] ?? "", userID: user.id, origin: origin(request, context, user))
            } catch let error as ConsoleError {
                return try await again(["code": "Withdraw permission needs a fresh authenticator code: " + error.message])
            }
        }
        let account: Account
        do {
            let choice = fields["account"] ?? "master"
            account = choice == "master" ? try await accounts.master() : try await accounts.subAccount(named: choice)
        } catch {
            return try await again(["account": error.msg])
        }
        let label = (fields["label"] ?? "").trimmingCharacters(in: .whitespaces)
        let passphrase = (fields["passphrase"] ?? "").isEmpty ? nil : fields["passphrase"]
        var keyRequest: NewKeyRequest
        do {
            if fields["purpose"] == "app", let appName = fields["app"], !appName.isEmpty {
                let app = try await apps.app(named: appName)
                keyRequest = NewKeyRequest(account: account, label: label, linking: app, permissions: permissions, passphrase: passphrase)
            } else {
                let ips = (fields["ip"] ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).joined(separator: ",")
                let allowlist: IPAllowlist
                do { allowlist = try IPAllowlist(okx: ips) } catch { return try await again(["ip": error.msg]) }
                keyRequest = NewKeyRequest(account: account, label: label, permissions: permissions, allowlist: allowlist, passphrase: passphrase)
            }
        } catch {
            return try await again(["app": error.msg])
        }
        let created: CreatedKey
        do {
            created = try await keys.create(keyRequest, origin: origin(request, context, user))
        } catch {
            return try await again([error.field(in: Self.keyFormFields, default: "label"): error.msg])
        }
        session.keyForm = nil
        save(session, context)
        // The one page that shows the secret: rendered in this response only, never stored, never cached.
        let shown = ConsoleViews.oneTimeKey("API key created", created.credentials, created.key, of: account)
        return page("key-created", shown, context, user: user)
    }

    func revokePage(_ context: AppRequestContext, apiKey: String) async throws -> Response {
        let user = try await requireUser(context)
        guard let key = try await key(apiKey), key.revokedAt == nil else { throw ConsoleFailure.noSuchKey }
        let owner = try await keys.owner(of: apiKey)
        let values: [String: Any] = ["title": "Revoke API key", "apiKey": apiKey, "label": key.label, "account": ConsoleViews.name(owner)]
        return page("key-revoke", values, context, user: user)
    }

    func revoke(_ request: Request, _ context: AppRequestContext, apiKey: String) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        do {
            try await keys.revoke(apiKey: apiKey, reason: fields["reason"].flatMap { $0.isEmpty ? nil : $0 } ?? "revoked in the console", origin: origin(request, context, user))
        } catch {
            throw ConsoleFailure(status: .notFound, title: "Not revoked", message: error.msg, link: "/console/keys")
        }
        flash("Key \(apiKey) revoked.", context)
        return redirect("/console/keys")
    }

    func reviewPage(_ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let now = shell.clock.milliseconds
        var rows: [[String: Any]] = []
        for account in [try await accounts.master()] + (try await accounts.subAccounts()) {
            for key in try await keys.keys(of: account) {
                for finding in LeastPrivilege.findings(for: key, now: now) {
                    var row: [String: Any] = [:]
                    row["apiKey"] = key.apiKey
                    row["account"] = ConsoleViews.name(account)
                    row["label"] = key.label
                    row["finding"] = finding.kind.rawValue
                    row["fix"] = finding.fix
                    rows.append(row)
                }
            }
        }
        return page("review", ["title": "Least-privilege report", "findings": rows], context, user: user)
    }

    func keyRows() async throws -> [[String: Any]] {
        let master = try await accounts.master()
        let connections = await webSocketConnections()
        var rows: [[String: Any]] = []
        for account in [master] + (try await accounts.subAccounts()) {
            for key in try await keys.keys(of: account, includeRevoked: true) {
                let expiry = key.expiry(lastUsedAt: usage.lastUse(key.apiKey)?.at)
                var lastUsed = "never"
                if let at = key.lastUsedAt { lastUsed = ConsoleViews.time(at) + (key.lastUsedIP.map { " from \($0)" } ?? "") }
                var row: [String: Any] = [:]
                row["label"] = key.label
                row["account"] = ConsoleViews.name(account)
                row["apiKey"] = key.apiKey
                row["perm"] = key.permissions.okxString
                row["ip"] = key.allowlist.okxString.isEmpty ? "any" : key.allowlist.okxString
                row["app"] = key.purpose.app ?? ""
                row["lastUsed"] = lastUsed
                row["expires"] = expiry.map { ConsoleViews.time($0.at) } ?? "never"
                row["revoked"] = key.revokedAt != nil
                row["connections"] = connections[key.apiKey] ?? 0
                rows.append(row)
            }
        }
        return rows
    }

    func key(_ apiKey: String) async throws -> APIKey? {
        guard let owner = try? await keys.owner(of: apiKey) else { return nil }
        return try await keys.keys(of: owner, includeRevoked: true).first { $0.apiKey == apiKey }
    }

    func appChoices(selected: String?) async throws -> [[String: Any]] {
        var choices: [[String: Any]] = []
        for app in try await apps.apps() {
            choices.append(["name": app.name, "ips": app.allowlist.okxString, "selected": app.name == selected])
        }
        return choices
    }
}
