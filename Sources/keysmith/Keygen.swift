import ArgumentParser
import Crypto
import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithStore

struct Keygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a key pair locally for Ed25519 API keys: the private key stays with you.")

    @Argument(help: "The algorithm: ed25519.") var algorithm: String
    @Option(help: "Write the private key (PEM, mode 0600) to this file; the public key goes to FILE.pub.") var out = "keysmith-ed25519.pem"
    @Flag(help: "Print machine-readable JSON.") var json = false

    func run() async throws {
        guard algorithm == "ed25519" else { throw CLIError("only ed25519 key pairs can be generated") }
        let privateKey = Curve25519.Signing.PrivateKey()
        let publicPEM = Ed25519KeyText.publicKeyPEM(privateKey.publicKey)
        // Mode 0600 from the first byte, and never over an existing file.
        do throws(StoreError) {
            try PrivateFile.create(URL(filePath: out), contents: Data(Ed25519KeyText.privateKeyPEM(privateKey).utf8))
        } catch where error.kind == .duplicate {
            throw CLIError("\(out) already exists; choose another --out")
        } catch {
            throw CLIError("cannot write \(out): \(error.detail)")
        }
        guard FileManager.default.createFile(atPath: out + ".pub", contents: Data(publicPEM.utf8)) else {
            throw CLIError("cannot write \(out).pub")
        }
        if json {
            try Output.json(["privateKeyFile": out, "publicKeyFile": out + ".pub", "publicKey": privateKey.publicKey.rawRepresentation.base64EncodedString()])
        } else {
            Output.line("Private key: \(out) (mode 0600; keep it, Keysmith never sees it)\nPublic key:  \(out).pub — register it with: keysmith apikey create --ed25519-public-key \(out).pub ...")
        }
    }
}
