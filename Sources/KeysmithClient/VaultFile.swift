import Crypto
import Foundation
import KeysmithCore
import _CryptoExtras

/// The vault file's clear header; all of it is authenticated.
struct VaultHeader: Codable, Equatable {
    var kdf: String
    var salt: String?
    var n: Int?
    var r: Int?
    var p: Int?
    var check: String

    static func keyFile() -> VaultHeader { VaultHeader(kdf: "key-file", check: "") }

    static func scrypt() -> VaultHeader {
        VaultHeader(kdf: "scrypt", salt: Data(KeyMaterial.randomBytes(16)).base64EncodedString(), n: 1 << 15, r: 8, p: 1, check: "")
    }

    var authenticatedData: Data {
        Data("keysmith-vault/1|\(kdf)|\(salt ?? "")|\(n ?? 0)|\(r ?? 0)|\(p ?? 0)|\(check)".utf8)
    }
}

struct VaultFile: Codable {
    static let formatName = "keysmith-vault"
    var format = VaultFile.formatName
    var version = 1
    var header: VaultHeader
    var sealed: String

    init(header: VaultHeader, sealed: String) {
        self.header = header
        self.sealed = sealed
    }
}

struct VaultContents: Codable {
    var credentials: [StoredCredential]
}

/// A credential as sealed inside the vault.
struct StoredCredential: Codable {
    let name: String
    let url: String
    let demo: Bool
    let apiKey: String
    let scheme: OKXCredentials.Scheme
    let secret: String
    let passphrase: String
    let createdAt: Double
    let updatedAt: Double
    let validatedAt: Double?

    init(_ credential: LinkedCredential) {
        name = credential.name
        url = credential.url
        demo = credential.demo
        apiKey = credential.credentials.apiKey
        scheme = credential.credentials.scheme
        secret = credential.credentials.secret
        passphrase = credential.credentials.passphrase
        createdAt = credential.createdAt.timeIntervalSince1970
        updatedAt = credential.updatedAt.timeIntervalSince1970
        validatedAt = credential.validatedAt?.timeIntervalSince1970
    }

    func linked() throws -> LinkedCredential {
        LinkedCredential(
            name: name, url: url, demo: demo,
            credentials: try OKXCredentials(apiKey: apiKey, scheme: scheme, secret: secret, passphrase: passphrase),
            createdAt: Date(timeIntervalSince1970: createdAt), updatedAt: Date(timeIntervalSince1970: updatedAt),
            validatedAt: validatedAt.map { Date(timeIntervalSince1970: $0) })
    }
}
