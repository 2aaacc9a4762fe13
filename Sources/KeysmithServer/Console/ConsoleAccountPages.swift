import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// The dashboard, sub-accounts (create, freeze) and balances (deposits and transfers).
struct ConsoleAccountPages: ConsoleController {
    let shell: ConsoleShell
    let accounts: AccountService
    let ledger: LedgerService
    let keys: KeyService
    let auditStore: any AuditStore

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("", use: guarded { _, context in try await dashboard(context) })
        group.get("subaccounts", use: guarded { _, context in try await subAccountsPage(context) })
        group.post("subaccounts", use: guarded { request, context in try await createSubAccount(request, context) })
        group.post("subaccounts/:name/:state", use: guarded { request, context in
            try await freeze(request, context, name: context.parameters.get("name") ?? "", state: context.parameters.get("state") ?? "")
        })
        group.get("balances", use: guarded { _, context in try await balancesPage(context) })
        group.post("deposits", use: guarded { request, context in try await deposit(request, context) })
        group.post("transfers", use: guarded { request, context in try await transfer(request, context) })
    }

    func dashboard(_ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        var values = try await dashboardValues()
        values["title"] = "Dashboard"
        return page("dashboard", values, context, user: user)
    }

    func subAccountsPage(_ context: AppRequestContext, form: [String: String] = [:], errors: [String: String] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try await requireUser(context)
        let accounts = try await accounts.subAccounts().map(ConsoleViews.account)
        let values: [String: Any] = ["title": "Sub-accounts", "accounts": accounts, "form": form, "errors": errors]
        return page("subaccounts", values, context, user: user, status: status)
    }

    func createSubAccount(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let name = fields["name"] ?? ""
        let subRequest = SubAccountRequest(
            name: name, label: fields["label"] ?? "", level: AccountLevel(rawValue: fields["acctLv"] ?? "2") ?? .spotAndFutures,
            positionMode: PositionMode(rawValue: fields["posMode"] ?? "net_mode") ?? .net, depositsAllowed: fields["deposits"] == "on",
            canTransferOut: fields["transferOut"] == "on")
        do {
            _ = try await accounts.createSubAccount(subRequest, origin: origin(request, context, user))
        } catch {
            return try await subAccountsPage(
                context, form: ["name": name, "label": fields["label"] ?? ""], errors: ["name": error.msg], status: .badRequest)
        }
        flash("Sub-account \(name) created.", context)
        return redirect("/console/subaccounts")
    }

    func freeze(_ request: Request, _ context: AppRequestContext, name: String, state: String) async throws -> Response {
        let user = try await requireUser(context)
        _ = try await form(request, context)
        guard state == "freeze" || state == "unfreeze" else {
            throw ConsoleFailure(status: .notFound, title: "Not found", message: "No such action.", link: "/console/subaccounts")
        }
        do {
            _ = try await accounts.setFrozen(name, state == "freeze", origin: origin(request, context, user))
        } catch {
            throw ConsoleFailure(status: .notFound, title: "Not changed", message: error.msg, link: "/console/subaccounts")
        }
        flash(state == "freeze" ? "Sub-account \(name) frozen: its keys are refused." : "Sub-account \(name) unfrozen.", context)
        return redirect("/console/subaccounts")
    }

    func balancesPage(_ context: AppRequestContext, errors: [String: String] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try await requireUser(context)
        var values: [String: Any] = ["title": "Balances"]
        values["rows"] = try await balanceRows()
        values["accounts"] = try await ConsoleViews.accountChoices(accounts, selected: nil)
        values["currencies"] = try await ledger.currencies().map { currency -> [String: Any] in ["code": currency.code] }
        values["errors"] = errors
        return page("balances", values, context, user: user, status: status)
    }

    func deposit(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let amount = fields["amount"] ?? "", currency = fields["ccy"] ?? ""
        do {
            let account = try await account(named: fields["account"] ?? "")
            _ = try await ledger.deposit(to: account, currency: currency, amount: amount, origin: origin(request, context, user))
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
            let master = try await accounts.master()
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
                _ = try await ledger.subAccountTransfer(
                    currency: currency, amount: amount, from: "6", to: "6", fromSubAccount: fromSub, toSubAccount: toSub, clientID: "",
                    by: master, origin: origin(request, context, user))
            } else {
                let transfer = TransferRequest(type: type, currency: currency, amount: amount, from: "6", to: "6", subAccount: subAccount)
                _ = try await ledger.transfer(transfer, by: master, origin: origin(request, context, user))
            }
            flash("Transferred \(amount) \(currency) from \(from) to \(to).", context)
        } catch {
            return try await balancesPage(context, errors: ["transfer": error.msg], status: .badRequest)
        }
        return redirect("/console/balances")
    }

    func account(named name: String) async throws -> Account {
        name == "master" || name.isEmpty ? try await accounts.master() : try await accounts.subAccount(named: name)
    }

    func dashboardValues() async throws -> [String: Any] {
        let master = try await accounts.master()
        let accounts = [master] + (try await accounts.subAccounts())
        let scales = (try await ledger.currencies()).scales
        // 128-bit sums: the balances of many accounts may add up to more than one balance can hold.
        var totals: [String: (available: Int128, frozen: Int128)] = [:]
        var rows: [[String: Any]] = []
        for account in accounts {
            let balances = try await ledger.balances(of: account)
            var perCurrency: [String: Int128] = [:]
            for balance in balances {
                totals[balance.currency, default: (0, 0)].available += Int128(balance.available)
                totals[balance.currency, default: (0, 0)].frozen += Int128(balance.frozen)
                perCurrency[balance.currency, default: 0] += Int128(balance.available) + Int128(balance.frozen)
            }
            let keys = try await keys.keys(of: account).count
            var row = ConsoleViews.account(account)
            row["keys"] = String(keys)
            var parts: [String] = []
            for (code, units) in perCurrency.sorted(by: { $0.key < $1.key }) where units != 0 {
                parts.append("\(Amount.text(units: units, scale: scales[code] ?? 8)) \(code)")
            }
            row["balances"] = parts.joined(separator: ", ")
            rows.append(row)
        }
        var events: [[String: Any]] = []
        for event in try await auditStore.search(AuditQuery(limit: 200)) where !event.record.action.hasPrefix("GET ") {
            guard events.count < 15 else { break }
            let record = event.record
            events.append(["time": ConsoleViews.time(record.time), "actor": record.actor, "action": record.action, "target": record.target, "result": record.result])
        }
        var totalRows: [[String: Any]] = []
        for (code, value) in totals.sorted(by: { $0.key < $1.key }) {
            let scale = scales[code] ?? 8
            let available = Amount.text(units: value.available, scale: scale)
            let frozen = Amount.text(units: value.frozen, scale: scale)
            totalRows.append(["ccy": code, "available": available, "frozen": frozen])
        }
        return ["accounts": rows, "totals": totalRows, "events": events]
    }

    /// One row per account and currency with a balance, funding and trading apart.
    func balanceRows() async throws -> [[String: Any]] {
        let scales = (try await ledger.currencies()).scales
        var rows: [[String: Any]] = []
        for account in [try await accounts.master()] + (try await accounts.subAccounts()) {
            for balance in try await ledger.balances(of: account) where balance.available != 0 || balance.frozen != 0 {
                let scale = scales[balance.currency] ?? 8
                var row: [String: Any] = [:]
                row["account"] = ConsoleViews.name(account)
                row["kind"] = balance.kind == .funding ? "Funding" : "Trading"
                row["ccy"] = balance.currency
                row["available"] = Amount(units: balance.available, scale: scale).text
                row["frozen"] = Amount(units: balance.frozen, scale: scale).text
                rows.append(row)
            }
        }
        return rows
    }
}
