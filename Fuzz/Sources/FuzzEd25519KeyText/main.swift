// Ed25519 key text (PEM, base64 of DER or raw bytes, hex): Ed25519KeyText.publicKey(from:) and privateKey(from:).
import Crypto
import Foundation
import FuzzSupport
import KeysmithCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = InputReader(inputBytes(data, size))
    let text = input.restText()
    if let raw = try? Ed25519KeyText.publicKey(from: text) {
        property(raw.count == 32, "\(text.debugDescription) gave a \(raw.count)-byte public key")
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            property(false, "\(text.debugDescription) gave a public key Crypto refuses")
            return 0
        }
        property((try? Ed25519Verifier(publicKey: raw)) != nil, "\(text.debugDescription): verifier refused its key")
        for form in [Ed25519KeyText.publicKeyPEM(key), Data(raw).base64EncodedString(), raw.lowercaseHex] {
            property((try? Ed25519KeyText.publicKey(from: form)) == raw, "\(text.debugDescription) → \(form.debugDescription) does not read back")
        }
    }
    if let key = try? Ed25519KeyText.privateKey(from: text) {
        let raw = Array(key.rawRepresentation)
        for form in [Ed25519KeyText.privateKeyPEM(key), Data(raw).base64EncodedString(), raw.lowercaseHex] {
            property((try? Ed25519KeyText.privateKey(from: form)).map { Array($0.rawRepresentation) } == raw,
                "a private key does not read back from its \(form.hasPrefix("-----") ? "PEM" : "text") form")
        }
    }
    return 0
}

runFuzzer(fuzz)
