/// OKX's passphrase rule: 8–32 characters with at least one lowercase letter, one uppercase letter,
/// one digit and one special character (anything that is not an ASCII letter or digit, space excepted).
///
/// ```swift
/// try PassphrasePolicy.validate("Abcdef1!")   // ok
/// try PassphrasePolicy.validate("abcdefgh")   // throws 59505 "... missing an uppercase letter, a digit, a special character"
/// ```
public enum PassphrasePolicy {
    public static let minimumLength = 8
    public static let maximumLength = 32

    /// Throws ``OKXError/passphraseFormat`` with a message naming everything that is missing.
    /// The message never repeats the passphrase itself.
    public static func validate(_ passphrase: String) throws(OKXError) {
        let problems = self.problems(with: passphrase)
        guard problems.isEmpty else {
            throw OKXError.passphraseFormat.with(
                message: "The passphrase format is incorrect: " + problems.joined(separator: ", "))
        }
    }

    /// Each unmet part of the rule, in words; empty when the passphrase complies.
    public static func problems(with passphrase: String) -> [String] {
        var problems: [String] = []
        let count = passphrase.count
        if count < minimumLength || count > maximumLength {
            problems.append("it must be \(minimumLength) to \(maximumLength) characters long (it has \(count))")
        }
        var lower = false, upper = false, digit = false, special = false, space = false
        for scalar in passphrase.unicodeScalars {
            switch scalar {
            case "a"..."z": lower = true
            case "A"..."Z": upper = true
            case "0"..."9": digit = true
            case " ", "\t", "\n", "\r": space = true
            default: special = true
            }
        }
        if !lower { problems.append("it needs a lowercase letter") }
        if !upper { problems.append("it needs an uppercase letter") }
        if !digit { problems.append("it needs a digit") }
        if !special { problems.append("it needs a special character such as !@#$%") }
        if space { problems.append("it must not contain whitespace") }
        return problems
    }
}
