// Amounts and decimals: Amount(parsing:scale:) and the arithmetic done on parsed client amounts (value at a price,
// sums, rescaling). Input: a byte for the scale (0–20: 19 and 20 must be refused), a byte for a result scale, then
// two decimal texts separated by `|`.
import FuzzSupport
import KeysmithCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = InputReader(inputBytes(data, size))
    let scale = Int(input.byte() % 21)
    let otherScale = Int(input.byte() % 19)
    let text = String(decoding: input.upTo(UInt8(ascii: "|")), as: UTF8.self)
    let otherText = input.restText()

    guard let amount = Amount(parsing: text, scale: scale) else { return 0 }
    property((0...18).contains(scale), "\(text.debugDescription) parsed at scale \(scale)")
    property(text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") },
        "\(text.debugDescription) accepted with characters that are not a decimal")
    property(Amount(parsing: amount.text, scale: scale) == amount, "\(text.debugDescription) → \(amount.text) does not read back")
    property(Amount(parsing: amount.fixedText, scale: scale) == amount, "\(text.debugDescription) → \(amount.fixedText) does not read back")
    if let rescaled = amount.rescaled(to: otherScale) {
        property(rescaled.rescaled(to: scale) == amount, "\(amount.text) rescaled \(scale) → \(otherScale) → \(scale) changed")
        property(rescaled.text == amount.text, "\(amount.text) at scale \(scale) reads \(rescaled.text) at scale \(otherScale)")
    }

    // A second amount in the same scale and one in the other scale, as an order's size and price are.
    if let other = Amount(parsing: otherText, scale: scale) {
        let exact = Int128(amount.units) + Int128(other.units)
        let sum = amount.adding(other)
        property(sum?.units == Int64(exactly: exact), "\(amount.text) + \(other.text) gave \(sum?.text ?? "nil")")
        _ = amount.isMultiple(of: other)
        _ = amount < other
        value(amount, at: other, resultScale: otherScale)
    }
    if let price = Amount(parsing: otherText, scale: otherScale) {
        value(amount, at: price, resultScale: otherScale)
        value(amount, at: price, resultScale: scale)
        value(amount, at: price, resultScale: 18)
    }
    return 0
}

/// `amount × price` never traps: it is a value or nil. Results that need more decimals than the factors have
/// multiply a 128-bit product up; that step is checked unless `amount-value-shift` is set aside.
func value(_ amount: Amount, at price: Amount, resultScale: Int) {
    let shift = resultScale - amount.scale - price.scale
    guard shift <= 0 || !skipped("amount-value-shift") else { return }
    guard let result = amount.value(at: price, scale: resultScale) else { return }
    property(result.scale == resultScale, "\(amount.text) × \(price.text) came back at scale \(result.scale)")
    if shift <= 0 {
        var product = Int128(amount.units) * Int128(price.units)
        for _ in 0..<(-shift) { product /= 10 }
        property(Int128(result.units) == product, "\(amount.text) × \(price.text) at scale \(resultScale) is \(result.text)")
    }
}

runFuzzer(fuzz)
