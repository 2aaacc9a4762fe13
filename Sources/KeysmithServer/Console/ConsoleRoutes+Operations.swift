import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

// The console's operations pages: balances, deposits and transfers; third-party apps; withdrawal addresses and
// approvals; the audit log; alert sinks; the least-privilege report; key edit and rotation; the operator's own
// two-factor settings. Every action calls the same service as the API and CLI, with the console user as actor.
extension ConsoleRoutes {
    func registerOperations(_ group: RouterGroup<AppRequestContext>) {
        group.post("subaccounts/:name/:state", use: guarded { request, context in
            try await freeze(request, context, name: context.parameters.get("name") ?? "", state: context.parameters.get("state") ?? "")
        })
        group.get("balances", use: guarded { _, context in try await balancesPage(context) })
        group.post("deposits", use: guarded { request, context in try await deposit(request, context) })
        group.post("transfers", use: guarded { request, context in try await transfer(request, context) })
        group.get("apps", use: guarded { _, context in try await appsPage(context) })
        group.post("apps", use: guarded { request, context in try await addApp(request, context) })
        group.post("apps/:name/remove", use: guarded { request, context in
            try await removeApp(request, context, name: context.parameters.get("name") ?? "")
        })
        group.get("withdrawals", use: guarded { _, context in try await withdrawalsPage(context) })
        group.post("addresses", use: guarded { request, context in try await addAddress(request, context) })
        group.post("addresses/remove", use: guarded { request, context in try await removeAddress(request, context) })
        group.post("withdrawals/:id/:decision", use: guarded { request, context in
            try await decide(request, context, id: context.parameters.get("id") ?? "", decision: context.parameters.get("decision") ?? "")
        })
        group.get("audit", use: guarded { request, context in try await auditPage(request, context) })
        group.get("alerts", use: guarded { _, context in try await alertsPage(context) })
        group.post("alerts", use: guarded { request, context in try await addSink(request, context) })
        group.post("alerts/:name/remove", use: guarded { request, context in
            try await removeSink(request, context, name: context.parameters.get("name") ?? "")
        })
        group.get("review", use: guarded { _, context in try await reviewPage(context) })
        group.get("keys/:apiKey/edit", use: guarded { _, context in try await editKeyPage(context, apiKey: context.parameters.get("apiKey") ?? "") })
        group.post("keys/:apiKey/edit", use: guarded { request, context in
            try await editKey(request, context, apiKey: context.parameters.get("apiKey") ?? "")
        })
        group.post("keys/:apiKey/rotate", use: guarded { request, context in
            try await rotateKey(request, context, apiKey: context.parameters.get("apiKey") ?? "")
        })
        group.get("security", use: guarded { _, context in try await securityPage(context) })
        group.post("totp/disable", use: guarded { request, context in try await disableTOTP(request, context) })
    }

    // MARK: Freezing sub-accounts

    func freeze(_ request: Request, _ context: AppRequestContext, name: String, state: String) async throws -> Response {
        let user = try await requireUser(context)
        _ = try await form(request, context)
        guard state == "freeze" || state == "unfreeze" else {
            throw ConsoleFailure(status: .notFound, title: "Not found", message: "No such action.", link: "/console/subaccounts")
        }
        do {
            _ = try await installation.accounts.setFrozen(name, state == "freeze", origin: origin(request, context, user))
        } catch {
            throw ConsoleFailure(status: .notFound, title: "Not changed", message: error.msg, link: "/console/subaccounts")
        }
        flash(state == "freeze" ? "Sub-account \(name) frozen: its keys are refused." : "Sub-account \(name) unfrozen.", context)
        return redirect("/console/subaccounts")
    }

    // MARK: Balances, deposits, transfers

    func balancesPage(_ context: AppRequestContext, errors: [String: String] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try await requireUser(context)
        let views = ConsoleViews(installation: installation)
        var values: [String: Any] = ["title": "Balances"]
        values["rows"] = try await views.balanceRows()
        values["accounts"] = try await views.accountChoices(selected: nil)
        values["currencies"] = try await installation.ledger.currencies().map { currency -> [String: Any] in ["code": currency.code] }
        values["errors"] = errors
        return page("balances", values, context, user: user, status: status)
    }

