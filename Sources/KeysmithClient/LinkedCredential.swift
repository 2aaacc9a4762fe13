import Crypto
import Foundation
import KeysmithCore
import _CryptoExtras

/// One linked exchange key in the vault: where it is used and the credentials. `description` shows no secret.
public struct LinkedCredential: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    /// The exchange's base URL (`https://www.okx.com` or a Keysmith server).
    public let url: String
    public let demo: Bool
    public let credentials: OKXCredentials
    public let createdAt: Date
    public let updatedAt: Date
    /// When `link add`, `link validate` or `link rotate` last found it valid.
    public let validatedAt: Date?

    public init(name: String, url: String, demo: Bool, credentials: OKXCredentials, createdAt: Date = Date(), updatedAt: Date? = nil, validatedAt: Date? = nil) {
        self.name = name
        self.url = url
        self.demo = demo
        self.credentials = credentials
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.validatedAt = validatedAt
    }

    /// A client for this credential's exchange.
    public func client() -> OKXClient {
        OKXClient(baseURL: url, credentials: credentials, demo: demo)
    }

    /// The parts that are not secret (what `vault export-public` prints).
    public var publicInfo: PublicInfo {
        PublicInfo(
            name: name, url: url, demo: demo, apiKey: credentials.apiKey, scheme: credentials.scheme.rawValue,
            createdAt: createdAt, updatedAt: updatedAt, validatedAt: validatedAt)
    }

    public struct PublicInfo: Codable, Sendable, Equatable {
        public let name: String
        public let url: String
        public let demo: Bool
        public let apiKey: String
        public let scheme: String
        public let createdAt: Date
        public let updatedAt: Date
        public let validatedAt: Date?
    }

    public var description: String { "LinkedCredential(name: \(name), url: \(url), demo: \(demo), credentials: \(credentials))" }

    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
            && name.first != "."
    }
}
