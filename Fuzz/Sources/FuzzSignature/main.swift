// OK-ACCESS-SIGN: base64 signatures checked by OKXSigner (HMAC-SHA256) and Ed25519Verifier, with fixed keys and a
// fixed signed request. The first byte picks the scheme (bit 0) and what the rest is (bit 1): the header text
// itself, or edits to the real signature (pairs of position and character), which reach the near misses quickly.
import Crypto
import Foundation
import FuzzSupport
import KeysmithCore

let timestamp = "2020-12-08T09:08:57.715Z", method = "POST", requestPath = "/api/v5/asset/transfer"
let body = #"{"ccy":"USDT","amt":"1.5","from":"6","to":"18"}"#

let hmac = RequestSigner.hmac(OKXSigner(secret: "22582BD0CFF14C41EDBF1AB98506286D"))
let ed25519: RequestSigner = {
    guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x2A, count: 32)) else {
        fatalError("fixed Ed25519 key rejected")
    }
    return .ed25519(Ed25519RequestSigner(privateKey: key))
}()
let schemes = [
    (name: "hmac", verifier: hmac.verifier, signature: hmac.signature(timestamp: timestamp, method: method, requestPath: requestPath, body: body)),
    (name: "ed25519", verifier: ed25519.verifier, signature: ed25519.signature(timestamp: timestamp, method: method, requestPath: requestPath, body: body)),
]

let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = InputReader(inputBytes(data, size))
    let mode = input.byte()
    let scheme = schemes[Int(mode & 1)]
    let signature: String
    if mode & 2 == 0 {
        signature = input.restText()
    } else {
        // Positions count from the end (where base64's unused bits are); characters are base64 ones or any byte.
        var characters = Array(scheme.signature.utf8)
        while !input.isEmpty {
            let position = characters.count - 1 - Int(input.byte()) % characters.count
            let character = input.byte()
            characters[position] = character < 0xC0 ? base64Alphabet[Int(character) % 64] : character
        }
        signature = String(decoding: characters, as: UTF8.self)
    }
    let valid = scheme.verifier.isValid(signature: signature, timestamp: timestamp, method: method, requestPath: requestPath, body: body)
    // The Substring path (the server passes header slices) agrees with the String one.
    // The generic path over raw bytes and a header slice (what the server passes) agrees with the String one.
    var parts = (timestamp, method, requestPath, body)
    let sliced = parts.0.withUTF8 { t in
        parts.1.withUTF8 { m in
            parts.2.withUTF8 { p in
                parts.3.withUTF8 { b in
                    scheme.verifier.isValid(
                        signature: signature[...], timestamp: UnsafeRawBufferPointer(t), method: UnsafeRawBufferPointer(m),
                        requestPath: UnsafeRawBufferPointer(p), body: UnsafeRawBufferPointer(b))
                }
            }
        }
    }
    property(valid == sliced, "\(scheme.name): String and Substring verification disagree on \(signature.debugDescription)")
    guard valid else { return 0 }
    // Only the real signature verifies: whatever was accepted decodes to its bytes ...
    property(
        Data(base64Encoded: signature) == Data(base64Encoded: scheme.signature),
        "\(scheme.name): \(signature.debugDescription) verified but is not the signature \(scheme.signature)")
    // ... and is spelt exactly as the signer spells it (base64 has several spellings of the same bytes).
    if !skipped("signature-canonical-base64") {
        property(
            signature == scheme.signature,
            "\(scheme.name): \(signature.debugDescription) verified but is not the canonical base64 \(scheme.signature)")
    }
    return 0
}

runFuzzer(fuzz)
