// Vault files (KeysmithClient.CredentialVault.open) with a fixed key. The first byte picks what the rest is:
//   0: the vault file itself, opened with the fixed key;
//   1: the sealed contents (JSON of the credentials): sealed here with the fixed key into a well-formed file, so the
//      parser behind the authentication is reached too.
// No passphrase is given: a scrypt vault is read up to its header and refused before the key derivation, which takes
// a second or more per input (and, with the parameters a header may name, gigabytes) — far too slow to fuzz.
import Crypto
import Foundation
import FuzzSupport
import KeysmithClient
import KeysmithCore

#if canImport(Glibc)
    import Glibc
#endif

let keyBytes = [UInt8](repeating: 0x11, count: 32)
let file = ScratchFile(name: "vault")
let location = VaultLocation(vault: file.url, key: .inline(Data(keyBytes).base64EncodedString()))

/// The key-file header and AES-GCM key of a vault sealed with `keyBytes` (the vault's documented derivation).
let material = SymmetricKey(data: keyBytes)
let encryptionKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: material, info: Data("keysmith-vault/1 encryption".utf8), outputByteCount: 32)
let check = HKDF<SHA256>.deriveKey(inputKeyMaterial: material, info: Data("keysmith-vault/1 key check".utf8), outputByteCount: 16)
    .withUnsafeBytes { Data($0).base64EncodedString() }

func sealedFile(_ contents: [UInt8]) -> [UInt8]? {
    let authenticated = Data("keysmith-vault/1|key-file||0|0|0|\(check)".utf8)
    guard let box = try? AES.GCM.seal(Data(contents), using: encryptionKey, nonce: AES.GCM.Nonce(), authenticating: authenticated),
        let combined = box.combined
    else { return nil }
    let json = #"{"format":"keysmith-vault","version":1,"header":{"kdf":"key-file","check":"\#(check)"},"sealed":"\#(combined.base64EncodedString())"}"#
    return Array(json.utf8)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = InputReader(inputBytes(data, size))
    let mode = input.byte() % 2
    let rest = input.rest()
    if mode == 0 {
        file.write(rest)
    } else {
        guard let sealed = sealedFile(rest) else { return 0 }
        file.write(sealed)
    }
    guard let vault = try? CredentialVault.open(location, passphrase: nil) else { return 0 }
    for credential in vault.credentials {
        _ = credential.description
        _ = credential.publicInfo
    }
    return 0
}

// The vault falls back to this variable when no passphrase is given.
unsetenv("KEYSMITH_VAULT_PASSPHRASE")
runFuzzer(fuzz)
