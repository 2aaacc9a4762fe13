import KeysmithApp
import HTTPTypes

// The header names Keysmith reads and writes. Constant, valid field names: the initialiser cannot fail.
extension HTTPField.Name {
    static let okAccessKey = Self("OK-ACCESS-KEY")!
    static let okAccessSign = Self("OK-ACCESS-SIGN")!
    static let okAccessTimestamp = Self("OK-ACCESS-TIMESTAMP")!
    static let okAccessPassphrase = Self("OK-ACCESS-PASSPHRASE")!
    static let simulatedTrading = Self("x-simulated-trading")!
    static let xForwardedFor = Self("X-Forwarded-For")!
    static let requestID = Self("x-request-id")!
    static let serverTime = Self("x-server-time")!
    static let retryAfter = Self("Retry-After")!
}
