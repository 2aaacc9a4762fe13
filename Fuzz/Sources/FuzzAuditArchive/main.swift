// Audit archives: JSON lines read back by AuditArchiver.read (what `keysmith audit verify --archive FILE` loads),
// each line an AuditEventLine, walked by an AuditChainVerifier with a fixed checkpoint key.
import Crypto
import Foundation
import FuzzSupport
import KeysmithApp
import KeysmithCore

let file = ScratchFile(name: "audit.jsonl")
let publicKey: Curve25519.Signing.PublicKey = {
    guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x5A, count: 32)) else {
        fatalError("fixed Ed25519 key rejected")
    }
    return key.publicKey
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = InputReader(inputBytes(data, size))
    let bytes = input.rest()
    // Line by line, as the archive reader splits them.
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
        guard let parsed = try? JSONDecoder().decode(AuditEventLine.self, from: Data(line.utf8)) else { continue }
        if let json = try? parsed.jsonLine() {
            let again = try? JSONDecoder().decode(AuditEventLine.self, from: Data(json.utf8))
            property(again == parsed, "\(line.debugDescription) → \(json.debugDescription) does not read back")
        }
        guard let event = parsed.event else { continue }
        _ = event.isIntact
        // What `keysmith audit` prints of an event it read.
        let printed = AuditEventLine(event)
        property(printed.event == event, "\(line.debugDescription) does not survive printing")
    }
    // The whole file, as the CLI reads and verifies it.
    file.write(bytes)
    guard let events = try? AuditArchiver.read(file.url.path) else { return 0 }
    var verifier = AuditChainVerifier(start: .genesis, checkpoints: [], publicKey: publicKey)
    for event in events { verifier.check(event) }
    _ = verifier.finish()
    return 0
}

runFuzzer(fuzz)
