import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// Withdrawal addresses (each added with a fresh authenticator code) and the approval of pending withdrawals.
struct ConsoleWithdrawalPages: ConsoleController {
    let shell: ConsoleShell
    let accounts: AccountService
    let withdrawals: WithdrawalService
    let ledger: LedgerService

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("withdrawals", use: guarded { _, context in try await withdrawalsPage(context) })
        group.post("addresses", use: guarded { request, context in try await addAddress(request, context) })
        group.post("addresses/remove", use: guarded { request, context in try await removeAddress(request, context) })
        group.post("withdrawals/:id/:decision", use: guarded { request, context in
            try await decide(request, context, id: context.parameters.get("id") ?? "", decision: context.parameters.get("decision") ?? "")
        })
    }

    func withdrawalsPage(_ context: AppRequestContext, form: [String: String] = [:], errors: [String: String] = [:], status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let user = try await requireUser(context)
        let master = try await accounts.master()
        var addresses: [[String: Any]] = []
        for address in try await withdrawals.addresses(of: master) {
            var row: [String: Any] = [:]
            row["ccy"] = address.currency
            row["address"] = address.address
            row["label"] = address.label
            row["added"] = ConsoleViews.time(address.createdAt)
            addresses.append(row)
        }
        var values: [String: Any] = ["title": "Withdrawals", "addresses": addresses, "form": form, "errors": errors]
        values["pending"] = try await withdrawalRows(state: .pending)
        values["recent"] = try await withdrawalRows(state: nil)
        values["currencies"] = try await ledger.currencies().map { currency -> [String: Any] in ["code": currency.code] }
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
            let master = try await accounts.master()
            _ = try await withdrawals.addAddress(address, label: label, currency: currency, for: master, origin: origin(request, context, user))
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
            let master = try await accounts.master()
            try await withdrawals.removeAddress(address, currency: currency, for: master, origin: origin(request, context, user))
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
                _ = try await withdrawals.approve(id: id, origin: origin(request, context, user))
            } else {
                _ = try await withdrawals.reject(id: id, origin: origin(request, context, user))
            }
        } catch {
            throw ConsoleFailure(status: .badRequest, title: "Not changed", message: error.msg, link: "/console/withdrawals")
        }
        flash("Withdrawal \(id) \(decision == "approve" ? "approved" : "rejected").", context)
        return redirect("/console/withdrawals")
    }

    /// Withdrawals of every account (newest first), optionally only those in `state`.
    func withdrawalRows(state: WithdrawalState?) async throws -> [[String: Any]] {
        let scales = (try await ledger.currencies()).scales
        var names: [String: String] = [:]
        for account in [try await accounts.master()] + (try await accounts.subAccounts()) {
            names[account.uid] = ConsoleViews.name(account)
        }
        var rows: [[String: Any]] = []
        for record in try await withdrawals.withdrawals(of: nil, state: state, limit: 50) {
            var row: [String: Any] = [:]
            row["id"] = String(record.id)
            row["account"] = names[record.account] ?? record.account
            row["ccy"] = record.currency
            row["amount"] = Amount(units: record.amount, scale: scales[record.currency] ?? 8).text
            row["address"] = record.address
            row["state"] = record.state.name
            row["time"] = ConsoleViews.time(record.createdAt)
            row["pending"] = record.state == .pending
            rows.append(row)
        }
        return rows
    }
}
