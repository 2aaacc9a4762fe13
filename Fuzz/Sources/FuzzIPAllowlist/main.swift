// IP addresses, CIDR ranges and OKX `ip` lists (IPAddress, IPRange, IPAllowlist). The input is two lists
// separated by `|`: the first is parsed entry by entry and as a list, the second is the list it is compared with.
import FuzzSupport
import KeysmithCore

/// What an address or range may be written with: anything else accepted is a parser reading past its input.
let addressCharacters = Set("0123456789abcdefABCDEF.:/".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = InputReader(inputBytes(data, size))
    let text = String(decoding: input.upTo(UInt8(ascii: "|")), as: UTF8.self)
    let otherText = input.restText()

    for part in text.split(separator: ",") {
        if let address = try? IPAddress(part) {
            property(skipped("ip-text-characters") || part.utf8.allSatisfy(addressCharacters.contains),
                "address \(part.debugDescription) accepted with characters no address has")
            property((try? IPAddress(address.description)) == address, "\(part.debugDescription) → \(address) does not read back")
            property((try? IPAddress(address.ipv6Description)) == address, "\(part.debugDescription) → \(address.ipv6Description) does not read back")
        }
        if let range = try? IPRange(part) {
            property(skipped("ip-text-characters") || part.utf8.allSatisfy(addressCharacters.contains),
                "range \(part.debugDescription) accepted with characters no range has")
            property((0...128).contains(range.prefixLength), "\(part.debugDescription): prefix length \(range.prefixLength)")
            property((try? IPRange(range.description)) == range, "\(part.debugDescription) → \(range) does not read back")
            property(range.contains(range.address), "\(range) does not contain its own address")
        }
    }

    guard let list = try? IPAllowlist(okx: text) else { return 0 }
    property(list.entries.count <= IPAllowlist.maximumEntries, "\(list.entries.count) entries accepted")
    property((try? IPAllowlist(okx: list.okxString)) == list, "\(text.debugDescription) → \(list.okxString) does not read back")
    for entry in list.entries {
        property(list.permits(entry.address) && list.covers(entry), "\(list.okxString) does not permit its own entry \(entry)")
    }
    guard let old = try? IPAllowlist(okx: otherText) else { return 0 }
    // What applies at once while a widening cools down never admits an address the old list does not.
    let narrowed = list.narrowed(within: old)
    if !old.isEmpty {
        property(!narrowed.isEmpty, "narrowing \(list.okxString) within \(old.okxString) unbinds the key")
        property(!narrowed.isWider(than: old), "\(list.okxString) narrowed within \(old.okxString) is \(narrowed.okxString), wider than it")
        for entry in narrowed.entries {
            property(old.covers(entry), "\(list.okxString) narrowed within \(old.okxString) keeps \(entry), which it does not cover")
        }
    }
    if !list.isWider(than: old) {
        for entry in list.entries where !old.isEmpty {
            property(old.covers(entry), "\(list.okxString) is not wider than \(old.okxString) yet has \(entry)")
        }
    }
    return 0
}

runFuzzer(fuzz)
