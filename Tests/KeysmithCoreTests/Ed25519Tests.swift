import Foundation
import KeysmithCore
import Testing

/// Vectors made with Python's `cryptography` from the private key bytes 0x00…0x1F (Ed25519 signatures are
/// deterministic), independently of swift-crypto.
struct Ed25519Tests {
    static let pem = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEAA6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=
        -----END PUBLIC KEY-----
        """
    static let hex = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    static let getSignature = "5lDZA7V4jAfXa14fz5X2pxhumqcK4k2+nHmY9piQJbYPoczwWSBlwS4/jNa7w6cDitH11BhG8wxY8XYUa20CAQ=="
    static let postSignature = "Es2SfgduzDcSBddEDTW9os83XQtd9jjg9G2qKtCKeuG3wEFhfly5V3pk6eYGFi9xgQ9bY0r3LW1vAGtutLszDQ=="

    static func verify(_ verifier: Ed25519Verifier, _ signature: String, _ method: String, _ path: String, _ body: String) -> Bool {
        var ts = "2020-12-08T09:08:57.715Z", m = method, p = path, b = body
        return ts.withUTF8 { t in
            m.withUTF8 { mm in
                p.withUTF8 { pp in
                    b.withUTF8 { bb in
                        verifier.isValid(signature: signature, timestamp: UnsafeRawBufferPointer(t), method: UnsafeRawBufferPointer(mm),
                                         requestPath: UnsafeRawBufferPointer(pp), body: UnsafeRawBufferPointer(bb))
                    }
                }
            }
        }
    }

    @Test
    func verifiesSignaturesMadeElsewhere() throws {
        let verifier = try Ed25519Verifier(publicKey: try Ed25519KeyText.publicKey(from: Self.pem))
        #expect(Self.verify(verifier, Self.getSignature, "GET", "/api/v5/account/config", ""))
        #expect(Self.verify(verifier, Self.postSignature, "POST", "/api/v5/users/subaccount/apikey", #"{"subAcct": "bot01trader"}"#))
        // Any change to the signed parts fails, as does another key's signature.
        #expect(!Self.verify(verifier, Self.getSignature, "GET", "/api/v5/account/balance", ""))
        #expect(!Self.verify(verifier, Self.postSignature, "POST", "/api/v5/users/subaccount/apikey", #"{"subAcct":"bot01trader"}"#))
        #expect(!Self.verify(verifier, "not base64", "GET", "/api/v5/account/config", ""))
    }

    @Test
    func readsEveryPublicKeyForm() throws {
        let raw = try Ed25519KeyText.publicKey(from: Self.pem)
        #expect(raw.count == 32)
        #expect(try Ed25519KeyText.publicKey(from: Self.hex) == raw)
        #expect(try Ed25519KeyText.publicKey(from: Data(raw).base64EncodedString()) == raw)
        #expect(try Ed25519KeyText.publicKey(from: "MCowBQYDK2VwAyEAA6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=") == raw)
    }

    @Test(arguments: ["", "hello", String(repeating: "a", count: 63), Data(repeating: 1, count: 31).base64EncodedString(),
                      "MCowBQYDK2VwAyEAA6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbgA"])
    func rejectsMalformedKeys(_ text: String) {
        #expect(throws: OKXError.self) { try Ed25519KeyText.publicKey(from: text) }
    }
}
