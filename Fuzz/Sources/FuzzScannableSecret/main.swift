// Scannable `ks_` secrets: ScannableSecret.isValid and find(in:), which `keysmith scan` runs over any file.
import FuzzSupport
import KeysmithCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = InputReader(inputBytes(data, size))
    let text = input.restText()
    if ScannableSecret.isValid(text) {
        property(text.utf8.count == ScannableSecret.length && text.hasPrefix(ScannableSecret.prefix), "\(text.debugDescription) valid")
        property(ScannableSecret.find(in: text).map(\.secret) == [text], "\(text.debugDescription) is valid but not found alone")
    }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    for (secret, line) in ScannableSecret.find(in: text) {
        property(ScannableSecret.isValid(secret), "found \(secret.debugDescription), which is not valid")
        property((1...lines.count).contains(line) && lines[line - 1].contains(secret), "found \(secret.debugDescription) on line \(line), not there")
        let masked = ScannableSecret.masked(secret)
        property(!masked.contains(secret.dropFirst(ScannableSecret.prefix.count + 4)), "\(masked) shows the secret")
    }
    return 0
}

runFuzzer(fuzz)
