/// The QR code of the TOTP set-up link, as inline SVG.
enum QRCodeSVG {
    /// Nil until a QR encoder is in place; the enrolment page then shows the key and link to copy by hand.
    static func svg(for text: String) -> String? { nil }
}
