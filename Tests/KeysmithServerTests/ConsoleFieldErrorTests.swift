import KeysmithCore
import KeysmithServer
import Testing

/// The console shows an error next to the field it is about, by the parameter the error names (not by words in
/// its message).
@Suite struct ConsoleFieldErrorTests {
    static let fields = ConsoleKeyPages.keyFormFields

    @Test
    func okxErrorsNameTheirField() {
        #expect(OKXError.passphraseFormat.with(message: "needs a digit").field(in: Self.fields, default: "label") == "passphrase")
        #expect(OKXError.duplicateLabel.field(in: Self.fields, default: "perm") == "label")
        #expect(OKXError.parameterError("perm").with(message: "withdraw needs an IP allowlist").field(in: Self.fields, default: "label") == "perm")
        #expect(OKXError.tooManyKeys.field(in: Self.fields, default: "label") == "account")
        #expect(OKXError.tooManyIPs.field(in: Self.fields, default: "label") == "ip")
        #expect(ConsoleError("code", "wrong code").field(in: Self.fields, default: "label") == "code")
    }

    /// A message that mentions another field's name changes nothing: the passphrase error below talks of labels.
    @Test
    func theMessageTextDoesNotChooseTheField() {
        let error = OKXError.passphraseFormat.with(message: "a passphrase cannot repeat the key's label")
        #expect(error.field(in: Self.fields, default: "label") == "passphrase")
        let unnamed = OKXError.systemError.with(message: "passphrase store unavailable")
        #expect(unnamed.field(in: Self.fields, default: "label") == "label")
        #expect(OKXError.parameterError("expires").field(in: Self.fields, default: "label") == "label", "not a field of the form")
    }
}
