import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore
import KeysmithStore

// Editing a key (label, permissions, IPs: wider ones wait out the cool-down) and rotating it.
extension ConsoleKeyPages {
    func editKeyPage(_ context: AppRequestContext, apiKey: String, errors: [String: String] = [:], status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let user = try await requireUser(context)
        guard let key = try await key(apiKey), key.revokedAt == nil else { throw ConsoleFailure.noSuchKey }
        let owner = try await keys.owner(of: apiKey)
        var values: [String: Any] = ["title": "Edit API key", "apiKey": apiKey, "account": ConsoleViews.name(owner), "errors": errors]
        values["label"] = key.label
        values["ips"] = key.allowlist.okxString
        values["trade"] = key.permissions.contains(.trade)
        values["withdraw"] = key.permissions.contains(.withdraw)
        values["master"] = owner.isMaster
        if let pending = try await keys.pending(apiKey: apiKey) {
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
            owner = try await keys.owner(of: apiKey)
            guard let key = try await key(apiKey) else { throw ConsoleFailure.noSuchKey }
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
            do { allowlist = try IPAllowlist(okx: ConsoleViews.ipList(fields["ips"] ?? "")) } catch { throw ConsoleError("ips", error.msg) }
            _ = try await keys.modify(
                apiKey: apiKey, of: owner, label: (fields["label"] ?? "").trimmingCharacters(in: .whitespaces), permissions: permissions,
                allowlist: allowlist, origin: origin(request, context, user))
        } catch {
            let field = (error as? ConsoleError)?.field ?? "key"
            return try await editKeyPage(context, apiKey: apiKey, errors: [field: error.msg], status: .badRequest)
        }
        let pending = try await keys.pending(apiKey: apiKey)
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
            rotated = try await keys.rotate(apiKey: apiKey, grace: hours * 3_600_000, origin: origin(request, context, user))
        } catch {
            throw ConsoleFailure(status: .badRequest, title: "Not rotated", message: error.msg, link: "/console/keys")
        }
        let owner = try await keys.owner(of: rotated.key.apiKey)
        // The successor's secret: shown on this response only, like a created key.
        var shown = ConsoleViews.oneTimeKey("API key rotated", rotated.credentials, rotated.key, of: owner)
        shown["rotatedFrom"] = apiKey
        shown["oldKeyExpires"] = ConsoleViews.time(rotated.oldKeyExpiresAt)
        return page("key-created", shown, context, user: user)
    }
}
