import HTTPTypes
import KeysmithApp
import KeysmithCore
import NIOCore

extension SignedRequest {
    /// Reads the five OKX headers in one pass over the fields (rather than one scan per header).
    init(headers: HTTPFields, method: String, target: String, body: ByteBuffer, clientIP: IPAddress?) {
        self.init(
            accessKey: nil, signature: nil, timestamp: nil, passphrase: nil, simulatedTrading: nil, method: method,
            target: target, body: body, clientIP: clientIP)
        for field in headers {
            let name = field.name
            if name == .okAccessKey {
                Self.keep(field, in: &accessKey, repeated: &repeatedHeader)
            } else if name == .okAccessSign {
                Self.keep(field, in: &signature, repeated: &repeatedHeader)
            } else if name == .okAccessTimestamp {
                Self.keep(field, in: &timestamp, repeated: &repeatedHeader)
            } else if name == .okAccessPassphrase {
                Self.keep(field, in: &passphrase, repeated: &repeatedHeader)
            } else if name == .simulatedTrading {
                Self.keep(field, in: &simulatedTrading, repeated: &repeatedHeader)
            }
        }
    }

    private static func keep(_ field: HTTPField, in slot: inout String?, repeated: inout String?) {
        if slot != nil, repeated == nil { repeated = field.name.canonicalName }
        slot = field.value
    }
}
