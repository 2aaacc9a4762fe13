import KeysmithApp
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads what must never be a command-line argument (shell history, `ps`): from a prompt on the terminal with echo
/// off, or, when stdin is not a terminal, one value per line from stdin.
enum SecretPrompt {
    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 }

    /// One line; hidden when typed at a terminal. Prompts go to stderr so stdout stays clean.
    static func line(_ prompt: String, hidden: Bool) throws -> String {
        guard isInteractive else {
            guard let line = readLine(strippingNewline: true) else { throw CLIError("expected \(prompt.lowercased()) on stdin") }
            return line.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Echo goes off before the prompt shows, and neither change flushes input: a value typed as soon as the
        // prompt appears must not be discarded (TCSAFLUSH did, and the command then waited for ever).
        var saved = termios()
        let echoOff = hidden && tcgetattr(STDIN_FILENO, &saved) == 0
        if echoOff {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        }
        FileHandle.standardError.write(Data("\(prompt): ".utf8))
        defer {
            if echoOff {
                tcsetattr(STDIN_FILENO, TCSANOW, &saved)
                FileHandle.standardError.write(Data("\n".utf8))
            }
        }
        guard let line = readLine(strippingNewline: true) else { throw CLIError("no \(prompt.lowercased()) given") }
        return line.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// API key, secret and passphrase: three prompts, or three lines on stdin.
    static func credentials() throws -> (apiKey: String, secret: String, passphrase: String) {
        let apiKey = try line("API key", hidden: false)
        let secret = try line("Secret key", hidden: true)
        let passphrase = try line("Passphrase", hidden: true)
        return (apiKey, secret, passphrase)
    }

    /// The vault passphrase: KEYSMITH_VAULT_PASSPHRASE, else a hidden prompt (twice when `confirm`).
    static func vaultPassphrase(confirm: Bool) throws -> String {
        if let value = ProcessInfo.processInfo.environment["KEYSMITH_VAULT_PASSPHRASE"], !value.isEmpty { return value }
        guard isInteractive else { throw CLIError("set KEYSMITH_VAULT_PASSPHRASE or run in a terminal to give the vault passphrase") }
        let first = try line("Vault passphrase", hidden: true)
        guard first.count >= 12 else { throw CLIError("use a vault passphrase of at least 12 characters") }
        if confirm, try line("Repeat the passphrase", hidden: true) != first { throw CLIError("the passphrases differ") }
        return first
    }
}
