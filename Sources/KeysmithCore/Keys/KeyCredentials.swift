/// The three values a user copies when a key is created: shown once, then never again.
/// Its `description` hides the secret and passphrase so that it can never leak through logging or interpolation.
public struct KeyCredentials: Sendable, Hashable {
    public let apiKey: String
    public let secretKey: String
    public let passphrase: String

    public init(apiKey: String, secretKey: String, passphrase: String) {
        self.apiKey = apiKey
        self.secretKey = secretKey
        self.passphrase = passphrase
    }
}

extension KeyCredentials: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "KeyCredentials(apiKey: \(apiKey), secretKey: <redacted>, passphrase: <redacted>)" }
    public var debugDescription: String { description }
}
