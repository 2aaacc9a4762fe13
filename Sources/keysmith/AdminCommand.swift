import ArgumentParser
import Foundation
import KeysmithApp
import KeysmithServer

/// `keysmith admin create EMAIL`: a web-console operator. The password comes from a hidden prompt or stdin, never
/// from a flag; two-factor authentication is set up at the first sign-in.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Web-console operators.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a console user; the password (12+ characters) is read from a hidden prompt or one line on stdin.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The operator's email address.") var email: String

        func run() async throws {
            try await options.withInstallation(logger: CLILogging.logger(default: .warning)) { installation in
                let password = try SecretPrompt.line("Password", hidden: true)
                do {
                    let user = try await ConsoleAuth(installation).createUser(email: email, password: password, origin: .cli("admin.create"))
                    if options.json { return try Output.json(["email": user.email, "id": String(user.id)]) }
                    Output.line("Created console user \(user.email); two-factor authentication is set up at the first sign-in at /console.")
                } catch let error as ConsoleError {
                    throw CLIError(error.message)
                }
            }
        }
    }
}
