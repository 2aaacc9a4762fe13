// The `perm` parameter of a key (Permissions(okx:)).
import FuzzSupport
import KeysmithCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = InputReader(inputBytes(data, size))
    let text = input.restText()
    guard let permissions = try? Permissions(okx: text) else { return 0 }
    property(permissions.contains(.readOnly), "\(text.debugDescription) parsed without read_only")
    property(permissions.rawValue & ~0b111 == 0, "\(text.debugDescription) parsed to unknown bits \(permissions.rawValue)")
    property((try? Permissions(okx: permissions.okxString)) == permissions, "\(text.debugDescription) → \(permissions) does not read back")
    // Every name accepted is one of OKX's, whatever the spaces around it.
    let names = Set(["read_only", "read", "trade", "withdraw"])
    for part in text.split(separator: ",") {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        let name = String(part.drop(while: blank).reversed().drop(while: blank).reversed())
        property(names.contains(name), "\(text.debugDescription) accepted with the name \(name.debugDescription)")
    }
    return 0
}

runFuzzer(fuzz)
