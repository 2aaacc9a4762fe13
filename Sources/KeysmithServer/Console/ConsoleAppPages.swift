import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

/// Third-party apps whose addresses their linked keys follow.
struct ConsoleAppPages: ConsoleController {
    let shell: ConsoleShell
    let apps: AppService

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("apps", use: guarded { _, context in try await appsPage(context) })
        group.post("apps", use: guarded { request, context in try await addApp(request, context) })
        group.post("apps/:name/remove", use: guarded { request, context in
            try await removeApp(request, context, name: context.parameters.get("name") ?? "")
        })
    }

    func appsPage(_ context: AppRequestContext, form: [String: String] = [:], errors: [String: String] = [:], status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let user = try await requireUser(context)
        var rows: [[String: Any]] = []
        for app in try await apps.apps() {
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
        let ips = ConsoleViews.ipList(fields["ips"] ?? "")
        let url = (fields["url"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            let allowlist: IPAllowlist
            do { allowlist = try IPAllowlist(okx: ips) } catch { throw ConsoleError("ips", error.msg) }
            guard !allowlist.okxString.isEmpty else { throw ConsoleError("ips", "An app needs the IP addresses it calls from.") }
            _ = try await apps.add(name: name, allowlist: allowlist, url: url.isEmpty ? nil : url, origin: origin(request, context, user))
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
            try await apps.remove(name: name, origin: origin(request, context, user))
        } catch {
            throw ConsoleFailure(status: .badRequest, title: "Not removed", message: error.msg, link: "/console/apps")
        }
        flash("App \(name) removed.", context)
        return redirect("/console/apps")
    }
}
