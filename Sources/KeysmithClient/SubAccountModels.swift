import Foundation

// Codable models of the OKX v5 responses and requests the client speaks. Field names are OKX's; numbers are
// `Decimal?`, times `Date?` (nil where OKX sends ""), comma lists `[String]`.

/// `GET /api/v5/users/subaccount/list` item.
public struct SubAccount: Codable, Sendable, Hashable {
    public var subAcct: String
    @OKXText public var uid: String
    @OKXText public var label: String
    @OKXText public var type: String
    @OKXFlag public var enable: Bool
    @OKXFlag public var canTransOut: Bool
    @OKXMilliseconds public var ts: Date?
}

/// A sub-account API key as listed or modified (`GET`/`POST /api/v5/users/subaccount/(modify-)apikey`): never a secret.
public struct SubAccountAPIKey: Codable, Sendable, Hashable {
    @OKXText public var subAcct: String
    @OKXText public var label: String
    public var apiKey: String
    @OKXList public var perm: [String]
    @OKXList public var ip: [String]
    @OKXMilliseconds public var ts: Date?
}

/// A key just created for a sub-account: the only response that carries its secret and passphrase, which are
/// available only as ``credentials`` and never printed.
public struct CreatedAPIKey: Decodable, Sendable, CustomStringConvertible {
    public let subAcct: String
    public let label: String
    public let perm: [String]
    public let ip: [String]
    public let credentials: OKXCredentials

    private enum CodingKeys: String, CodingKey {
        case subAcct, label, apiKey, secretKey, passphrase, perm, ip
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        subAcct = try c.decode(OKXText.self, forKey: .subAcct).wrappedValue
        label = try c.decode(OKXText.self, forKey: .label).wrappedValue
        perm = try c.decode(OKXList.self, forKey: .perm).wrappedValue
        ip = try c.decode(OKXList.self, forKey: .ip).wrappedValue
        do {
            credentials = try OKXCredentials(
                apiKey: try c.decode(String.self, forKey: .apiKey), secret: try c.decode(String.self, forKey: .secretKey),
                passphrase: try c.decode(String.self, forKey: .passphrase))
        } catch let error as OKXClientError {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: error.description))
        }
    }

    public var description: String { "CreatedAPIKey(subAcct: \(subAcct), label: \(label), perm: \(perm), ip: \(ip), credentials: \(credentials))" }
}

/// `GET /api/v5/users/self/apikey` (Keysmith servers): the calling key's permissions, IPs, expiry and last use.
public struct KeyInfo: Codable, Sendable, Hashable {
    public var apiKey: String
    @OKXText public var label: String
    @OKXList public var perm: [String]
    @OKXList public var ip: [String]
    @OKXText public var uid: String
    @OKXText public var subAcct: String
    /// "live" or "demo".
    @OKXText public var env: String
    @OKXMilliseconds public var ts: Date?
    @OKXMilliseconds public var expTime: Date?
    /// "explicit", "inactivity" (unbound trade keys expire after 14 days unused) or "".
    @OKXText public var expiryReason: String
    @OKXMilliseconds public var lastUsedTs: Date?
    @OKXText public var lastUsedIp: String
}

/// `POST /api/v5/users/subaccount/apikey` body.
struct CreateSubAccountKeyBody: Encodable {
    let subAcct: String
    let label: String
    let passphrase: String
    let perm: String
    let ip: String?
}

/// `POST /api/v5/users/subaccount/modify-apikey` body.
struct ModifySubAccountKeyBody: Encodable {
    let subAcct: String
    let apiKey: String
    let label: String?
    let perm: String?
    let ip: String?
}

/// `POST /api/v5/users/subaccount/delete-apikey` body.
struct DeleteSubAccountKeyBody: Encodable {
    let subAcct: String
    let apiKey: String
}
