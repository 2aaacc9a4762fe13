import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// The audit log, filtered and paged newest first.
struct ConsoleAuditPages: ConsoleController {
    let shell: ConsoleShell
    let auditStore: any AuditStore

    static let auditPageSize = 50

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("audit", use: guarded { request, context in try await auditPage(request, context) })
    }

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
        let found = try await auditStore.search(query)
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
}