    func deposit(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let amount = fields["amount"] ?? "", currency = fields["ccy"] ?? ""
        do {
            let account = try await account(named: fields["account"] ?? "")
            _ = try await installation.ledger.deposit(to: account, currency: currency, amount: amount, origin: origin(request, context, user))
            flash("Deposited \(amount) \(currency) to \(ConsoleViews.name(account)).", context)
        } catch {
            return try await balancesPage(context, errors: ["deposit": error.msg], status: .badRequest)
        }
        return redirect("/console/balances")
    }

    func transfer(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let from = fields["from"] ?? "master", to = fields["to"] ?? "master"
        let amount = fields["amount"] ?? "", currency = fields["ccy"] ?? ""
        do {
            let master = try await installation.accounts.master()
            // Transfers between the master and a sub-account, or between two sub-accounts, as the master key makes them.
            let type: String
            var subAccount: String?
            var fromSub: String?
            var toSub: String?
            switch (from == "master", to == "master") {
            case (true, true):
                throw ConsoleError("transfer", "Choose two different accounts.")
            case (true, false):
                type = "1"
                subAccount = to
            case (false, true):
                type = "2"
                subAccount = from
            case (false, false):
                type = "2"
                fromSub = from
                toSub = to
            }
            if let fromSub, let toSub {
                guard fromSub != toSub else { throw ConsoleError("transfer", "Choose two different accounts.") }
                _ = try await installation.ledger.subAccountTransfer(
                    currency: currency, amount: amount, from: "6", to: "6", fromSubAccount: fromSub, toSubAccount: toSub, clientID: "",
                    by: master, origin: origin(request, context, user))
            } else {
                let transfer = TransferRequest(type: type, currency: currency, amount: amount, from: "6", to: "6", subAccount: subAccount)
                _ = try await installation.ledger.transfer(transfer, by: master, origin: origin(request, context, user))
            }
            flash("Transferred \(amount) \(currency) from \(from) to \(to).", context)
        } catch {
            return try await balancesPage(context, errors: ["transfer": error.msg], status: .badRequest)
        }
        return redirect("/console/balances")
    }

    func account(named name: String) async throws -> Account {
        name == "master" || name.isEmpty ? try await installation.accounts.master() : try await installation.accounts.subAccount(named: name)
    }

    // MARK: Third-party apps

    func appsPage(_ context: AppRequestContext, form: [String: String] = [:], errors: [String: String] = [:], status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let user = try await requireUser(context)
        var rows: [[String: Any]] = []
        for app in try await installation.apps.apps() {
            var row: [String: Any] = [:]
            row["name"] = app.name
            row["ips"] = app.allowlist.okxString
            row["url"] = app.url ?? ""
            rows.append(row)
        }
        let values: [String: Any] = ["title": "Third-party apps", "apps": rows, "form": form, "errors": errors]
        return page("apps", values, context, user: user, status: status)
    }

    func addApp(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let name = (fields["name"] ?? "").trimmingCharacters(in: .whitespaces)
        let ips = Self.ipList(fields["ips"] ?? "")
        let url = (fields["url"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            let allowlist: IPAllowlist
            do { allowlist = try IPAllowlist(okx: ips) } catch { throw ConsoleError("ips", error.msg) }
            guard !allowlist.okxString.isEmpty else { throw ConsoleError("ips", "An app needs the IP addresses it calls from.") }
            _ = try await installation.apps.add(name: name, allowlist: allowlist, url: url.isEmpty ? nil : url, origin: origin(request, context, user))
        } catch {
            let field = (error as? ConsoleError)?.field ?? "name"
            return try await appsPage(context, form: ["name": name, "ips": fields["ips"] ?? "", "url": url], errors: [field: error.msg], status: .badRequest)
        }
        flash("App \(name) added.", context)
        return redirect("/console/apps")
    }

    func removeApp(_ request: Request, _ context: AppRequestContext, name: String) async throws -> Response {
        let user = try await requireUser(context)
        _ = try await form(request, context)
        do {
            try await installation.apps.remove(name: name, origin: origin(request, context, user))
        } catch {
            throw ConsoleFailure(status: .badRequest, title: "Not removed", message: error.msg, link: "/console/apps")
        }
        flash("App \(name) removed.", context)
        return redirect("/console/apps")
    }

    static func ipList(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).joined(separator: ",")
    }

    // MARK: Withdrawal addresses and approvals

