// OK-ACCESS-TIMESTAMP: OKXTimestamp.parse over raw header bytes.
import FuzzSupport
import KeysmithCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    let parsed = OKXTimestamp.parse(bytes)
    let text = String(decoding: bytes, as: UTF8.self)
    // The string form reads the same bytes (when they are valid UTF-8, which repair would otherwise change).
    if text.utf8.elementsEqual(bytes) {
        property(OKXTimestamp.milliseconds(from: text) == parsed, "parse and milliseconds(from:) disagree on \(text.debugDescription)")
    }
    if let millis = parsed {
        let formatted = OKXTimestamp.string(fromMilliseconds: millis)
        property(OKXTimestamp.milliseconds(from: formatted) == millis, "\(text.debugDescription) → \(millis) → \(formatted) does not read back")
        // OKX's form is exactly YYYY-MM-DDTHH:MM:SS.sssZ: one spelling per instant.
        if !skipped("timestamp-exact-form") {
            property(formatted == text, "accepted \(text.debugDescription), which is not OKX's form of \(formatted)")
        }
    }
    return 0
}

runFuzzer(fuzz)
