import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// Alert sinks (webhook, Slack, email): their deliveries, adding one (a webhook's signing secret shown once), removing one.
struct ConsoleAlertPages: ConsoleController {
    let shell: ConsoleShell
    let alertSinks: AlertSinks

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("alerts", use: guarded { _, context in try await alertsPage(context) })
        group.post("alerts", use: guarded { request, context in try await addSink(request, context) })
        group.post("alerts/:name/remove", use: guarded { request, context in
            try await removeSink(request, context, name: context.parameters.get("name") ?? "")
        })
    }

    func alertsPage(_ context: AppRequestContext, form: [String: String] = [:], errors: [String: String] = [:], status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let user = try await requireUser(context)
        var rows: [[String: Any]] = []
        let statuses = try await alertSinks.status()
        for sink in try await alertSinks.list() {
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
            added = try await alertSinks.add(
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
            try await alertSinks.remove(name: name, origin: origin(request, context, user))
        } catch {
            throw ConsoleFailure(status: .notFound, title: "Not removed", message: error.msg, link: "/console/alerts")
        }
        flash("Alert sink \(name) removed.", context)
        return redirect("/console/alerts")
    }
}