    func withdrawalsPage(_ context: AppRequestContext, form: [String: String] = [:], errors: [String: String] = [:], status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let user = try await requireUser(context)
        let master = try await installation.accounts.master()
        let views = ConsoleViews(installation: installation)
        var addresses: [[String: Any]] = []
        for address in try await installation.withdrawals.addresses(of: master) {
            var row: [String: Any] = [:]
            row["ccy"] = address.currency
            row["address"] = address.address
            row["label"] = address.label
            row["added"] = ConsoleViews.time(address.createdAt)
            addresses.append(row)
        }
        var values: [String: Any] = ["title": "Withdrawals", "addresses": addresses, "form": form, "errors": errors]
        values["pending"] = try await views.withdrawalRows(state: .pending)
        values["recent"] = try await views.withdrawalRows(state: nil)
        values["currencies"] = try await installation.ledger.currencies().map { currency -> [String: Any] in ["code": currency.code] }
        return page("withdrawals", values, context, user: user, status: status)
    }

    func addAddress(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let address = (fields["address"] ?? "").trimmingCharacters(in: .whitespaces)
        let label = (fields["label"] ?? "").trimmingCharacters(in: .whitespaces)
        let currency = fields["ccy"] ?? ""
        let shown = ["address": address, "label": label]
        do {
            try await auth.verify(code: fields["code"] ?? "", userID: user.id, origin: origin(request, context, user))
        } catch {
            return try await withdrawalsPage(
                context, form: shown, errors: ["code": "Adding an address needs a fresh authenticator code: " + error.msg], status: .unauthorized)
        }
        do {
            let master = try await installation.accounts.master()
            _ = try await installation.withdrawals.addAddress(address, label: label, currency: currency, for: master, origin: origin(request, context, user))
        } catch {
            return try await withdrawalsPage(context, form: shown, errors: ["address": error.msg], status: .badRequest)
        }
        flash("Address \(address) added to the \(currency) allowlist.", context)
        return redirect("/console/withdrawals")
    }

    func removeAddress(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let address = fields["address"] ?? "", currency = fields["ccy"] ?? ""
        do {
            let master = try await installation.accounts.master()
            try await installation.withdrawals.removeAddress(address, currency: currency, for: master, origin: origin(request, context, user))
        } catch {
            throw ConsoleFailure(status: .badRequest, title: "Not removed", message: error.msg, link: "/console/withdrawals")
        }
        flash("Address \(address) removed.", context)
        return redirect("/console/withdrawals")
    }

    func decide(_ request: Request, _ context: AppRequestContext, id text: String, decision: String) async throws -> Response {
        let user = try await requireUser(context)
        _ = try await form(request, context)
        guard let id = Int64(text), decision == "approve" || decision == "reject" else {
            throw ConsoleFailure(status: .notFound, title: "No such withdrawal", message: "That withdrawal does not exist.", link: "/console/withdrawals")
        }
        do {
            if decision == "approve" {
                _ = try await installation.withdrawals.approve(id: id, origin: origin(request, context, user))
            } else {
                _ = try await installation.withdrawals.reject(id: id, origin: origin(request, context, user))
            }
        } catch {
            throw ConsoleFailure(status: .badRequest, title: "Not changed", message: error.msg, link: "/console/withdrawals")
        }
        flash("Withdrawal \(id) \(decision == "approve" ? "approved" : "rejected").", context)
        return redirect("/console/withdrawals")
    }

    // MARK: Audit log

    static let auditPageSize = 50

