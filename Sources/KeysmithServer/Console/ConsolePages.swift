import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithStore
import Mustache

/// The console's Mustache templates (package resources), loaded once at start.
struct ConsolePages: Sendable {
    let library: MustacheLibrary

    init() throws {
        guard let folder = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw ConsoleError("templates", "the console templates are missing from the build")
        }
        var templates: [String: MustacheTemplate] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: folder.appending(path: name), encoding: .utf8)
            templates[String(name.dropLast(".mustache".count))] = try MustacheTemplate(string: text)
        }
        library = MustacheLibrary(templates: templates)
    }

    /// An HTML response of template `name` with `values`, the CSRF token (the session's unless `values` has one)
    /// and, when signed in, the user.
    func render(
        _ name: String, status: HTTPResponse.Status = .ok, _ values: [String: Any], session: ConsoleSession?, user: ConsoleUser?
    ) -> Response {
        var values = values
        if values["csrf"] == nil { values["csrf"] = session?.csrf ?? "" }
        if let user { values["user"] = ["email": user.email] }
        if let user { values["email"] = user.email }
        let html = library.render(values, withTemplate: name) ?? "<!doctype html><title>Keysmith</title><p>Page not found.</p>"
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