    func auditPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let filters = FormFields(request.uri.query ?? "")
        func value(_ name: String) -> String? {
            guard let text = filters[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        var query = AuditQuery(actor: value("actor"), account: value("account"), action: value("action"), result: value("result"))
        query.beforeSequence = value("before").flatMap { Int64($0) }
        query.limit = Self.auditPageSize + 1
        let found = try await installation.auditStore.search(query)
        let hasOlder = found.count > Self.auditPageSize
        let shown = Array(found.suffix(Self.auditPageSize).reversed())
        var rows: [[String: Any]] = []
        for event in shown {
            let record = event.record
            var row: [String: Any] = [:]
            row["seq"] = String(event.sequence)
            row["time"] = ConsoleViews.time(record.time)
            row["actor"] = record.actor
            row["account"] = record.account
            row["action"] = record.action
            row["target"] = record.target
            row["ip"] = record.clientIP
            row["result"] = record.result
            row["failed"] = record.result != "ok"
            rows.append(row)
        }
        var kept: [String: String] = [:]
        for name in ["actor", "account", "action", "result"] { kept[name] = value(name) ?? "" }
        var values: [String: Any] = ["title": "Audit log", "events": rows, "filters": kept]
        if hasOlder, let oldest = shown.last {
            var components = URLComponents()
            components.queryItems = kept.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
                + [URLQueryItem(name: "before", value: String(oldest.sequence))]
            values["older"] = "/console/audit?" + (components.percentEncodedQuery ?? "")
        }
        if value("before") != nil { values["newest"] = true }
        return page("audit", values, context, user: user)
    }

    // MARK: Alert sinks

    func alertsPage(_ context: AppRequestContext, form: [String: String] = [:], errors: [String: String] = [:], status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let user = try await requireUser(context)
        var rows: [[String: Any]] = []
        let statuses = try await installation.alertSinks.status()
        for sink in try await installation.alertSinks.list() {
            var row: [String: Any] = [:]
            row["name"] = sink.name
            row["kind"] = sink.kind.rawValue
            row["target"] = sink.kind == .email ? "\(sink.emailTo) via \(sink.target)" : Self.withoutSecrets(sink.target)
            row["events"] = sink.events.isEmpty ? "all" : sink.events.map(\.rawValue).sorted().joined(separator: ", ")
            if let state = statuses.first(where: { $0.sink == sink.name }) {
                row["delivery"] = "\(state.delivered) delivered, \(state.pending) pending, \(state.dead) dead"
            }
            rows.append(row)
        }
        let kinds = AlertKind.allCases.map { kind -> [String: Any] in ["value": kind.rawValue] }
        let values: [String: Any] = ["title": "Alert sinks", "sinks": rows, "kinds": kinds, "form": form, "errors": errors]
        return page("alerts", values, context, user: user, status: status)
    }

    /// A Slack or webhook URL may carry a token in its path; the console shows scheme and host only.
    static func withoutSecrets(_ target: String) -> String {
        guard let url = URL(string: target), let scheme = url.scheme, let host = url.host else { return "(set)" }
        return "\(scheme)://\(host)\(url.port.map { ":\($0)" } ?? "")/…"
    }

    func addSink(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let name = (fields["name"] ?? "").trimmingCharacters(in: .whitespaces)
        let target = (fields["target"] ?? "").trimmingCharacters(in: .whitespaces)
        let added: AlertSinks.Added
        do {
            guard let kind = AlertSink.Kind(rawValue: fields["kind"] ?? "") else { throw ConsoleError("kind", "Choose webhook, Slack or email.") }
            let events = Set(AlertKind.allCases.filter { fields["event-\($0.rawValue)"] == "on" })
            added = try await installation.alertSinks.add(
                name: name, kind: kind, target: target, emailFrom: fields["from"] ?? "", emailTo: fields["to"] ?? "", events: events,
                origin: origin(request, context, user))
        } catch {
            return try await alertsPage(context, form: ["name": name], errors: ["sink": error.msg], status: .badRequest)
        }
        guard let secret = added.signingSecret else {
            flash("Alert sink \(name) added.", context)
            return redirect("/console/alerts")
        }
        // A webhook's signing secret is shown on this response only (receivers verify Keysmith-Signature with it).
        let values: [String: Any] = ["title": "Webhook added", "name": name, "signingSecret": secret]
        return page("sink-created", values, context, user: user)
    }

    func removeSink(_ request: Request, _ context: AppRequestContext, name: String) async throws -> Response {
        let user = try await requireUser(context)
        _ = try await form(request, context)
        do {
            try await installation.alertSinks.remove(name: name, origin: origin(request, context, user))
        } catch {
            throw ConsoleFailure(status: .notFound, title: "Not removed", message: error.msg, link: "/console/alerts")
        }
        flash("Alert sink \(name) removed.", context)
        return redirect("/console/alerts")
    }

    // MARK: Least-privilege report

    func reviewPage(_ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let now = installation.clock.milliseconds
        var rows: [[String: Any]] = []
        for account in [try await installation.accounts.master()] + (try await installation.accounts.subAccounts()) {
            for key in try await installation.keys.keys(of: account) {
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

    // MARK: Key edit and rotation

    func editKeyPage(_ context: AppRequestContext, apiKey: String, errors: [String: String] = [:], status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let user = try await requireUser(context)
        guard let key = try await ConsoleViews(installation: installation).key(apiKey), key.revokedAt == nil else { throw ConsoleFailure.noSuchKey }
        let owner = try await installation.keys.owner(of: apiKey)
        var values: [String: Any] = ["title": "Edit API key", "apiKey": apiKey, "account": ConsoleViews.name(owner), "errors": errors]
        values["label"] = key.label
        values["ips"] = key.allowlist.okxString
        values["trade"] = key.permissions.contains(.trade)
        values["withdraw"] = key.permissions.contains(.withdraw)
        values["master"] = owner.isMaster
        if let pending = try await installation.keys.pending(apiKey: apiKey) {
            values["pending"] = "A change waits out the cool-down until \(ConsoleViews.time(pending.effectiveAt))."
        }
        return page("key-edit", values, context, user: user, status: status)
    }

    func editKey(_ request: Request, _ context: AppRequestContext, apiKey: String) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        var permissions = Permissions.readOnly
        if fields["trade"] == "on" { permissions.insert(.trade) }
        if fields["withdraw"] == "on" { permissions.insert(.withdraw) }
        let owner: Account
        let current: APIKey
        do {
            owner = try await installation.keys.owner(of: apiKey)
            guard let key = try await ConsoleViews(installation: installation).key(apiKey) else { throw ConsoleFailure.noSuchKey }
            current = key
        } catch {
            throw ConsoleFailure.noSuchKey
        }
        if permissions.contains(.withdraw) && !current.permissions.contains(.withdraw) {
            do {
                try await auth.verify(code: fields["code"] ?? "", userID: user.id, origin: origin(request, context, user))
            } catch {
                return try await editKeyPage(
                    context, apiKey: apiKey, errors: ["code": "Adding withdraw needs a fresh authenticator code: " + error.msg], status: .unauthorized)
            }
        }
        do {
            let allowlist: IPAllowlist
            do { allowlist = try IPAllowlist(okx: Self.ipList(fields["ips"] ?? "")) } catch { throw ConsoleError("ips", error.msg) }
            _ = try await installation.keys.modify(
                apiKey: apiKey, of: owner, label: (fields["label"] ?? "").trimmingCharacters(in: .whitespaces), permissions: permissions,
                allowlist: allowlist, origin: origin(request, context, user))
        } catch {
            let field = (error as? ConsoleError)?.field ?? "key"
            return try await editKeyPage(context, apiKey: apiKey, errors: [field: error.msg], status: .badRequest)
        }
        let pending = try await installation.keys.pending(apiKey: apiKey)
        flash(pending == nil ? "Key \(apiKey) updated." : "Key \(apiKey) updated; wider permissions or IPs apply after the cool-down.", context)
        return redirect("/console/keys")
    }

    func rotateKey(_ request: Request, _ context: AppRequestContext, apiKey: String) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        // Whole hours, bounded before any arithmetic: the old key keeps working for 0 to 30 days.
        let maximumHours = KeyService.maximumGrace / 3_600_000
        guard let hours = Int64(fields["grace"] ?? "24"), (0...maximumHours).contains(hours) else {
            throw ConsoleFailure(
                status: .badRequest, title: "Not rotated", message: "The grace period is 0 to \(maximumHours) hours (30 days).",
                link: "/console/keys")
        }
        let rotated: RotatedKey
        do {
            rotated = try await installation.keys.rotate(apiKey: apiKey, grace: hours * 3_600_000, origin: origin(request, context, user))
        } catch {
            throw ConsoleFailure(status: .badRequest, title: "Not rotated", message: error.msg, link: "/console/keys")
        }
        let owner = try await installation.keys.owner(of: rotated.key.apiKey)
        // The successor's secret: shown on this response only, like a created key.
        var shown = ConsoleViews.oneTimeKey("API key rotated", rotated.credentials, rotated.key, of: owner)
        shown["rotatedFrom"] = apiKey
        shown["oldKeyExpires"] = ConsoleViews.time(rotated.oldKeyExpiresAt)
        return page("key-created", shown, context, user: user)
    }

    // MARK: The operator's two-factor settings

    func securityPage(_ context: AppRequestContext, errors: [String: String] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try await requireUser(context)
        let values: [String: Any] = ["title": "Security", "errors": errors, "totpEnabled": user.totpEnabled]
        return page("security", values, context, user: user, status: status)
    }

    /// Turns two-factor authentication off with a fresh code; the operator must enrol again before doing anything else.
    func disableTOTP(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let epoch: Int64
        do {
            epoch = try await auth.disableTOTP(userID: user.id, code: fields["code"] ?? "", origin: origin(request, context, user))
        } catch {
            return try await securityPage(context, errors: ["code": error.msg], status: .unauthorized)
        }
        // Every other session of the user has ended; this one continues under the new epoch, at enrolment.
        var session = self.session(context)
        session.stage = .enrol
        session.epoch = epoch
        save(session, context)
        return redirect("/console/totp")
    }
}
